import ArgumentParser
import Foundation
import TTADEvaluation
import TTADProtocol
import TTADZMQ

/// Scores a daemon's predictions against the labels they echo: subscribes to `pred/` and
/// `error`, collects N outputs and writes a JSON report, a markdown table and an SVG chart.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Score a daemon's predictions against their echoed labels (accuracy, AUROC, H-score, latency).",
        discussion: """
        Start it before `ttad stream` (PUB/SUB drops what is published before the subscription \
        is up). It stops after --count outputs (predictions + errors), after --timeout seconds \
        without a message, or on Ctrl-C, and then writes the reports. Accuracy counts labels \
        below --known-classes only; larger labels are the unknown-class outliers scored by \
        AUROC (on outlier_score) and H-score (on the outlier flag).
        """)

    @Option(name: .shortAndLong, help: "The daemon's publish endpoint.")
    var endpoint: String = "tcp://127.0.0.1:7756"

    @Option(help: "Outputs (predictions + errors) to collect.")
    var count: Int

    @Option(help: "Stop after this many seconds without a message, once messages have started.")
    var timeout: Double = 30

    @Option(help: "Stop when the first message has not come within this many seconds.")
    var startTimeout: Double = 300

    @Option(help: "Only predictions of this stream (default: every stream).")
    var stream: String?

    @Option(help: "Labels below this are known classes; the rest are outliers.")
    var knownClasses: Int = 8

    @Option(help: "Samples per accuracy window.")
    var window: Int = 1000

    @Option(help: "Write the JSON report here.")
    var json: String?

    @Option(help: "Write the markdown report here.")
    var markdown: String?

    @Option(help: "Write an SVG chart of windowed accuracy, entropy and flagged outliers here.")
    var svg: String?

    @Option(help: "Title of the markdown report and the chart.")
    var title: String = "ttad eval"

    @Flag(help: "Exit with status 1 when fewer than --count outputs arrived.")
    var strict = false

    mutating func validate() throws {
        if count < 1 { throw ValidationError("--count must be ≥ 1") }
        if timeout <= 0 || startTimeout <= 0 { throw ValidationError("--timeout and --start-timeout must be > 0") }
        if knownClasses < 1 { throw ValidationError("--known-classes must be ≥ 1") }
        if window < 1 { throw ValidationError("--window must be ≥ 1") }
    }

    func run() throws {
        StreamInterrupt.install()
        let ctx = try ZMQContext()
        defer { ctx.terminate() }
        let sock = try ZMQSocket(context: ctx, type: .sub)
        defer { sock.close() }
        try sock.setLinger(milliseconds: 0)
        try sock.setReceiveHighWaterMark(0)
        try sock.subscribe(stream.map { OutputTopic.prediction(stream: $0) } ?? OutputTopic.predictionPrefix)
        try sock.subscribe(OutputTopic.error)
        try sock.setReceiveTimeout(milliseconds: 250)
        try sock.connect(endpoint)
        FileHandle.standardError.write(Data("eval: waiting for \(count) outputs on \(endpoint)\n".utf8))

        let decoder = OutputDecoder()
        var predictions: [EvalPrediction] = []
        predictions.reserveCapacity(min(count, 2_000_000))
        var errorReasons: [String] = []
        var undecodable = 0
        var progress = ProgressLine(total: count)
        let clock = ContinuousClock()
        let t0 = clock.now
        func seconds() -> Double {
            let d = (clock.now - t0).components
            return Double(d.seconds) + Double(d.attoseconds) * 1e-18
        }
        var lastMessage = seconds()
        var correct = 0, known = 0
        var timedOut = false

        while predictions.count + errorReasons.count < count, !StreamInterrupt.isRequested {
            guard let frames = try sock.receiveMultipart() else {
                let limit = predictions.isEmpty && errorReasons.isEmpty ? startTimeout : timeout
                if seconds() - lastMessage >= limit { timedOut = true; break }
                continue
            }
            let now = seconds()
            lastMessage = now
            let message: OutputMessage
            do { message = try decoder.decode(frames: frames) } catch { undecodable += 1; continue }
            switch message {
            case .prediction(let p):
                if let stream, p.stream != stream { continue }
                var label: Int? = nil
                if case .index(let i)? = p.label { label = i }
                let top1 = p.top.first?.index
                predictions.append(EvalPrediction(
                    id: p.id, label: label, predicted: top1, entropy: Double(p.entropy), outlier: p.outlier,
                    outlierScore: p.outlierScore.map(Double.init), latencySeconds: p.latencySeconds, arrivalSeconds: now))
                if let label, label < knownClasses {
                    known += 1
                    if top1 == label { correct += 1 }
                }
            case .error(let e):
                if let stream, let s = e.stream, s != stream { continue }
                errorReasons.append(e.reason)
            default:
                continue
            }
            let acc = known > 0 ? String(format: "acc %.1f%%", 100 * Double(correct) / Double(known)) : ""
            progress.update(predictions.count + errorReasons.count,
                            note: errorReasons.isEmpty ? acc : "\(acc) errors \(errorReasons.count)")
        }
        progress.update(predictions.count + errorReasons.count, force: true)
        progress.finish()
        let received = predictions.count + errorReasons.count
        if received < count {
            let why = StreamInterrupt.isRequested ? "interrupted" : timedOut ? "no message for \(Int(received == 0 ? startTimeout : timeout)) s" : "stopped"
            FileHandle.standardError.write(Data("eval: \(why): \(received) of \(count) outputs\n".utf8))
        }
        if undecodable > 0 {
            FileHandle.standardError.write(Data("eval: \(undecodable) undecodable messages ignored\n".utf8))
        }

        let report = Evaluator.evaluate(predictions, errorReasons: errorReasons,
                                        options: EvalOptions(knownClasses: knownClasses, window: window))
        let md = ReportFormat.markdown(report, title: title)
        if let json { try ReportFormat.json(report).write(to: URL(fileURLWithPath: json)) }
        if let markdown { try md.write(toFile: markdown, atomically: true, encoding: .utf8) }
        if let svg { try ReportFormat.svg(report, title: title).write(toFile: svg, atomically: true, encoding: .utf8) }
        let auroc = report.outliers.auroc.map { String(format: "%.4f", $0) } ?? "–"
        let speed = report.samplesPerSecond.map { String(format: "%.1f", $0) } ?? "–"
        print("eval: \(report.predictions) predictions, \(report.errors) errors; accuracy \(ReportFormat.percent(report.accuracy)); "
              + "AUROC \(auroc); H-score \(ReportFormat.percent(report.outliers.hScore)); \(speed) samples/s")
        if strict && received < count { throw ExitCode(1) }
    }
}
