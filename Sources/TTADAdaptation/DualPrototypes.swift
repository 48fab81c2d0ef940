import Foundation

/// DPE's evolving prototypes (Zhang et al., NeurIPS 2024, §3): textual prototypes that start as
/// the class embeddings and evolve by a cumulative average of per-sample optima, and visual
/// prototypes, each the mean of a small priority queue of the class's most confident (lowest
/// entropy) test features. Bounded: C text rows and at most C·`queueCapacity` features.
///
/// - `offer` keeps, per pseudo-label class, the `queueCapacity` (M = 3) lowest-entropy unit
///   features, sorted by entropy (a full queue takes a sample only in place of its worst).
/// - `evolve` folds an optimised set of text rows T* into the prototypes:
///   T ← normalise(((k − 1)·T + T*) / k), k counting the class embeddings as the first term,
///   so the text side is the running mean of everything it was evolved with.
public struct DualPrototypes: Codable, Equatable, Sendable {
    public struct Configuration: Codable, Equatable, Sendable {
        public let classCount: Int
        public let dimension: Int
        public let queueCapacity: Int

        public init(classCount: Int, dimension: Int, queueCapacity: Int = 3) throws(AdaptationConfigurationError) {
            try Validate.atLeast(classCount, 2, "DualPrototypes.classCount")
            try Validate.atLeast(dimension, 1, "DualPrototypes.dimension")
            try Validate.atLeast(queueCapacity, 1, "DualPrototypes.queueCapacity")
            self.classCount = classCount
            self.dimension = dimension
            self.queueCapacity = queueCapacity
        }
    }

    public struct Entry: Codable, Equatable, Sendable {
        public let feature: [Float]
        public let entropy: Float
    }

    public let configuration: Configuration
    /// Textual prototypes, `classCount × dimension`, unit rows.
    public private(set) var text: [Float]
    /// Terms in the text side's running mean (1: the class embeddings alone).
    public private(set) var textTerms: Int
    public private(set) var queues: [[Entry]]

    /// `classes`: the class embeddings, `classCount × dimension` (normalised here).
    public init(configuration: Configuration, classes: [Float]) throws(AdaptationInputError) {
        let n = configuration.classCount * configuration.dimension
        guard classes.count == n else { throw AdaptationInputError(argument: "DualPrototypes classes", "\(classes.count) values, expected \(n)") }
        guard classes.allSatisfy(\.isFinite) else { throw AdaptationInputError(argument: "DualPrototypes classes", "non-finite value") }
        self.configuration = configuration
        text = classes
        textTerms = 1
        queues = Array(repeating: [], count: configuration.classCount)
        Self.normaliseRows(&text, dimension: configuration.dimension)
    }

    public var queuedCount: Int { queues.reduce(0) { $0 + $1.count } }

    /// Offers a unit feature with its pseudo-label and entropy; true when a queue took it.
    @discardableResult
    public mutating func offer(feature: [Float], label: Int, entropy: Float) throws(AdaptationInputError) -> Bool {
        try Validate.classIndex(label, configuration.classCount, "DualPrototypes.offer label")
        guard feature.count == configuration.dimension else {
            throw AdaptationInputError(argument: "DualPrototypes.offer feature", "\(feature.count) values, expected \(configuration.dimension)")
        }
        guard entropy.isFinite, feature.allSatisfy(\.isFinite) else { throw AdaptationInputError(argument: "DualPrototypes.offer", "non-finite input") }
        var q = queues[label]
        if q.count >= configuration.queueCapacity {
            guard entropy < q[q.count - 1].entropy else { return false }
            q.removeLast()
        }
        q.insert(Entry(feature: feature, entropy: entropy), at: q.firstIndex { $0.entropy > entropy } ?? q.count)
        queues[label] = q
        return true
    }

    /// Writes class `c`'s visual prototype (the normalised mean of its queue); false when the
    /// queue is empty.
    public func visualPrototype(_ c: Int, into v: UnsafeMutableBufferPointer<Float>) -> Bool {
        let q = queues[c], d = configuration.dimension
        guard !q.isEmpty else { return false }
        for j in 0..<d { v[j] = 0 }
        for e in q { for j in 0..<d { v[j] += e.feature[j] } }
        var norm: Float = 0
        for j in 0..<d { norm += v[j] * v[j] }
        let inv = norm > 0 ? 1 / norm.squareRoot() : 0
        for j in 0..<d { v[j] *= inv }
        return true
    }

    /// Folds optimised text rows (`classCount × dimension`, unit) into the running mean.
    public mutating func evolve(with optimised: [Float]) throws(AdaptationInputError) {
        guard optimised.count == text.count else {
            throw AdaptationInputError(argument: "DualPrototypes.evolve", "\(optimised.count) values, expected \(text.count)")
        }
        guard optimised.allSatisfy(\.isFinite) else { throw AdaptationInputError(argument: "DualPrototypes.evolve", "non-finite value") }
        let k = Float(textTerms + 1)
        for i in text.indices { text[i] = ((k - 1) * text[i] + optimised[i]) / k }
        Self.normaliseRows(&text, dimension: configuration.dimension)
        textTerms += 1
    }

    private static func normaliseRows(_ m: inout [Float], dimension d: Int) {
        for r in 0..<(m.count / d) {
            var n: Float = 0
            for j in 0..<d { n += m[r * d + j] * m[r * d + j] }
            let inv = n > 0 ? 1 / n.squareRoot() : 0
            for j in 0..<d { m[r * d + j] *= inv }
        }
    }

    // MARK: - Codable with re-validation

    private enum CodingKeys: String, CodingKey { case configuration, text, textTerms, queues }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let cfg = try c.decode(Configuration.self, forKey: .configuration)
        let text = try c.decode([Float].self, forKey: .text)
        let terms = try c.decode(Int.self, forKey: .textTerms)
        let queues = try c.decode([[Entry]].self, forKey: .queues)
        guard text.count == cfg.classCount * cfg.dimension, text.allSatisfy(\.isFinite), terms >= 1,
              queues.count == cfg.classCount else {
            throw corruptState(decoder, "DualPrototypes: sizes do not match the configuration")
        }
        for q in queues {
            guard q.count <= cfg.queueCapacity, q.allSatisfy({ $0.feature.count == cfg.dimension && $0.feature.allSatisfy(\.isFinite) && $0.entropy.isFinite }),
                  zip(q, q.dropFirst()).allSatisfy({ $0.entropy <= $1.entropy }) else {
                throw corruptState(decoder, "DualPrototypes: a queue is too long, unsorted or holds a bad entry")
            }
        }
        configuration = cfg
        self.text = text
        textTerms = terms
        self.queues = queues
    }
}
