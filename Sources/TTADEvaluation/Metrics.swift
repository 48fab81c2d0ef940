/// Pure scoring functions for `ttad eval`: no I/O, no sockets, so every number in a report can be
/// checked by hand in a test.
public enum Metrics {
    /// Area under the ROC curve of `scores` for telling `positives` from the rest, as the
    /// Mann–Whitney U statistic: the probability that a random positive scores higher than a
    /// random negative, ties counting one half (average ranks). Nil when either class is empty
    /// or a score is NaN.
    public static func auroc(scores: [Double], positives: [Bool]) -> Double? {
        precondition(scores.count == positives.count, "auroc: scores and labels differ in length")
        let nPos = positives.lazy.filter { $0 }.count
        let nNeg = positives.count - nPos
        guard nPos > 0, nNeg > 0, !scores.contains(where: { $0.isNaN }) else { return nil }
        let order = scores.indices.sorted { scores[$0] < scores[$1] }
        // Sum of the (1-based, tie-averaged) ranks of the positives.
        var rankSum = 0.0
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count && scores[order[j + 1]] == scores[order[i]] { j += 1 }
            let averageRank = Double(i + j + 2) / 2  // ranks i+1 … j+1
            for k in i...j where positives[order[k]] { rankSum += averageRank }
            i = j + 1
        }
        let u = rankSum - Double(nPos) * Double(nPos + 1) / 2
        return u / (Double(nPos) * Double(nNeg))
    }

    /// Harmonic mean of known-class accuracy and outlier-rejection accuracy (the open-set
    /// H-score); 0 when both are 0, nil when either is unknown.
    public static func hScore(knownAccuracy a: Double?, rejectionAccuracy b: Double?) -> Double? {
        guard let a, let b else { return nil }
        return a + b > 0 ? 2 * a * b / (a + b) : 0
    }

    /// The `p`-th percentile (0…100) with linear interpolation between closest ranks (numpy's
    /// default): rank = p/100 · (n − 1). Nil for an empty input.
    public static func percentile(_ values: [Double], _ p: Double) -> Double? {
        percentile(sorted: values.sorted(), p)
    }

    /// As `percentile(_:_:)` on values already sorted ascending.
    public static func percentile(sorted v: [Double], _ p: Double) -> Double? {
        guard !v.isEmpty else { return nil }
        let q = Swift.min(Swift.max(p, 0), 100) / 100
        let rank = q * Double(v.count - 1)
        let lo = Int(rank.rounded(.down)), hi = Swift.min(lo + 1, v.count - 1)
        let t = rank - Double(lo)
        return v[lo] + (v[hi] - v[lo]) * t
    }

    /// `numerator / denominator`, nil when the denominator is 0.
    public static func ratio(_ numerator: Int, _ denominator: Int) -> Double? {
        denominator > 0 ? Double(numerator) / Double(denominator) : nil
    }
}

/// The sample id `ttad stream` writes: `"<domain>|<position>"`. The domain is everything before
/// the last `|` (so a domain may itself contain `|`), the position a non-negative integer.
public struct StreamSampleID: Sendable, Equatable {
    public var domain: String
    public var position: Int

    public init(domain: String, position: Int) {
        self.domain = domain
        self.position = position
    }

    /// Nil when `id` is not of the form `<domain>|<position>` with a non-empty domain.
    public init?(parsing id: String) {
        guard let bar = id.lastIndex(of: "|") else { return nil }
        let domain = String(id[id.startIndex..<bar])
        let tail = id[id.index(after: bar)...]
        guard !domain.isEmpty, !tail.isEmpty, tail.allSatisfy({ $0.isASCII && $0.isNumber }),
              let position = Int(tail) else { return nil }
        self.domain = domain
        self.position = position
    }

    public var id: String { "\(domain)|\(position)" }
}
