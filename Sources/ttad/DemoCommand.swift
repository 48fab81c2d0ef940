import ArgumentParser
import Foundation
import Logging
import TTADDaemon
import TTADModel
import TTADProtocol
import TTADZMQ

/// The main job on its bundled default: start the daemon with a config (the example config and
/// its bundled class embeddings by default), feed it a drifting synthetic embedding stream over
/// real ZeroMQ sockets, and print a live summary of what comes back.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the daemon on a config and a synthetic drifting stream; print a live summary.",
        discussion: """
        Endpoints are replaced by ephemeral loopback ports and, unless --state-dir is given, the \
        state goes to a fresh temporary directory, so the demo never disturbs an installed daemon.
        """)

    @Option(name: .shortAndLong, help: "Daemon configuration.")
    var config: String = "deploy/ttad.toml"

    @Option(help: "Samples per phase (clean, drifting, heavy drift).")
    var samplesPerPhase: Int = 20_000

    @Option(help: "Random seed of the synthetic stream.")
    var seed: UInt64 = 1

    @Option(help: "State directory (default: a new temporary directory).")
    var stateDir: String?

    func run() throws {
        BLASCoreSelection.reexecIfFasterKernelsAvailable()
        var cfg = try ConfigLoader.load(path: config)
        cfg.ingest.pattern = .pull
        cfg.ingest.bind = true
        cfg.ingest.endpoints = ["tcp://127.0.0.1:*"]
        cfg.publish.endpoints = ["tcp://127.0.0.1:*"]
        cfg.publish.bind = true
        cfg.publish.sendHighWaterMark = 0
        cfg.metrics.enabled = false
        cfg.curve.enabled = false
        cfg.daemon.stateDirectory = stateDir ?? FileManager.default.temporaryDirectory
            .appendingPathComponent("ttad-demo-\(getpid())").path
        var logger = Logger(label: "ttad-demo")
        logger.logLevel = .warning
        let daemon = Daemon(config: cfg, logger: logger, notifier: SystemdNotifier(environment: [:]))
        try daemon.start()
        defer {
            daemon.stop(reason: "demo finished")
            if stateDir == nil { try? FileManager.default.removeItem(atPath: cfg.daemon.stateDirectory) }
        }
        let classes = try ClassEmbeddings.load(path: cfg.classifier.classEmbeddings, tensorName: cfg.classifier.tensorName,
                                               classNamesPath: cfg.classifier.classNames)
        say("ttad demo: \(classes.count) classes × \(classes.dimension) dims from \(cfg.classifier.classEmbeddings)")
        say("daemon ingest \(daemon.endpoints.ingest[0]), publish \(daemon.endpoints.publish[0])")

        // Noise norms relative to the unit class vectors: the cosine to the true class falls from
        // about 0.3 to 0.1 while the other classes stay near 0, so accuracy and entropy move.
        let phases: [(String, Float)] = [("clean", 3), ("drifting", 7), ("heavy drift", 11)]
        let feed = try DemoFeed(ingest: daemon.endpoints.ingest[0], publish: daemon.endpoints.publish[0],
                                dimension: classes.dimension)
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
        let m = daemon.metrics.exposition()
        let text = String(decoding: m, as: UTF8.self)
        let rejected = text.split(separator: "\n").filter { $0.hasPrefix("ttad_samples_rejected_total{") && !$0.hasSuffix(" 0") }
        say("\nrejections counted by the daemon: " + (rejected.isEmpty ? "none" : rejected.joined(separator: ", ")))
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

    init(ingest: String, publish: String, dimension: Int) throws {
        connection = try DaemonConnection(ingest: ingest, publish: publish, topics: ["pred/demo", "error"], dimension: dimension)
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
