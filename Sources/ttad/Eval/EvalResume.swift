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

/// Reads a predictions file back (`PredictionsFile`'s format, or the older one without the
/// `outlier` column), checking each line against the scenario sample at its position.
enum PredictionsFileReader {
    struct Contents {
        /// The valid lines, parsed, from the first up to the first that is not valid.
        var predictions: [EvalPrediction]
        var lines: [String]
        var withoutFlag: Int
        /// Lines after the header, valid or not.
        var total: Int
    }

    /// Stops at the first line that is cut short (a kill mid-write), malformed, or not the
    /// scenario's sample at that position (another scenario, seed or stream): what follows cannot
    /// be trusted to continue from.
    static func read(path: String, expecting scenario: Scenario, options: ScenarioOptions) throws -> Contents {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw EvalResume.Failure(description: "--resume: cannot read \(path): \(error.localizedDescription)")
        }
        var rows = text.split(separator: "\n", omittingEmptySubsequences: false)
        // Only a line ended by a newline is whole: the last piece is "" or a line cut by a kill.
        if !rows.isEmpty { rows.removeLast() }
        guard let head = rows.first else { throw EvalResume.Failure(description: "--resume: \(path) is empty (no header)") }
        let columns = head.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        let old = Array(PredictionsFile.columns.dropLast())
        guard columns == PredictionsFile.columns || columns == old else {
            throw EvalResume.Failure(description: "--resume: \(path) is not a predictions file (header \(columns.joined(separator: ",")))")
        }
        let hasFlag = columns.count == PredictionsFile.columns.count
        var out = Contents(predictions: [], lines: [], withoutFlag: 0, total: rows.count - 1)
        out.predictions.reserveCapacity(rows.count)
        out.lines.reserveCapacity(rows.count)
        var iterator = scenario.makeIterator()
        for row in rows.dropFirst() {
            guard let sample = iterator.next() else { break }
            let f = row.split(separator: "\t", omittingEmptySubsequences: false)
            guard f.count == columns.count, f[0] == options.id(of: sample), Int(f[1]) == sample.label,
                  let entropy = Double(f[3]) else { break }
            let predicted = f[2].isEmpty ? nil : Int(f[2])
            let score = f[4].isEmpty ? nil : Double(f[4])
            if !f[2].isEmpty && predicted == nil || !f[4].isEmpty && score == nil { break }
            var outlier = false
            if hasFlag {
                guard f[5] == "0" || f[5] == "1" || f[5].isEmpty else { break }
                outlier = f[5] == "1"
                if f[5].isEmpty { out.withoutFlag += 1 }
            } else {
                out.withoutFlag += 1
            }
            // Arrival times of an earlier process mean nothing here: NaN keeps them out of the rate.
            out.predictions.append(EvalPrediction(id: String(f[0]), label: sample.label, predicted: predicted, entropy: entropy,
                                                  outlier: outlier, outlierScore: score, arrivalSeconds: .nan))
            out.lines.append(hasFlag ? String(row) : row + "\t")
        }
        return out
    }
}
