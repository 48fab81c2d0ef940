import Foundation

/// TDA (Karmanov et al., CVPR 2024, `tda_runner.py`): a training-free dynamic cache that adjusts
/// CLIP's logits with the stream's own confident samples. The peer a user would pick instead of
/// gradient-based adaptation: no backward pass, bounded state (at most 5·C feature vectors).
///
/// - **Positive cache**: per pseudo-label class at most `positiveCapacity` (3) entries (unit
///   feature, entropy), kept sorted by entropy; when full, a new sample replaces the worst entry
///   if its entropy is lower.
/// - **Negative cache**: only samples whose entropy normalised as TDA's code does it (nats divided
///   by log₂ C) lies strictly between `negativeEntropyBounds` (0.2, 0.5); per class at most
///   `negativeCapacity` (2) entries, each keeping the mask 1[lower < p < upper] of its
///   probabilities with (lower, upper) = `negativeMaskBounds` (0.03, 1.0).
/// - **Logits**: `z + α₊·A₊·Y₊ − α₋·A₋·Y₋` with A = exp(−β(1 − f·K)) over the cached unit
///   features K, Y₊ the one-hot pseudo-labels, Y₋ the masks. `z` is the caller's CLIP logits (TDA
///   uses 100·cos; here the model's own scale). Defaults: (α₊, β₊) = (2, 5) as TDA on ImageNet,
///   (α₋, β₋) = (0.117, 1).
/// - Order: the cache is updated with the sample first, then its logits are adjusted (TDA's).
///
/// Outliers are the caller's to keep out (`update` is simply not called for them).
public struct TDACache: Codable, Equatable, Sendable {
    public struct Configuration: Codable, Equatable, Sendable {
        public let classCount: Int
        public let dimension: Int
        public let positiveCapacity: Int
        public let negativeCapacity: Int
        public let positiveAlpha: Float, positiveBeta: Float
        public let negativeAlpha: Float, negativeBeta: Float
        public let negativeEntropyBounds: ClosedRange<Double>
        public let negativeMaskBounds: ClosedRange<Float>

        public init(classCount: Int, dimension: Int, positiveCapacity: Int = 3, negativeCapacity: Int = 2,
                    positiveAlpha: Float = 2, positiveBeta: Float = 5, negativeAlpha: Float = 0.117, negativeBeta: Float = 1,
                    negativeEntropyBounds: ClosedRange<Double> = 0.2...0.5,
                    negativeMaskBounds: ClosedRange<Float> = 0.03...1.0) throws(AdaptationConfigurationError) {
            try Validate.atLeast(classCount, 2, "TDACache.classCount")
            try Validate.atLeast(dimension, 1, "TDACache.dimension")
            try Validate.atLeast(positiveCapacity, 0, "TDACache.positiveCapacity")
            try Validate.atLeast(negativeCapacity, 0, "TDACache.negativeCapacity")
            for (v, n) in [(positiveAlpha, "positiveAlpha"), (positiveBeta, "positiveBeta"),
                           (negativeAlpha, "negativeAlpha"), (negativeBeta, "negativeBeta")] {
                try Validate.nonNegative(Double(v), "TDACache.\(n)")
            }
            self.classCount = classCount
            self.dimension = dimension
            self.positiveCapacity = positiveCapacity
            self.negativeCapacity = negativeCapacity
            self.positiveAlpha = positiveAlpha
            self.positiveBeta = positiveBeta
            self.negativeAlpha = negativeAlpha
            self.negativeBeta = negativeBeta
            self.negativeEntropyBounds = negativeEntropyBounds
            self.negativeMaskBounds = negativeMaskBounds
        }
    }

    public struct Entry: Codable, Equatable, Sendable {
        public let feature: [Float]
        public let entropy: Float
        /// Negative entries: the probability mask (C values, 0 or 1). Empty for positive entries.
        public let mask: [Float]
    }

    public let configuration: Configuration
    public private(set) var positive: [[Entry]]
    public private(set) var negative: [[Entry]]

    public init(configuration: Configuration) {
        self.configuration = configuration
        positive = Array(repeating: [], count: configuration.classCount)
        negative = Array(repeating: [], count: configuration.classCount)
    }

    public var positiveCount: Int { positive.reduce(0) { $0 + $1.count } }
    public var negativeCount: Int { negative.reduce(0) { $0 + $1.count } }

    /// Offers a sample: its unit feature, its class probabilities (C values) and their entropy in
    /// nats. The pseudo-label is the most probable class.
    public mutating func update(feature: [Float], probabilities: [Float], entropy: Float) throws(AdaptationInputError) {
        let c = configuration.classCount
        guard feature.count == configuration.dimension else {
            throw AdaptationInputError(argument: "TDACache.update feature", "\(feature.count) values, expected \(configuration.dimension)")
        }
        guard probabilities.count == c else {
            throw AdaptationInputError(argument: "TDACache.update probabilities", "\(probabilities.count) values, expected \(c)")
        }
        guard entropy.isFinite, feature.allSatisfy(\.isFinite), probabilities.allSatisfy(\.isFinite) else {
            throw AdaptationInputError(argument: "TDACache.update", "non-finite input")
        }
        var label = 0
        for k in 1..<c where probabilities[k] > probabilities[label] { label = k }
        Self.insert(Entry(feature: feature, entropy: entropy, mask: []), into: &positive[label], capacity: configuration.positiveCapacity)
        let normalised = Double(entropy) / log2(Double(c))
        let b = configuration.negativeEntropyBounds
        if normalised > b.lowerBound && normalised < b.upperBound {
            let m = configuration.negativeMaskBounds
            let mask = probabilities.map { $0 > m.lowerBound && $0 < m.upperBound ? Float(1) : 0 }
            Self.insert(Entry(feature: feature, entropy: entropy, mask: mask), into: &negative[label], capacity: configuration.negativeCapacity)
        }
    }

    /// Sorted by entropy; a full list takes a new entry only in place of its worst (last) one.
    private static func insert(_ e: Entry, into list: inout [Entry], capacity: Int) {
        guard capacity > 0 else { return }
        if list.count >= capacity {
            guard e.entropy < list[list.count - 1].entropy else { return }
            list.removeLast()
        }
        let at = list.firstIndex { $0.entropy > e.entropy } ?? list.count
        list.insert(e, at: at)
    }

    /// Adds the cache terms to `logits` (C values) for the unit `feature`.
    public func adjust(logits: UnsafeMutablePointer<Float>, feature: UnsafePointer<Float>) {
        let cfg = configuration, d = cfg.dimension
        func affinity(_ e: Entry, _ beta: Float) -> Float {
            var dot: Float = 0
            for j in 0..<d { dot += e.feature[j] * feature[j] }
            return Foundation.exp(-beta * (1 - dot))
        }
        for (k, list) in positive.enumerated() {
            for e in list { logits[k] += cfg.positiveAlpha * affinity(e, cfg.positiveBeta) }
        }
        for list in negative {
            for e in list {
                let a = cfg.negativeAlpha * affinity(e, cfg.negativeBeta)
                for k in 0..<cfg.classCount { logits[k] -= a * e.mask[k] }
            }
        }
    }

    public mutating func removeAll() {
        for i in positive.indices { positive[i].removeAll() }
        for i in negative.indices { negative[i].removeAll() }
    }

    // MARK: - Codable with re-validation

    private enum CodingKeys: String, CodingKey { case configuration, positive, negative }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let cfg = try c.decode(Configuration.self, forKey: .configuration)
        let pos = try c.decode([[Entry]].self, forKey: .positive)
        let neg = try c.decode([[Entry]].self, forKey: .negative)
        guard pos.count == cfg.classCount, neg.count == cfg.classCount else { throw corruptState(decoder, "TDACache: class lists do not match the class count") }
        for (lists, cap, masked) in [(pos, cfg.positiveCapacity, false), (neg, cfg.negativeCapacity, true)] {
            for list in lists {
                guard list.count <= cap else { throw corruptState(decoder, "TDACache: a class list exceeds its capacity") }
                for e in list {
                    guard e.feature.count == cfg.dimension, e.feature.allSatisfy(\.isFinite), e.entropy.isFinite,
                          e.mask.count == (masked ? cfg.classCount : 0) else {
                        throw corruptState(decoder, "TDACache: an entry has the wrong size or a non-finite value")
                    }
                }
                guard zip(list, list.dropFirst()).allSatisfy({ $0.entropy <= $1.entropy }) else {
                    throw corruptState(decoder, "TDACache: a class list is not sorted by entropy")
                }
            }
        }
        configuration = cfg
        positive = pos
        negative = neg
    }
}
