import Foundation

/// Running per-class Gaussian estimates of unit features with one shared diagonal covariance,
/// updated one sample at a time with soft class weights (DOTA's online Gaussian discriminant
/// analysis; Han et al., NeurIPS 2025). Bounded state whatever the stream's length: C means, C
/// soft counts, d pooled squared deviations.
///
/// - **Means**: a sample with weight wₖ for class k moves μₖ by wₖ/(cₖ + wₖ) of its distance
///   (a weighted running mean; cₖ is the soft count).
/// - **Covariance**: the pooled within-class squared deviations Sⱼ, accumulated with the same
///   weights by West's weighted update (exact for weighted running variances), so Σⱼⱼ = Sⱼ / Σc.
///   Diagonal, not full: scoring stays O(C·d) per sample, the cost of the zero-shot product, and
///   the estimate needs no inverse. `shrinkage` s pulls each variance towards their mean v̄
///   ((1 − s)·Σⱼⱼ + s·v̄), the usual fix for few samples per dimension.
/// - **Scores**: `gₖ = Σⱼ pⱼ μₖⱼ (xⱼ − μₖⱼ / 2)` with precisions pⱼ = v̄ / ((1 − s)Σⱼⱼ + s·v̄), the
///   class-dependent part of the Gaussian log-likelihood divided by v̄. With an isotropic
///   covariance this is x·μₖ − |μₖ|²/2 = const − |x − μₖ|²/2: the scale of a cosine, so a caller
///   can weigh it against zero-shot logits with the same logit scale.
///
/// Classes are estimated only once they hold `minimumCount` of soft count; before that the
/// caller has no estimate for them (`isEstimated`).
public struct ClassGaussians: Codable, Equatable, Sendable {
    public struct Configuration: Codable, Equatable, Sendable {
        public let classCount: Int
        public let dimension: Int
        public let shrinkage: Float
        public let minimumCount: Float

        public init(classCount: Int, dimension: Int, shrinkage: Float = 0.5, minimumCount: Float = 1) throws(AdaptationConfigurationError) {
            try Validate.atLeast(classCount, 2, "ClassGaussians.classCount")
            try Validate.atLeast(dimension, 1, "ClassGaussians.dimension")
            try Validate.closed(Double(shrinkage), 0, 1, "ClassGaussians.shrinkage")
            try Validate.positive(Double(minimumCount), "ClassGaussians.minimumCount")
            self.classCount = classCount
            self.dimension = dimension
            self.shrinkage = shrinkage
            self.minimumCount = minimumCount
        }
    }

    public let configuration: Configuration
    /// `classCount × dimension`, row-major.
    public private(set) var means: [Float]
    /// Soft count per class.
    public private(set) var counts: [Float]
    /// Pooled weighted squared deviations from the class means, per dimension.
    public private(set) var deviations: [Float]

    public init(configuration: Configuration) {
        self.configuration = configuration
        means = [Float](repeating: 0, count: configuration.classCount * configuration.dimension)
        counts = [Float](repeating: 0, count: configuration.classCount)
        deviations = [Float](repeating: 0, count: configuration.dimension)
    }

    public var totalCount: Float { counts.reduce(0, +) }

    public func isEstimated(_ k: Int) -> Bool { counts[k] >= configuration.minimumCount }

    public var estimatedClassCount: Int { counts.reduce(0) { $0 + ($1 >= configuration.minimumCount ? 1 : 0) } }

    /// Adds unit feature `x` to class `k` with weight `w` (> 0).
    public mutating func add(_ x: UnsafeBufferPointer<Float>, toClass k: Int, weight w: Float) throws(AdaptationInputError) {
        let d = configuration.dimension
        try Validate.classIndex(k, configuration.classCount, "ClassGaussians.add class")
        guard x.count == d else { throw AdaptationInputError(argument: "ClassGaussians.add feature", "\(x.count) values, expected \(d)") }
        guard w.isFinite, w > 0 else { throw AdaptationInputError(argument: "ClassGaussians.add weight", "must be finite and > 0, got \(w)") }
        guard x.allSatisfy(\.isFinite) else { throw AdaptationInputError(argument: "ClassGaussians.add feature", "non-finite value") }
        let c = counts[k] + w, f = w / c
        means.withUnsafeMutableBufferPointer { m in
            deviations.withUnsafeMutableBufferPointer { s in
                let row = m.baseAddress! + k * d
                for j in 0..<d {
                    let delta = x[j] - row[j]
                    row[j] += f * delta
                    s[j] += w * delta * (x[j] - row[j])
                }
            }
        }
        counts[k] = c
    }

    /// Writes the precisions pⱼ (`dimension` values; all 1 before any sample).
    public func precisions(into p: UnsafeMutableBufferPointer<Float>) {
        let d = configuration.dimension, total = totalCount, s = configuration.shrinkage
        guard total > 0 else {
            for j in 0..<d { p[j] = 1 }
            return
        }
        var mean: Float = 0
        for j in 0..<d { mean += deviations[j] }
        mean /= Float(d) * total
        guard mean > 0 else {
            for j in 0..<d { p[j] = 1 }
            return
        }
        for j in 0..<d { p[j] = mean / ((1 - s) * deviations[j] / total + s * mean) }
    }

    /// Writes the scoring weights: row k is pⱼ·μₖⱼ (`classCount × dimension`), and the biases
    /// `−Σⱼ pⱼ μₖⱼ² / 2` (`classCount`), so gₖ = weights·x + bias. Rows of classes not estimated
    /// yet are written too (the caller decides what to do with them).
    public func scoringWeights(precisions p: UnsafeBufferPointer<Float>, weights: UnsafeMutableBufferPointer<Float>,
                               biases: UnsafeMutableBufferPointer<Float>) {
        let d = configuration.dimension
        means.withUnsafeBufferPointer { m in
            for k in 0..<configuration.classCount {
                var b: Float = 0
                for j in 0..<d {
                    let w = p[j] * m[k * d + j]
                    weights[k * d + j] = w
                    b += w * m[k * d + j]
                }
                biases[k] = -b / 2
            }
        }
    }

    public mutating func removeAll() {
        for i in means.indices { means[i] = 0 }
        for i in counts.indices { counts[i] = 0 }
        for i in deviations.indices { deviations[i] = 0 }
    }

    // MARK: - Codable with re-validation

    private enum CodingKeys: String, CodingKey { case configuration, means, counts, deviations }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let cfg = try c.decode(Configuration.self, forKey: .configuration)
        let means = try c.decode([Float].self, forKey: .means)
        let counts = try c.decode([Float].self, forKey: .counts)
        let deviations = try c.decode([Float].self, forKey: .deviations)
        guard means.count == cfg.classCount * cfg.dimension, counts.count == cfg.classCount, deviations.count == cfg.dimension else {
            throw corruptState(decoder, "ClassGaussians: sizes do not match the configuration")
        }
        guard means.allSatisfy(\.isFinite), counts.allSatisfy({ $0.isFinite && $0 >= 0 }),
              deviations.allSatisfy({ $0.isFinite && $0 >= 0 }) else {
            throw corruptState(decoder, "ClassGaussians: a non-finite or negative value")
        }
        configuration = cfg
        self.means = means
        self.counts = counts
        self.deviations = deviations
    }
}
