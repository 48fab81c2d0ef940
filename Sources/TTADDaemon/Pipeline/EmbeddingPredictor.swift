import TTADModel
import TTADPresets
import TTADProtocol

/// Embedding mode: gathers a batch of validated f32 embeddings into one contiguous buffer and
/// classifies them with one matrix product against the class embeddings; the preset then
/// rescores and learns from the rows (presets that work on embeddings: `PresetDescriptor`).
///
/// Owned by the processing thread; the buffers are allocated once at the configured batch size,
/// so the per-sample path does not allocate.
final class EmbeddingPredictor: Predictor {
    let classifier: EmbeddingClassifier
    let classNames: [String]
    let dimension: Int
    var preset: any AdaptationPreset
    private let presetMaker: () throws -> any AdaptationPreset
    private let maxBatch: Int
    private let buffer: UnsafeMutableBufferPointer<Float>
    private var results: [ClassificationResult] = []
    private(set) var count = 0

    /// `makePreset` builds one more preset like `preset` (for the states of `scope = "stream"`).
    init(classes: ClassEmbeddings, logitScale: Float, topK: Int, maxBatch: Int, preset: any AdaptationPreset = FrozenPreset(),
         makePreset: @escaping () throws -> any AdaptationPreset = { FrozenPreset() }) {
        classifier = EmbeddingClassifier(classes: classes, logitScale: logitScale, topK: topK, maxBatch: maxBatch)
        classNames = classes.names
        dimension = classifier.dimension
        self.maxBatch = maxBatch
        self.preset = preset
        presetMaker = makePreset
        buffer = .allocate(capacity: maxBatch * classifier.dimension)
        buffer.initialize(repeating: 0)
    }

    deinit { buffer.deallocate() }

    func makePreset() throws -> any AdaptationPreset { try presetMaker() }

    var embeddingDimension: Int? { dimension }

    func accepts(_ encoding: SampleEncoding) -> Bool { encoding == .f32Embedding }

    func beginBatch() { count = 0 }

    /// Copies one payload into the batch after validating it; returns the rejection otherwise.
    func append(payload: [UInt8], header: SampleHeader, decoder: SampleDecoder) -> Rejection? {
        precondition(count < maxBatch, "batch larger than max_batch")
        let row = UnsafeMutableBufferPointer(rebasing: buffer[(count * dimension)..<((count + 1) * dimension)])
        if let r = decoder.readEmbedding(payload: payload, into: row, header: header) { return r }
        count += 1
        return nil
    }

    private var batch: PresetBatch {
        PresetBatch(count: count, features: UnsafePointer(buffer.baseAddress!), featureDimension: dimension, classifier: classifier)
    }

    /// Classifies the rows gathered since `beginBatch`; result i belongs to the i-th accepted
    /// sample.
    func finishBatch() -> ArraySlice<ClassificationResult> {
        guard count > 0 else { return [] }
        classifier.classify(batch: UnsafeBufferPointer(rebasing: buffer[0..<(count * dimension)]),
                            count: count, results: &results)
        preset.rescore(batch, results: &results)
        return results[0..<count]
    }

    func adaptAfterBatch(outliers: [Bool]) {
        guard count > 0 else { return }
        preset.learn(batch, results: results[0..<count], outliers: outliers)
    }

    var featureDimension: Int { dimension }

    func features(at i: Int) -> UnsafeBufferPointer<Float> {
        precondition(i >= 0 && i < count)
        return UnsafeBufferPointer(rebasing: buffer[(i * dimension)..<((i + 1) * dimension)])
    }
}
