import Foundation
import TTADAdaptation
import TTADEvaluation
import TTADProtocol
import TTADScenario
import TTADZMQ

/// `ttad demo` in image mode: a camera-like Fashion-MNIST stream (clean, then each corruption in
/// turn) sent to the in-process daemon over ZeroMQ, with a live line and a closing table of what
/// comes back per domain: the adapted accuracy beside the source model's on the same samples,
/// mean entropy, drift, the collapse guard's resets and the outlier flags.
///
/// The source model's accuracy comes from a second in-process daemon with `preset = "frozen"`,
/// fed the same stream: what the camera would have got without adaptation. Drift here is the
/// client's view, computed from the predictions alone: the Jensen–Shannon divergence (bits, 0…1)
/// of the domain's predicted-class histogram from the clean domain's.
struct ImageDemo {
    var perDomain: Int
    var severity: Int
    var seed: UInt64
    var datasetDir: String
    /// Samples per second, as a camera sends them; 0 = as fast as the daemon takes them.
    var rate: Double

    func run(daemon: InProcessDaemon, source: InProcessDaemon?, classNames: [String]) throws {
        let set = try FashionMNIST.load(.test, directory: datasetDir)
        let pool = ScenarioPool(labels: set.labels)
        let steps = try [ScenarioStep(nil, severity: 0)] + Corruption.allCases.map { try ScenarioStep($0, severity: severity) }
        let scenario = try Scenario(pool: pool, steps: steps, samplesPerStep: perDomain, seed: seed)
        let preset = daemon.config.adaptation.preset.rawValue
        say("ttad demo: bundled model \(daemon.config.model.folder), \(classNames.count) classes, adaptation preset \(preset)"
            + (source == nil ? "" : "; beside it the source model alone (a second daemon, preset frozen) on the same samples"))
        say("stream: Fashion-MNIST test images, clean then \(Corruption.allCases.count) corruptions at severity \(severity), "
            + "\(perDomain) per domain, raw 28×28 images over ZeroMQ to \(daemon.ingestEndpoint)")

        var options = try ScenarioOptions.parse(["--stream", "demo"])
        options.limit = scenario.count
        let adapted = try DaemonConnection(ingest: daemon.ingestEndpoint, publish: daemon.publishEndpoint,
                                           topics: [OutputTopic.prediction(stream: "demo"), OutputTopic.event])
        let reference = try source.map {
            try DaemonConnection(ingest: $0.ingestEndpoint, publish: $0.publishEndpoint, topics: [OutputTopic.prediction(stream: "demo")])
        }
        var sends: [BackgroundSend] = []
        for (endpoint, connection) in [(daemon.ingestEndpoint, adapted)] + (source.map { [($0.ingestEndpoint, reference!)] } ?? []) {
            try connection.push.setSendTimeout(milliseconds: 500)
            var configured = ScenarioSender(options: options, endpoint: endpoint, showProgress: false)
            configured.rate = rate
            let sender = configured
            let push = connection.push
            sends.append(BackgroundSend { _ = try sender.send(set: set, scenario: scenario, over: push) })
        }

        var table = DemoTable(classes: classNames.count, withSource: source != nil)
        let poller = ZMQPoller()
        let adaptedIndex = poller.add(adapted.sub, events: .readable)
        let referenceIndex = reference.map { poller.add($0.sub, events: .readable) }
        let live = isatty(STDOUT_FILENO) != 0
        let decoder = OutputDecoder()
        var answered = 0, sourceAnswered = 0
        let expectedSource = source == nil ? 0 : scenario.count
        var silentSince = Date()
        var lastDraw = Date.distantPast
        let start = Date()
        while answered < scenario.count || sourceAnswered < expectedSource, !StreamInterrupt.isRequested {
            guard try poller.poll(timeoutMilliseconds: 250) > 0 else {
                if Date().timeIntervalSince(silentSince) > 30 { break }
                continue
            }
            silentSince = Date()
            if let ri = referenceIndex, let reference, poller.isReadable(ri) {
                while let frames = try reference.sub.receiveMultipart(dontWait: true) {
                    guard let message = try? decoder.decode(frames: frames) else { continue }
                    switch message {
                    case .prediction(let p) where p.stream == "demo":
                        sourceAnswered += 1
                        table.addSource(p)
                    case .error(let e) where e.stream == "demo": sourceAnswered += 1
                    default: continue
                    }
                }
            }
            guard poller.isReadable(adaptedIndex) else { continue }
            while let frames = try adapted.sub.receiveMultipart(dontWait: true) {
                guard let message = try? decoder.decode(frames: frames) else { continue }
                switch message {
                case .prediction(let p) where p.stream == "demo":
                    answered += 1
                    if let finished = table.addAdapted(p), live { draw(finished, table: table, final: true) }
                case .event(let e) where e.kind == EventKind.reset:
                    table.addReset()
                case .error(let e) where e.stream == "demo":
                    answered += 1
                    table.errors += 1
                default:
                    continue
                }
            }
            if live, let r = table.current, Date().timeIntervalSince(lastDraw) > 0.2 {
                lastDraw = Date()
                draw(r, table: table, final: false)
            }
        }
        if live, let r = table.current { draw(r, table: table, final: true) }
        if answered < scenario.count || sourceAnswered < expectedSource { StreamInterrupt.requested.store(true, ordering: .relaxed) }
        for s in sends { try s.wait() }

        say("")
        for line in table.markdown() { say(line) }
        let seconds = Date().timeIntervalSince(start)
        say("\n" + table.summary(preset: preset) + String(format: ", %.0f samples/s end to end", Double(table.total.samples) / max(seconds, 1e-9)))
    }

    private func draw(_ r: DemoTable.Row, table: DemoTable, final: Bool) {
        var line = String(format: "\r%-18@ %5d samples | accuracy %5.1f %%", r.domain as NSString, r.samples, 100 * r.accuracy)
        if let s = r.sourceAccuracy, let g = r.pairedGain {
            line += String(format: " | source alone %5.1f %% (%+5.1f)", 100 * s, 100 * g)
        }
        line += String(format: " | entropy %.3f | drift %.3f | resets %d | outliers %d",
                       r.meanEntropy, table.drift(r), r.resets, r.outliers)
        FileHandle.standardOutput.write(Data((line + (final ? "\n" : "\u{1B}[K")).utf8))
    }
}
