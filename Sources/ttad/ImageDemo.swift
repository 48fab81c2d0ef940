import Foundation
import TTADAdaptation
import TTADEvaluation
import TTADProtocol
import TTADScenario
import TTADZMQ

/// `ttad demo` in image mode: a camera-like Fashion-MNIST stream (clean, then each corruption in
/// turn) sent to the in-process daemon over ZeroMQ, with a live line and a closing table of what
/// comes back: accuracy, mean entropy and drift per domain.
///
/// Drift here is the client's view, computed from the predictions alone: the Jensen–Shannon
/// divergence (bits, 0…1) of the domain's predicted-class histogram from the clean domain's.
struct ImageDemo {
    var perDomain: Int
    var severity: Int
    var seed: UInt64
    var datasetDir: String

    struct Row {
        var domain: String
        var samples = 0
        var correct = 0
        var entropySum = 0.0
        var histogram: [Int]
        init(domain: String, classes: Int) { self.domain = domain; histogram = Array(repeating: 0, count: classes) }
        var accuracy: Double { samples > 0 ? Double(correct) / Double(samples) : 0 }
        var meanEntropy: Double { samples > 0 ? entropySum / Double(samples) : 0 }
    }

    func run(daemon: InProcessDaemon, classNames: [String]) throws {
        let set = try FashionMNIST.load(.test, directory: datasetDir)
        let pool = ScenarioPool(labels: set.labels)
        let steps = try [ScenarioStep(nil, severity: 0)] + Corruption.allCases.map { try ScenarioStep($0, severity: severity) }
        let scenario = try Scenario(pool: pool, steps: steps, samplesPerStep: perDomain, seed: seed)
        say("ttad demo: bundled model \(daemon.config.model.folder), \(classNames.count) classes, "
            + "adaptation preset \(daemon.config.adaptation.preset.rawValue)")
        let preset = daemon.config.adaptation.preset.rawValue
        say("stream: Fashion-MNIST test images, clean then \(Corruption.allCases.count) corruptions at severity \(severity), "
            + "\(perDomain) per domain, raw 28×28 images over ZeroMQ to \(daemon.ingestEndpoint)")

        var options = try ScenarioOptions.parse(["--stream", "demo"])
        options.limit = scenario.count
        let connection = try DaemonConnection(ingest: daemon.ingestEndpoint, publish: daemon.publishEndpoint,
                                              topics: [OutputTopic.prediction(stream: "demo")])
        try connection.push.setSendTimeout(milliseconds: 500)
        try connection.sub.setReceiveTimeout(milliseconds: 250)
        let sender = ScenarioSender(options: options, endpoint: daemon.ingestEndpoint, showProgress: false)
        let push = connection.push
        let sending = BackgroundSend { _ = try sender.send(set: set, scenario: scenario, over: push) }

        let live = isatty(STDOUT_FILENO) != 0
        let decoder = OutputDecoder()
        var rows: [Row] = []
        var errors = 0
        var received = 0
        var silentSince = Date()
        var lastDraw = Date.distantPast
        let start = Date()
        while received < scenario.count, !StreamInterrupt.isRequested {
            guard let frames = try connection.sub.receiveMultipart() else {
                if Date().timeIntervalSince(silentSince) > 30 { break }
                continue
            }
            silentSince = Date()
            guard let message = try? decoder.decode(frames: frames) else { continue }
            switch message {
            case .prediction(let p) where p.stream == "demo":
                received += 1
                let domain = String(p.id.split(separator: "|").first ?? "")
                if rows.last?.domain != domain {
                    if live, let r = rows.last { draw(r, rows: rows, final: true) }
                    rows.append(Row(domain: domain, classes: classNames.count))
                }
                var r = rows[rows.count - 1]
                r.samples += 1
                r.entropySum += Double(p.entropy)
                if let top = p.top.first?.index {
                    r.histogram[top] += 1
                    if case .index(let l)? = p.label, l == top { r.correct += 1 }
                }
                rows[rows.count - 1] = r
                if live && Date().timeIntervalSince(lastDraw) > 0.2 {
                    lastDraw = Date()
                    draw(r, rows: rows, final: false)
                }
            case .error(let e) where e.stream == "demo":
                received += 1
                errors += 1
            default:
                continue
            }
        }
        if live, let r = rows.last { draw(r, rows: rows, final: true) }
        if received < scenario.count { StreamInterrupt.requested.store(true, ordering: .relaxed) }
        try sending.wait()

        say("")
        say("| domain | samples | accuracy | mean entropy (nats) | drift (JS vs clean) |")
        say("|---|---|---|---|---|")
        for r in rows {
            say("| \(r.domain) | \(r.samples) | \(String(format: "%.1f %%", 100 * r.accuracy)) | "
                + "\(String(format: "%.3f", r.meanEntropy)) | \(String(format: "%.3f", drift(r, rows: rows))) |")
        }
        let total = rows.reduce(0) { $0 + $1.samples }
        let correct = rows.reduce(0) { $0 + $1.correct }
        let seconds = Date().timeIntervalSince(start)
        say(String(format: "\n%d predictions, %d errors, overall accuracy %.1f %%", total, errors,
                   total > 0 ? 100 * Double(correct) / Double(total) : 0)
            + " (preset \(preset)), " + String(format: "%.0f samples/s end to end", Double(total) / max(seconds, 1e-9)))
    }

    private func drift(_ r: Row, rows: [Row]) -> Double {
        guard let ref = rows.first, ref.samples > 0, r.samples > 0 else { return 0 }
        return PredictionWindow.jensenShannonBits(ref.histogram, r.histogram)
    }

    private func draw(_ r: Row, rows: [Row], final: Bool) {
        let line = String(format: "\r%-18@ %5d samples | accuracy %5.1f %% | entropy %.3f | drift %.3f",
                          r.domain as NSString, r.samples, 100 * r.accuracy, r.meanEntropy, drift(r, rows: rows))
        FileHandle.standardOutput.write(Data((line + (final ? "\n" : "\u{1B}[K")).utf8))
    }
}
