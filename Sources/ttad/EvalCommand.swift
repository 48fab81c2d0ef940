import ArgumentParser
import Foundation
import TTADDaemon
import TTADEvaluation
import TTADProtocol
import TTADZMQ

/// Scores a daemon's predictions against the labels they echo and writes a JSON report, a
/// markdown table and an SVG chart. Two ways to run it:
/// - `--config <file>`: self-contained and reproducible. Starts the daemon of that config in
///   process in deterministic mode (lossless PULL ingest, one sample at a time), streams the
///   scenario to it over ZeroMQ, collects every output, stops the daemon.
/// - otherwise: subscribes to a running daemon's `pred/` and `error` and collects `--count`
///   outputs of whatever `ttad stream` (or a camera) sends it.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Score a daemon's predictions against their echoed labels (accuracy, AUROC, H-score, latency).",
        discussion: """
        With --config, eval runs the daemon itself in deterministic mode and streams the scenario \
        (the --scenario options of `ttad stream`) to it: a rerun gives identical predictions. \
        With --as-embeddings MODEL_DIR it sends each image's embedding instead, and an image-mode \
        config runs in embedding mode against that model's class-prompt embeddings. \
        Without it, start eval before `ttad stream` (PUB/SUB drops what is published before the \
        subscription is up); it stops after --count outputs (predictions + errors), after \
        --timeout seconds without a message, or on Ctrl-C, and then writes the reports. Accuracy \
        counts labels below --known-classes only; larger labels are the unknown-class outliers \
        scored by AUROC (on outlier_score) and H-score (on the outlier flag).
        """)

    @Option(name: .shortAndLong, help: "The daemon's publish endpoint (without --config).")
    var endpoint: String = "tcp://127.0.0.1:7756"

    @Option(name: .shortAndLong, help: "Run this daemon configuration in process, deterministically, and stream the scenario to it.")
    var config: String?

    @Option(help: "State directory of the in-process daemon (default: a fresh temporary directory). Kept after the run, so --resume can continue it.")
    var stateDir: String?

    @Flag(help: ArgumentHelp(
        "Continue the run whose state is in --state-dir and whose predictions are in --predictions-file.",
        discussion: "After a kill, Ctrl-C, or to extend a run with a larger --limit or --long: the daemon continues from the newest "
            + "checkpoint the predictions file covers, the file is cut back to it, and the scenario goes on from the next sample. "
            + "The finished file is identical to an uninterrupted run's. Same --config and scenario options as the first run."))
    var resume = false

    @OptionGroup(title: "Scenario (with --config)") var scenario: ScenarioOptions

    @Option(help: "Outputs (predictions + errors) to collect (required without --config; default with it: the whole scenario).")
    var count: Int?

    @Option(help: "Stop after this many seconds without a message, once messages have started.")
    var timeout: Double = 30

    @Option(help: "Stop when the first message has not come within this many seconds.")
    var startTimeout: Double = 300

    @Option(help: "Without --config: only predictions of this stream (default: every stream).")
    var onlyStream: String?

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

    @Option(help: "Write one line per prediction (id, label, predicted, entropy, outlier score) here, in arrival order (as they arrive, to <file>.partial until the run ends).")
    var predictionsFile: String?

    @Option(help: "Title of the markdown report and the chart.")
    var title: String?

    @Flag(help: "Exit with status 1 when fewer than --count outputs arrived.")
    var strict = false

    mutating func validate() throws {
        if let count, count < 1 { throw ValidationError("--count must be ≥ 1") }
        if config == nil && count == nil { throw ValidationError("--count is required without --config") }
        if timeout <= 0 || startTimeout <= 0 { throw ValidationError("--timeout and --start-timeout must be > 0") }
        if knownClasses < 1 { throw ValidationError("--known-classes must be ≥ 1") }
        if window < 1 { throw ValidationError("--window must be ≥ 1") }
        if resume && (config == nil || stateDir == nil || predictionsFile == nil) {
            throw ValidationError("--resume needs --config, --state-dir and --predictions-file (those of the run it continues)")
        }
    }

    func run() throws {
        StreamInterrupt.install()
        if let config {
            BLASCoreSelection.reexecIfFasterKernelsAvailable()
            try runSelfContained(configPath: config)
        } else {
            try runSubscriber()
        }
    }

    private func runSubscriber() throws {
        let count = self.count!
        let ctx = try ZMQContext()
        defer { ctx.terminate() }
        let sock = try ZMQSocket(context: ctx, type: .sub)
        defer { sock.close() }
        try sock.setLinger(milliseconds: 0)
        try sock.setReceiveHighWaterMark(0)
        try sock.subscribe(onlyStream.map { OutputTopic.prediction(stream: $0) } ?? OutputTopic.predictionPrefix)
        try sock.subscribe(OutputTopic.error)
        try sock.setReceiveTimeout(milliseconds: 250)
        try sock.connect(endpoint)
        FileHandle.standardError.write(Data("eval: waiting for \(count) outputs on \(endpoint)\n".utf8))
        let collector = PredictionCollector(socket: sock, stream: onlyStream, knownClasses: knownClasses, expected: count)
        collector.file = try predictionsFile.map { try PredictionsFile(path: $0) }
        var progress = ProgressLine(total: count)
        try collector.collect(count: count, timeout: timeout, startTimeout: startTimeout, progress: &progress)
        try finish(collector, expected: count, title: title ?? "ttad eval")
    }

    private func runSelfContained(configPath: String) throws {
        let (set, plan) = try scenario.makePlan()
        let total = min(count ?? Int.max, plan.count, scenario.limit ?? Int.max)
        if resume, plan.scenario == nil { throw ValidationError("--resume does not apply to --scenario cameras") }
        var daemonConfig = try InProcessDaemon.configuration(configPath: configPath, stateDirectory: stateDir, deterministic: true, label: "eval")
        if let folder = scenario.asEmbeddings {
            try EmbeddingModeConfig.convert(&daemonConfig, embedder: try ScenarioEmbedder(folder: folder))
        }
        let streamID = scenario.stream
        let identity = EvalRunIdentity.text(config: daemonConfig, options: scenario)
        if resume, let stateDir { try EvalRunIdentity.check(identity, directory: stateDir) }
        let earlier = try resume ? EvalResume.prepare(config: daemonConfig, options: scenario, scenario: plan.scenario!,
                                                      predictionsPath: predictionsFile!, logger: InProcessDaemon.logger("eval")) : nil
        for stream in plan.streams where !resume && stateDir != nil {
            if let point = (try? StateRewind.points(config: daemonConfig, stream: stream, logger: InProcessDaemon.logger("eval")))?.first,
               let last = point.lastSeq {
                // The daemon would continue from that state while the scenario starts over: neither a
                // fresh run nor a continuation.
                throw ValidationError("--state-dir \(stateDir!) already holds a run of stream '\(stream)' (up to sample \(last)): "
                                      + "pass --resume to continue it, or remove the directory to start over")
            }
        }
        if let stateDir { try EvalRunIdentity.write(identity, directory: stateDir) }
        let daemon = try InProcessDaemon(config: daemonConfig, removeState: stateDir == nil, label: "eval")
        defer { daemon.stop() }
        if let earlier {
            guard daemon.daemon.restoredCheckpoint?.id == earlier.checkpoint else {
                throw ValidationError("--resume: the daemon did not continue from checkpoint \(earlier.checkpoint.map(String.init) ?? "none") "
                                      + "(it restored \(daemon.daemon.restoredCheckpoint.map { "checkpoint \($0.id)" } ?? "nothing")); the run cannot be continued")
            }
            if let why = daemon.daemon.adaptationNotRestored {
                throw ValidationError("--resume: the checkpoint's adapted state could not be restored (\(why)); the run cannot be continued")
            }
        }
        let connection = try DaemonConnection(ingest: daemon.ingestEndpoint, publish: daemon.publishEndpoint,
                                              topics: [OutputTopic.prediction(stream: streamID)])
        try connection.sub.setReceiveTimeout(milliseconds: 250)
        try connection.push.setSendTimeout(milliseconds: 500)
        FileHandle.standardError.write(Data(
            "eval: \(scenario.label) (seed \(scenario.seed)), \(total) samples, daemon \(configPath) in deterministic mode\n".utf8))
        if let earlier {
            let from: String = earlier.checkpoint.map { "checkpoint \($0)" } ?? "fresh state (no checkpoint)"
            var line = "eval: resuming at sample \(earlier.kept.count) from \(from)"
            if earlier.dropped > 0 { line += "; \(earlier.dropped) later predictions of the earlier run dropped" }
            if earlier.withoutFlag > 0 { line += "; \(earlier.withoutFlag) kept predictions predate the outlier column (flags count as 0)" }
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }

        var options = scenario
        options.limit = total
        let collector = PredictionCollector(socket: connection.sub, stream: streamID, knownClasses: knownClasses, expected: total,
                                            streamPrefix: plan.scenario == nil)
        if let earlier { collector.preload(Array(earlier.kept.prefix(total))) }
        collector.file = try predictionsFile.map { try PredictionsFile(path: $0, kept: Array((earlier?.lines ?? []).prefix(total))) }
        if resume, let path = predictionsFile, FileManager.default.fileExists(atPath: path) {
            // A finished file being extended: from now on the partial is the run's only copy.
            try FileManager.default.removeItem(atPath: path)
        }
        var sender = ScenarioSender(options: options, endpoint: daemon.ingestEndpoint, showProgress: false)
        sender.startPosition = collector.received
        // Stay well under the ingest queue: evaluation measures the daemon, not back-pressure.
        let answered = collector.answered
        sender.window = (limit: max(1, min(256, daemon.config.ingest.queueCapacity / 2)),
                         answered: { answered.value.load(ordering: .acquiring) })
        let push = connection.push
        let sending = BackgroundSend { [sender] in _ = try sender.send(set: set, plan: plan, over: push) }
        var progress = ProgressLine(total: total)
        try collector.collect(count: total, timeout: timeout, startTimeout: startTimeout, progress: &progress)
        if collector.received < total { StreamInterrupt.requested.store(true, ordering: .relaxed) }
        try sending.wait()
        let seconds = collector.elapsedSeconds
        try finish(collector, expected: total, title: title ?? "ttad eval: \(scenario.label)")
        if daemon.config.adaptation.preset != .frozen {
            // What adaptation did during the run, from the daemon's own counters.
            let m = String(decoding: daemon.daemon.metrics.exposition(), as: UTF8.self)
            let steps = Self.series(m, "ttad_adaptation_steps_total") ?? 0
            let resets = m.split(separator: "\n").filter { $0.hasPrefix("ttad_adaptation_resets_total{") }
                .compactMap { Double($0.split(separator: " ").last ?? "") }.reduce(0, +)
            let rate = seconds > 0 ? steps / seconds : 0
            print("adaptation: preset \(daemon.config.adaptation.preset.rawValue), \(Int(steps)) steps (\(String(format: "%.2f", rate)) steps/s), "
                  + "\(Int(resets)) resets, prompt version \(Int(Self.series(m, "ttad_prompt_version") ?? 0)), "
                  + "\(Int(Self.series(m, "ttad_adaptation_paused_samples_total") ?? 0)) samples paused (label-correlated; "
                  + "\(Int(Self.series(m, "ttad_adaptation_warmup_samples_total") ?? 0)) of them in the gate's warm-up), "
                  + "\(Int(Self.series(m, "ttad_adaptation_gate_closures_total") ?? 0)) gate closures")
        }
    }

    /// The value of an unlabelled series in a Prometheus exposition.
    static func series(_ exposition: String, _ name: String) -> Double? {
        for line in exposition.split(separator: "\n") where line.hasPrefix(name + " ") {
            return Double(line.split(separator: " ").last ?? "")
        }
        return nil
    }

    private func finish(_ collector: PredictionCollector, expected: Int, title: String) throws {
        let received = collector.received
        if received < expected {
            let why = StreamInterrupt.isRequested && !collector.timedOut ? "interrupted"
                : collector.timedOut ? "no message for \(Int(received == 0 ? startTimeout : timeout)) s" : "stopped"
            FileHandle.standardError.write(Data("eval: \(why): \(received) of \(expected) outputs\n".utf8))
        }
        if collector.undecodable > 0 {
            FileHandle.standardError.write(Data("eval: \(collector.undecodable) undecodable messages ignored\n".utf8))
        }
        let report = Evaluator.evaluate(collector.predictions, errorReasons: collector.errorReasons,
                                        options: EvalOptions(knownClasses: knownClasses, window: window))
        let md = ReportFormat.markdown(report, title: title)
        if let json { try ReportFormat.json(report).write(to: URL(fileURLWithPath: json)) }
        if let markdown { try md.write(toFile: markdown, atomically: true, encoding: .utf8) }
        if let svg { try ReportFormat.svg(report, title: title).write(toFile: svg, atomically: true, encoding: .utf8) }
        try collector.file?.finish()
        let auroc = report.outliers.auroc.map { String(format: "%.4f", $0) } ?? "–"
        let speed = report.samplesPerSecond.map { String(format: "%.1f", $0) } ?? "–"
        print("eval: \(report.predictions) predictions, \(report.errors) errors; accuracy \(ReportFormat.percent(report.accuracy)); "
              + "ECE \(ReportFormat.number(report.ece)); AUROC \(auroc); H-score \(ReportFormat.percent(report.outliers.hScore)); \(speed) samples/s")
        for st in report.streams {
            print("eval: stream \(st.stream): \(st.samples) predictions; accuracy \(ReportFormat.percent(st.accuracy))")
        }
        if strict && received < expected { throw ExitCode(1) }
    }
}
