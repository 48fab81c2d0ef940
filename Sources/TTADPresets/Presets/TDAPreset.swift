import Foundation
import TTADAdaptation
import TTADEngine
import TTADModel

/// The `tda` preset: for each sample of a classified batch, the TDA cache takes the sample
/// (unit feature, zero-shot probabilities, entropy) and then re-scores it, as TDA does. The
/// result's probabilities, entropy and top classes become the adjusted ones; `maxCosine` (the
/// outlier score's input) stays the zero-shot cosine, so outlier flagging means the same in
/// every preset.
///
/// No gradients, no model change: the cache is the whole state (checkpointed as `adaptation`).
/// Its version counts cache changes. It needs only features and zero-shot probabilities, so it
/// works in embedding mode as in image mode. The cache is updated with each sample before that
/// sample is re-scored, as TDA does, so it runs on the processing thread in either execution.
public final class TDAPreset: AdaptationPreset {
    static let descriptor = PresetDescriptor(name: .tda, worksOnEmbeddings: true,
                                             summary: "TDA: a training-free cache of confident samples re-scores each one") { c in
        try TDAPreset(classes: c.classes, logitScale: c.logitScale, topK: c.topK, model: c.image?.model.folder ?? c.classes.source)
    }

    private(set) var cache: TDACache
    public private(set) var version = 0
    let stateKey: String
    private let logitScale: Float
    private let topK: Int
    private var unit: [Float]
    private var probabilities: [Float]
    private var logits: [Float]
    private var top: [(index: Int, value: Float)] = []

    init(classes: ClassEmbeddings, logitScale: Float, topK: Int, model: String) throws {
        cache = TDACache(configuration: try TDACache.Configuration(classCount: classes.count, dimension: classes.dimension))
        self.logitScale = logitScale
        self.topK = topK
        unit = [Float](repeating: 0, count: classes.dimension)
        probabilities = [Float](repeating: 0, count: classes.count)
        logits = probabilities
        top.reserveCapacity(topK)
        stateKey = "tda \(cache.configuration) model=\(model) classes=\(classes.names)"
    }

    /// Updates the cache with sample `row` of the classifier's last batch and rewrites `result`
    /// with the adjusted scores. `feature`: the sample's (un-normalised) image features.
    public func rescore(_ batch: PresetBatch, results: inout [ClassificationResult]) {
        for i in 0..<batch.count { apply(row: i, feature: batch.features(at: i), classifier: batch.classifier, result: &results[i]) }
    }

    public var reportsAdaptation: Bool { false }
    public func takeReport() -> AdaptationReport? { nil }
    public func checkpoint() -> AdaptationCheckpoint? { AdaptationCheckpoint(tda: state()) }

    public func restore(_ c: AdaptationCheckpoint) -> String? {
        guard let t = c.tda else { return "the checkpoint holds another preset's state" }
        return restore(t)
    }

    func apply(row: Int, feature: UnsafeBufferPointer<Float>, classifier: EmbeddingClassifier, result: inout ClassificationResult) {
        _ = unit.withUnsafeMutableBufferPointer { u in
            _ = u.initialize(fromContentsOf: feature)
            return VectorOps.l2Normalize(inPlace: u)
        }
        classifier.withProbabilities(ofRow: row) { p in _ = probabilities.withUnsafeMutableBufferPointer { $0.initialize(fromContentsOf: p) } }
        let before = (cache.positiveCount, cache.negativeCount)
        do {
            try cache.update(feature: unit, probabilities: probabilities, entropy: result.entropy)
        } catch {
            return   // a non-finite sample: scored as zero-shot, the cache untouched
        }
        if (cache.positiveCount, cache.negativeCount) != before { version += 1 }
        // Zero-shot logits again from the unit feature, then the cache terms.
        let w = classifier.classes.matrix.storage, d = unit.count
        for c in logits.indices {
            var dot: Float = 0
            for j in 0..<d { dot += w[c * d + j] * unit[j] }
            logits[c] = logitScale * dot
        }
        logits.withUnsafeMutableBufferPointer { l in
            unit.withUnsafeBufferPointer { cache.adjust(logits: l.baseAddress!, feature: $0.baseAddress!) }
            result.rescore(logits: l, topK: topK, top: &top)
        }
    }

    public struct State: Codable, Sendable {
        public var key: String
        public var cache: TDACache
        public var version: Int
    }

    func state() -> State { State(key: stateKey, cache: cache, version: version) }

    func restore(_ s: State) -> String? {
        guard StateKey.matches(s.key, stateKey), s.cache.configuration == cache.configuration else {
            return "adaptation settings, model or classes changed since the checkpoint"
        }
        cache = s.cache
        version = s.version
        return nil
    }
}
