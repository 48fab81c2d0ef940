import TTADModel
import TTADProtocol

/// What the processing loop needs from a prediction mode: gather a batch of validated samples,
/// then score them all at once. Implemented by `EmbeddingPredictor` (f32 embeddings computed
/// elsewhere) and `ImagePredictor` (images through the in-process CLIP model).
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
    /// Scores the samples appended since `beginBatch`; result i belongs to the i-th accepted one.
    func finishBatch() -> ArraySlice<ClassificationResult>
    /// Length of the per-sample embedding the classifier scored (the drift monitor's input).
    var featureDimension: Int { get }
    /// The embedding of the i-th sample of the last finished batch (the input embedding in
    /// embedding mode, the image features in image mode). Valid until the next `beginBatch`.
    func features(at i: Int) -> UnsafeBufferPointer<Float>
    /// Version of the adapted parameters the last batch was predicted with (0: the source).
    var promptVersion: Int { get }
    /// Hands the last finished batch to online adaptation (`outliers[i]` for its i-th sample):
    /// inline in deterministic mode, to the adaptation worker in live mode.
    func adaptAfterBatch(outliers: [Bool])
    /// Whether the preset adapts by gradient (the `ttad` preset) and so produces reports.
    var adaptsByGradient: Bool { get }
    /// What gradient adaptation did since the last call; nil when there is nothing to report.
    func takeAdaptationReport() -> AdaptationReport?
    /// Starts live mode's adaptation worker (after any restore).
    func startAdaptation()
    /// Lets the adaptation worker finish what it was handed; false if it did not in time.
    func stopAdaptation(timeout: Double) -> Bool
    /// What adaptation keeps, for the checkpoint; nil when nothing adapts.
    func adaptationState() -> AdaptationCheckpoint?
    /// Continues from a checkpoint's adaptation state; returns why not when it does not fit.
    func restoreAdaptation(_ s: AdaptationCheckpoint) -> String?
}

extension Predictor {
    var promptVersion: Int { 0 }
    func adaptAfterBatch(outliers: [Bool]) {}
    var adaptsByGradient: Bool { false }
    func takeAdaptationReport() -> AdaptationReport? { nil }
    func startAdaptation() {}
    func stopAdaptation(timeout: Double) -> Bool { true }
    func adaptationState() -> AdaptationCheckpoint? { nil }
    func restoreAdaptation(_ s: AdaptationCheckpoint) -> String? { "this daemon does not adapt" }
}

/// The checkpoint section `adaptation`: the state of whichever preset runs.
struct AdaptationCheckpoint: Codable {
    var ttad: ImageAdapter.State?
    var tda: TDAAdapter.State?
    /// The `tpt`, `dynaprompt`, `rotta` or `stamp` preset's state.
    var preset: PresetCheckpoint?
    var version: Int { ttad?.version ?? tda?.version ?? preset?.version ?? 0 }
}
