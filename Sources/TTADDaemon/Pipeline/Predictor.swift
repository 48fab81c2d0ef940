import TTADModel
import TTADPresets
import TTADProtocol

/// What the processing loop needs from a prediction mode: gather a batch of validated samples,
/// score them all at once, and hand them to the adaptation preset. Implemented by
/// `EmbeddingPredictor` (f32 embeddings computed elsewhere) and `ImagePredictor` (images through
/// the in-process CLIP model). Everything that adapts is the `preset`'s.
///
/// Owned by the processing thread; implementations allocate their batch buffers once.
protocol Predictor: AnyObject {
    var classNames: [String] { get }
    /// The embedding dimension f32-embedding samples must have; nil when the mode takes none.
    var embeddingDimension: Int? { get }
    /// Whether this mode can predict from `encoding` (others are rejected as unsupported_encoding).
    func accepts(_ encoding: SampleEncoding) -> Bool
    func beginBatch()
    /// Copies one sample into the batch after validating it; returns the rejection otherwise.
    func append(payload: [UInt8], header: SampleHeader, decoder: SampleDecoder) -> Rejection?
    /// Scores the samples appended since `beginBatch` (the preset encodes and rescores as it
    /// predicts); result i belongs to the i-th accepted one.
    func finishBatch() -> ArraySlice<ClassificationResult>
    /// Length of the per-sample embedding the classifier scored (the drift monitor's input).
    var featureDimension: Int { get }
    /// The embedding of the i-th sample of the last finished batch (the input embedding in
    /// embedding mode, the image features in image mode). Valid until the next `beginBatch`.
    func features(at i: Int) -> UnsafeBufferPointer<Float>
    /// The adaptation preset the next batch is predicted with and learned by (`frozen` when
    /// nothing adapts). With `scope = "stream"` the loop sets it to the batch's state's.
    var preset: any AdaptationPreset { get set }
    /// A fresh preset of the configured kind from the same context (one per adapted state).
    func makePreset() throws -> any AdaptationPreset
    /// Hands the last finished batch to the preset's learning (`outliers[i]` for its i-th sample).
    func adaptAfterBatch(outliers: [Bool])
}
