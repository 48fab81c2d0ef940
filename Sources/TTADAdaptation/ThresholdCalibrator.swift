/// Turns an outlier score into a flag: collects the scores of the first N samples and sets the
/// threshold at their q-quantile; afterwards a sample is an outlier when its score is above it.
///
/// Why: scores have no natural scale (entropy in nats up to ln C, energies in logit units, both
/// depending on the logit scale of the model), and STAMP has no hard threshold at all — it only
/// reports AUROC. A deployed daemon must decide per sample, so it calibrates on its own stream:
/// with q = 0.95 roughly 5 % of samples like the first N are flagged. This assumes the first N
/// samples are mostly in-distribution; give a fixed threshold instead when that is not true.
///
/// Quantile: linear interpolation between order statistics (the "type 7" rule, NumPy's and R's
/// default): with the n finite scores sorted, h = (n − 1)·q, and the threshold is
/// x[⌊h⌋] + (h − ⌊h⌋)·(x[⌊h⌋+1] − x[⌊h⌋]).
///
/// Non-finite scores are not collected (counted in `skippedNonFinite`) and always count as
/// outliers once calibrated. While calibrating, nothing is flagged. After calibration the stored
/// scores are dropped, so a checkpoint holds only the threshold. Defaults: N = 1000, q = 0.95.
public struct ThresholdCalibrator: Codable, Equatable, Sendable {
    /// N, the number of finite scores to collect.
    public let sampleCount: Int
    /// q in (0, 1).
    public let quantile: Double
    /// Scores collected so far (empty once calibrated).
    public private(set) var scores: [Float]
    /// The threshold; nil while calibrating.
    public private(set) var threshold: Float?
    public private(set) var skippedNonFinite: Int

    public static let defaultSampleCount = 1000
    public static let defaultQuantile = 0.95

    public init(sampleCount: Int = ThresholdCalibrator.defaultSampleCount,
                quantile: Double = ThresholdCalibrator.defaultQuantile) throws(AdaptationConfigurationError) {
        try Validate.atLeast(sampleCount, 1, "ThresholdCalibrator.sampleCount")
        try Validate.open(quantile, 0, 1, "ThresholdCalibrator.quantile")
        self.sampleCount = sampleCount
        self.quantile = quantile
        scores = []
        scores.reserveCapacity(sampleCount)          // the only allocation
        threshold = nil
        skippedNonFinite = 0
    }

    /// A calibrator that is calibrated from the start with a fixed threshold; `sampleCount` and
    /// `quantile` only matter if it is later asked to `recalibrate()`.
    public init(fixedThreshold: Float, sampleCount: Int = ThresholdCalibrator.defaultSampleCount,
                quantile: Double = ThresholdCalibrator.defaultQuantile) throws(AdaptationConfigurationError) {
        try Validate.finite(Double(fixedThreshold), "ThresholdCalibrator.fixedThreshold")
        try self.init(sampleCount: sampleCount, quantile: quantile)
        scores = []
        threshold = fixedThreshold
    }

    public var isCalibrated: Bool { threshold != nil }

    /// Records a score while calibrating and returns whether the sample is an outlier (false
    /// while calibrating; the sample that completes calibration is judged by the new threshold).
    public mutating func observe(_ score: Float) -> Bool {
        if threshold == nil {
            if score.isFinite {
                scores.append(score)
                if scores.count >= sampleCount {
                    threshold = Self.quantile(of: scores, q: quantile)
                    scores = []
                }
            } else {
                skippedNonFinite += 1
            }
        }
        return isOutlier(score)
    }

    /// Score above the threshold (strictly), or non-finite, once calibrated; false before.
    public func isOutlier(_ score: Float) -> Bool {
        guard let threshold else { return false }
        return !score.isFinite || score > threshold
    }

    /// Starts collecting again (e.g. after the operator swaps the camera).
    public mutating func recalibrate() {
        threshold = nil
        scores = []
        scores.reserveCapacity(sampleCount)
        skippedNonFinite = 0
    }

    /// Type-7 quantile of finite values (sorted copy; n ≥ 1).
    public static func quantile(of values: [Float], q: Double) -> Float {
        precondition(!values.isEmpty && q >= 0 && q <= 1, "quantile of \(values.count) values at \(q)")
        let sorted = values.sorted()
        let h = Double(sorted.count - 1) * q
        let lo = Int(h.rounded(.down))
        let hi = Swift.min(lo + 1, sorted.count - 1)
        let x0 = Double(sorted[lo]), x1 = Double(sorted[hi])
        return Float(x0 + (h - Double(lo)) * (x1 - x0))
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let n = try c.decode(Int.self, forKey: .sampleCount)
        let q = try c.decode(Double.self, forKey: .quantile)
        self = try decodingConfiguration(decoder) { () throws(AdaptationConfigurationError) in
            try ThresholdCalibrator(sampleCount: n, quantile: q)
        }
        scores = try c.decode([Float].self, forKey: .scores)
        threshold = try c.decodeIfPresent(Float.self, forKey: .threshold)
        skippedNonFinite = try c.decode(Int.self, forKey: .skippedNonFinite)
        let consistent = threshold.map { $0.isFinite && scores.isEmpty } ?? (scores.count < n)
        guard consistent, scores.allSatisfy({ $0.isFinite }), skippedNonFinite >= 0 else {
            throw corruptState(decoder, "threshold calibrator state is inconsistent")
        }
    }
}
