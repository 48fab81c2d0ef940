import ArgumentParser
import Foundation
import Logging
import TTADDaemon
import TTADModel
import TTADProtocol
import TTADScenario
import TTADZMQ

/// The main job on its bundled default: start the daemon with a config (deploy/ttad.toml, image
/// mode on the bundled Fashion-MNIST CLIP, by default), feed it a drifting stream over real
/// ZeroMQ sockets, and print a live summary of what comes back. In image mode the stream is
/// Fashion-MNIST test images, clean and then under each corruption; in embedding mode it is a
/// synthetic drifting stream of noisy class embeddings.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the daemon on a config and a drifting demo stream; print a live summary.",
        discussion: """
        Endpoints are replaced by ephemeral loopback ports and, unless --state-dir is given, the \
        state goes to a fresh temporary directory, so the demo never disturbs an installed daemon.
        """)

    @Option(name: .shortAndLong, help: "Daemon configuration.")
    var config: String = "deploy/ttad.toml"

    @Option(help: "Image mode: Fashion-MNIST test images per domain (clean + 10 corruptions).")
    var perDomain: Int = 500

    // A camera group's rate: live adaptation keeps up with it on the bundled model. Flat out, the
    // worker skips most samples and the adapted model follows the stream less.
    @Option(help: "Image mode: samples per second, as a camera group sends them (0: as fast as the daemon takes them).")
    var rate: Double = 100

    @Option(help: "Image mode: severity of the corruptions (1…5).")
    var severity: Int = 3

    @Option(help: "Directory of the Fashion-MNIST IDX files (image mode).")
    var datasetDir: String = FashionMNIST.defaultDirectory

    @Option(help: "Embedding mode: samples per phase (clean, drifting, heavy drift).")
    var samplesPerPhase: Int = 20_000

    @Option(help: "Random seed of the stream.")
    var seed: UInt64 = 1

    @Option(help: "State directory (default: a new temporary directory).")
    var stateDir: String?

    mutating func validate() throws {
        if perDomain < 1 || samplesPerPhase < 1 { throw ValidationError("--per-domain and --samples-per-phase must be ≥ 1") }
        if !(rate >= 0) { throw ValidationError("--rate must be ≥ 0") }
        if !(1...5).contains(severity) { throw ValidationError("--severity must be 1…5") }
    }

    func run() throws {
        BLASCoreSelection.reexecIfFasterKernelsAvailable()
        StreamInterrupt.install()
        let daemon = try InProcessDaemon(configPath: config, stateDirectory: stateDir, deterministic: false, label: "demo")
        defer { daemon.stop() }
        let cfg = daemon.config
        switch cfg.daemon.mode {
        case .image:
            // The source model alone on the same stream, for the gain column (none to compare
            // with when the daemon itself runs frozen).
            var sourceConfig = try InProcessDaemon.configuration(configPath: config, stateDirectory: nil, deterministic: false,
                                                                 label: "demo-source")
            sourceConfig.adaptation.preset = .frozen
            let source = cfg.adaptation.preset == .frozen ? nil
                : try InProcessDaemon(config: sourceConfig, removeState: true, label: "demo-source")
            defer { source?.stop() }
            let demo = ImageDemo(perDomain: perDomain, severity: severity, seed: seed, datasetDir: datasetDir, rate: rate)
            try demo.run(daemon: daemon, source: source, classNames: cfg.model.classNames)
        case .embedding:
            try runEmbedding(daemon: daemon)
        }
        let m = daemon.daemon.metrics.exposition()
        let text = String(decoding: m, as: UTF8.self)
        let rejected = text.split(separator: "\n").filter {
            $0.hasPrefix("ttad_samples_rejected_total{") && !$0.hasSuffix(" 0") && !$0.contains("bad_json")
        }
        say("\nrejections counted by the daemon: " + (rejected.isEmpty ? "none" : rejected.joined(separator: ", "))
            + " (the connection probe's bad_json not shown)")
    }

    private func runEmbedding(daemon: InProcessDaemon) throws {
        let cfg = daemon.config
        let classes = try ClassEmbeddings.load(path: cfg.classifier.classEmbeddings, tensorName: cfg.classifier.tensorName,
                                               classNamesPath: cfg.classifier.classNames)
        say("ttad demo: \(classes.count) classes × \(classes.dimension) dims from \(cfg.classifier.classEmbeddings)")
        say("daemon ingest \(daemon.ingestEndpoint), publish \(daemon.publishEndpoint)")

        // Noise norms relative to the unit class vectors: the cosine to the true class falls from
        // about 0.3 to 0.1 while the other classes stay near 0, so accuracy and entropy move.
        let phases: [(String, Float)] = [("clean", 3), ("drifting", 7), ("heavy drift", 11)]
        let feed = try DemoFeed(ingest: daemon.ingestEndpoint, publish: daemon.publishEndpoint)
        var stream = SyntheticStream(classes: classes, seed: seed)
        var rows: [DemoFeed.Tally] = []
        for (name, noise) in phases {
            let tally = try feed.runPhase(name: name, count: samplesPerPhase, badEvery: 5_000) { stream.next(noise: noise) }
            rows.append(tally)
        }
        say("")
        say("| phase | samples | accuracy | mean entropy (nats) | errors | samples/s |")
        say("|---|---|---|---|---|---|")
        for t in rows { say(t.row) }
    }
}

/// Sends samples over PUSH and matches the predictions coming back on SUB.
final class DemoFeed {
    struct Tally {
        var name: String
        var samples = 0
        var correct = 0
        var entropySum = 0.0
        var errors = 0
        var seconds = 0.0
        var row: String {
            let acc = samples > 0 ? 100 * Double(correct) / Double(samples) : 0
            return "| \(name) | \(samples) | \(String(format: "%.1f %%", acc)) | \(String(format: "%.3f", samples > 0 ? entropySum / Double(samples) : 0)) | \(errors) | \(String(format: "%.0f", Double(samples + errors) / max(seconds, 1e-9))) |"
        }
    }

    private let connection: DaemonConnection
    private var push: ZMQSocket { connection.push }
    private var sub: ZMQSocket { connection.sub }
    private let encoder = SampleEncoder()
    private let decoder = OutputDecoder()
    private var seq: UInt64 = 0
    private let live = isatty(STDOUT_FILENO) != 0

    init(ingest: String, publish: String) throws {
        connection = try DaemonConnection(ingest: ingest, publish: publish, topics: ["pred/demo", "error"])
    }

    func runPhase(name: String, count: Int, badEvery: Int, next: () -> (label: Int, values: [Float])) throws -> Tally {
        var t = Tally(name: name)
        var labels: [UInt64: Int] = [:]
        let start = Date()
        var lastPrint = start
        var sent = 0, answered = 0
        var bad = 0
        try sub.setReceiveTimeout(milliseconds: 0)
        func collect() throws {
            while let f = try sub.receiveMultipart(dontWait: true) {
                switch try decoder.decode(frames: f) {
                case .prediction(let p):
                    answered += 1
                    t.samples += 1
                    t.entropySum += Double(p.entropy)
                    if let l = labels.removeValue(forKey: p.seq), p.top.first?.index == l { t.correct += 1 }
                case .error(let e) where e.stream == "demo":
                    answered += 1
                    t.errors += 1
                default: break
                }
            }
        }
        while sent < count {
            let (label, values) = next()
            var frames = encoder.encodeEmbedding(id: "demo-\(seq)", stream: "demo", seq: seq, values: values, label: .index(label))
            if badEvery > 0 && (sent + 1) % badEvery == 0 {
                // A sample a broken producer might send: a NaN in the vector. Rejected and counted.
                frames[2].replaceSubrange(0..<4, with: SampleEncoder.embeddingPayload([.nan]))
                bad += 1
            } else {
                labels[seq] = label
            }
            _ = try push.send(frames)
            seq += 1
            sent += 1
            if sent % 256 == 0 { try collect() }
            if live && Date().timeIntervalSince(lastPrint) > 0.5 {
                lastPrint = Date()
                printLive(t, answered: answered)
            }
        }
        let deadline = Date().addingTimeInterval(10)
        while answered < sent && Date() < deadline {
            try collect()
            if answered < sent { Thread.sleep(forTimeInterval: 0.002) }
        }
        t.seconds = Date().timeIntervalSince(start)
        if live { printLive(t, answered: answered); say("") }
        else { say(t.row) }
        return t
    }

    private func printLive(_ t: Tally, answered: Int) {
        let acc = t.samples > 0 ? 100 * Double(t.correct) / Double(t.samples) : 0
        let ent = t.samples > 0 ? t.entropySum / Double(t.samples) : 0
        let line = String(format: "\r%-12@ answered %7d | accuracy %5.1f %% | entropy %.3f nats | errors %d   ",
                          t.name as NSString, answered, acc, ent, t.errors)
        FileHandle.standardOutput.write(Data(line.utf8))
    }
}

/// Line output that stays in order with the unbuffered live status line.
func say(_ s: String) {
    FileHandle.standardOutput.write(Data((s + "\n").utf8))
}
