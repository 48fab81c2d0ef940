import TTADModel

/// One adaptation method as the daemon drives it, in image and in embedding mode alike.
///
/// Per batch the predictor calls, in order: `encode` (image mode only: a preset that predicts
/// with its own adapted tower writes the features; the others return false and the source tower
/// runs), the zero-shot classifier, `rescore` (a preset that predicts by other means rewrites the
/// results), then — once the daemon has flagged outliers and published — `learn`. Where `learn`
/// does its work (inline, or handed to a worker thread) is the preset's construction
/// (`PresetContext.execution`), never the daemon's concern.
///
/// All calls come from the processing thread. A preset with a worker owns the hand-off to it.
public protocol AdaptationPreset: AnyObject {
    /// Writes `batch` rows of image features from the model input at `images`; returns false to
    /// let the predictor run the source tower instead.
    func encode(images: UnsafePointer<Float>, batch: Int, features: UnsafeMutablePointer<Float>) -> Bool
    /// Rewrites the zero-shot results of the batch just classified (`results[0..<batch.count]`).
    func rescore(_ batch: PresetBatch, results: inout [ClassificationResult])
    /// Version of the adapted state the last batch was predicted with (0: the source).
    var version: Int { get }
    /// Learns from the batch just predicted and published; never from a sample in `outliers`.
    func learn(_ batch: PresetBatch, results: ArraySlice<ClassificationResult>, outliers: [Bool])
    /// Whether the preset reports steps, resets and bank levels (`takeReport`); a preset that
    /// does not has its version published directly.
    var reportsAdaptation: Bool { get }
    /// What adaptation did since the last call; nil when there is nothing to report.
    func takeReport() -> AdaptationReport?
    /// Starts a worker, after any restore. Inline presets do nothing.
    func start()
    /// Lets a worker finish what it was handed; false if it did not within `timeout` seconds.
    func finish(timeout: Double) -> Bool
    /// Everything the preset keeps, for the checkpoint; nil when it keeps nothing.
    func checkpoint() -> AdaptationCheckpoint?
    /// Continues from a checkpoint; returns why not (changing nothing) when it does not fit.
    func restore(_ checkpoint: AdaptationCheckpoint) -> String?
}

extension AdaptationPreset {
    public func encode(images: UnsafePointer<Float>, batch: Int, features: UnsafeMutablePointer<Float>) -> Bool { false }
    public func rescore(_ batch: PresetBatch, results: inout [ClassificationResult]) {}
    public func learn(_ batch: PresetBatch, results: ArraySlice<ClassificationResult>, outliers: [Bool]) {}
    public func start() {}
    public func finish(timeout: Double) -> Bool { true }
}
