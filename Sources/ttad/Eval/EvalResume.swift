import Foundation
import Logging
import TTADDaemon
import TTADEvaluation
import TTADScenario

/// `ttad eval --resume`: where an earlier run of the same scenario stopped (killed, Ctrl-C, or a
/// shorter --limit), and what it already scored.
///
/// The run continues from the newest checkpoint in the state directory that its predictions file
/// covers: the file is cut back to that checkpoint's last sample (predictions after it were made
/// by state the checkpoint does not hold), newer checkpoints are discarded, and the scenario goes
/// on from the next sample. Because the daemon runs deterministically and a checkpoint holds
/// everything adaptation keeps, the finished file is identical to an uninterrupted run's.
struct EvalResume {
    /// Scored predictions of the earlier part, in stream order; the next sample is `kept.count`.
    var kept: [EvalPrediction]
    /// `kept` as lines of the predictions file.
    var lines: [String]
    /// The checkpoint the daemon must continue from (nil: fresh state, start at sample 0).
    var checkpoint: Int64?
    /// Kept lines written before the file had an `outlier` column: their flags count as false.
    var withoutFlag: Int
    /// Lines of the earlier file that were dropped (after the checkpoint, or cut by the kill).
    var dropped: Int

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func prepare(config: DaemonConfig, options: ScenarioOptions, scenario: Scenario, predictionsPath: String,
                        logger: Logger) throws -> EvalResume {
        let points = try StateRewind.points(config: config, stream: options.stream, logger: logger)
        let partial = predictionsPath + ".partial"
        let source = FileManager.default.fileExists(atPath: partial) ? partial
            : FileManager.default.fileExists(atPath: predictionsPath) ? predictionsPath : nil
        let read = try source.map { try PredictionsFileReader.read(path: $0, expecting: scenario, options: options) }
            ?? PredictionsFileReader.Contents(predictions: [], lines: [], withoutFlag: 0, total: 0)
        if points.isEmpty {
            // No state: nothing can be continued, whatever the file holds.
            return EvalResume(kept: [], lines: [], checkpoint: nil, withoutFlag: 0, dropped: read.total)
        }
        // Newest first: the first checkpoint whose last sample the file has.
        guard let point = points.first(where: { Int($0.lastSeq.map { $0 + 1 } ?? 0) <= read.predictions.count }) else {
            let oldest = points.last.flatMap(\.lastSeq).map { "sample \($0)" } ?? "?"
            throw Failure(description: "--resume: \(source ?? predictionsPath) holds \(read.predictions.count) predictions of the scenario, "
                          + "fewer than the oldest checkpoint in \(config.daemon.stateDirectory) reached (\(oldest)); "
                          + "remove the state directory and the predictions file to start over")
        }
        if point.checkpoint != points[0].checkpoint {
            try StateRewind.rewind(config: config, to: point.checkpoint, logger: logger)
        }
        let n = Int(point.lastSeq.map { $0 + 1 } ?? 0)
        return EvalResume(kept: Array(read.predictions.prefix(n)), lines: Array(read.lines.prefix(n)), checkpoint: point.checkpoint,
                          withoutFlag: min(read.withoutFlag, n), dropped: read.total - n)
    }
}
