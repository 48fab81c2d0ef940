import Foundation
import TTADEvaluation
import TTADScenario

/// Reads a predictions file back (`PredictionsFile`'s format, or the older ones without the
/// `confidence` column or also without `outlier`), checking each line against the scenario sample
/// at its position. Kept lines come back in the current format (missing columns empty).
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
        let current = PredictionsFile.columns
        guard (current.count - 2...current.count).contains(columns.count), columns == Array(current.prefix(columns.count)) else {
            throw EvalResume.Failure(description: "--resume: \(path) is not a predictions file (header \(columns.joined(separator: ",")))")
        }
        let hasFlag = columns.count > 5, hasConfidence = columns.count > 6
        let padding = String(repeating: "\t", count: current.count - columns.count)
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
            var confidence: Double? = nil
            if hasConfidence, !f[6].isEmpty {
                guard let c = Double(f[6]) else { break }
                confidence = c
            }
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
                                                  confidence: confidence, outlier: outlier, outlierScore: score, arrivalSeconds: .nan))
            out.lines.append(row + padding)
        }
        return out
    }
}
