import Foundation
import TTADAdaptation
import TTADProtocol

/// The image demo's tally per domain: the adapted daemon's predictions, and the source model's
/// on the same samples (paired by sample id, so the two accuracies are over the same images
/// whichever daemon answers first), with the resets and outlier flags the adapted one reported.
struct DemoTable {
    struct Row {
        var domain: String
        var samples = 0
        var correct = 0
        var entropySum = 0.0
        var histogram: [Int]
        var resets = 0
        var outliers = 0
        /// Samples both daemons answered, and how many of them each got right.
        var paired = 0
        var pairedCorrect = 0
        var pairedSourceCorrect = 0

        init(domain: String, classes: Int) { self.domain = domain; histogram = Array(repeating: 0, count: classes) }
        var accuracy: Double { samples > 0 ? Double(correct) / Double(samples) : 0 }
        var meanEntropy: Double { samples > 0 ? entropySum / Double(samples) : 0 }
        /// The source model's accuracy on the paired samples (nil before the first pair).
        var sourceAccuracy: Double? { paired > 0 ? Double(pairedSourceCorrect) / Double(paired) : nil }
        /// Adapted minus source accuracy on the paired samples.
        var pairedGain: Double? { paired > 0 ? Double(pairedCorrect - pairedSourceCorrect) / Double(paired) : nil }
    }

    private let classes: Int
    let withSource: Bool
    private(set) var rows: [Row] = []
    private var rowOfDomain: [String: Int] = [:]
    /// The row of the latest adapted prediction: where a reset event lands.
    private var currentRow: Int?
    /// Per sample id, whether it was right, until the other daemon's answer arrives.
    private var waitingAdapted: [String: (row: Int, correct: Bool)] = [:]
    private var waitingSource: [String: Bool] = [:]
    var errors = 0

    init(classes: Int, withSource: Bool) {
        self.classes = classes
        self.withSource = withSource
    }

    var current: Row? { currentRow.map { rows[$0] } }

    /// Counts an adapted prediction; returns the previous domain's row when this one starts a new
    /// domain (for the live display to close its line).
    mutating func addAdapted(_ p: PredictionRecord) -> Row? {
        let r = row(for: p.id)
        let previous = currentRow.flatMap { $0 != r ? rows[$0] : nil }
        currentRow = r
        let correct = isCorrect(p)
        rows[r].samples += 1
        rows[r].entropySum += Double(p.entropy)
        if let top = p.top.first?.index { rows[r].histogram[top] += 1 }
        if correct { rows[r].correct += 1 }
        if p.outlier { rows[r].outliers += 1 }
        if withSource {
            if let s = waitingSource.removeValue(forKey: p.id) { pair(r, adapted: correct, source: s) }
            else { waitingAdapted[p.id] = (r, correct) }
        }
        return previous
    }

    mutating func addSource(_ p: PredictionRecord) {
        let correct = isCorrect(p)
        if let a = waitingAdapted.removeValue(forKey: p.id) { pair(a.row, adapted: a.correct, source: correct) }
        else { waitingSource[p.id] = correct }
    }

    mutating func addReset() {
        if let r = currentRow { rows[r].resets += 1 }
    }

    /// Every domain together.
    var total: Row {
        var t = Row(domain: "all", classes: classes)
        for r in rows {
            t.samples += r.samples; t.correct += r.correct; t.entropySum += r.entropySum
            t.resets += r.resets; t.outliers += r.outliers
            t.paired += r.paired; t.pairedCorrect += r.pairedCorrect; t.pairedSourceCorrect += r.pairedSourceCorrect
        }
        return t
    }

    /// Divergence of `r`'s predicted-class histogram from the first (clean) domain's.
    func drift(_ r: Row) -> Double {
        guard let ref = rows.first, ref.samples > 0, r.samples > 0 else { return 0 }
        return PredictionWindow.jensenShannonBits(ref.histogram, r.histogram)
    }

    func markdown() -> [String] {
        let pct = { (x: Double?) in x.map { String(format: "%.1f %%", 100 * $0) } ?? "–" }
        let gain = { (x: Double?) in x.map { String(format: "%+.1f", 100 * $0) } ?? "–" }
        var lines = withSource
            ? ["| domain | samples | accuracy | source alone | gain (points) | mean entropy (nats) | drift (JS vs clean) | resets | outliers |",
               "|---|---|---|---|---|---|---|---|---|"]
            : ["| domain | samples | accuracy | mean entropy (nats) | drift (JS vs clean) | resets | outliers |",
               "|---|---|---|---|---|---|---|"]
        for r in rows {
            let middle = withSource ? " | \(pct(r.sourceAccuracy)) | \(gain(r.pairedGain))" : ""
            lines.append("| \(r.domain) | \(r.samples) | \(pct(r.accuracy))\(middle) | \(String(format: "%.3f", r.meanEntropy)) | "
                         + "\(String(format: "%.3f", drift(r))) | \(r.resets) | \(r.outliers) |")
        }
        return lines
    }

    func summary(preset: String) -> String {
        let t = total
        var s = String(format: "%d predictions, %d errors, overall accuracy %.1f %% (preset %@)", t.samples, errors,
                       100 * t.accuracy, preset as NSString)
        if let src = t.sourceAccuracy, let g = t.pairedGain {
            s += String(format: ", source model alone %.1f %% on the same samples (%+.1f points)", 100 * src, 100 * g)
        }
        return s + ", \(t.resets) resets, \(t.outliers) outliers flagged"
    }

    private mutating func row(for id: String) -> Int {
        let domain = String(id.split(separator: "|").first ?? "")
        if let r = rowOfDomain[domain] { return r }
        rows.append(Row(domain: domain, classes: classes))
        rowOfDomain[domain] = rows.count - 1
        return rows.count - 1
    }

    private func isCorrect(_ p: PredictionRecord) -> Bool {
        if case .index(let l)? = p.label, l == p.top.first?.index { return true }
        return false
    }

    private mutating func pair(_ r: Int, adapted: Bool, source: Bool) {
        rows[r].paired += 1
        if adapted { rows[r].pairedCorrect += 1 }
        if source { rows[r].pairedSourceCorrect += 1 }
    }
}
