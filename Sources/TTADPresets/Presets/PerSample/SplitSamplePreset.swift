import TTADEngine
import TTADModel

/// A per-sample method whose learning can run apart from its prediction (RoTTA, STAMP): what
/// learning needs of a predicted sample is a small value (`Observation`), and predictions need
/// only a set of parameters (`predictingParameters`) that learning changes. In live mode
/// `LiveSamplePreset` predicts with one instance on the processing thread and learns with another
/// on a `LearningWorker`; in deterministic mode one instance does both inline.
protocol SplitSamplePreset: SamplePreset {
    associatedtype Observation: Sendable
    associatedtype State
    /// What learning needs of predicted sample `row` (the bank copy only when it may enter).
    func observation(row: Int, sample: () -> BankSample, frozenClass: Int, isOutlier: Bool) -> Observation
    /// Learns from one observation, taking the update when one falls due.
    func learn(_ o: Observation)
    /// The parameters predictions are made with.
    var predictingParameters: [FloatBuffer] { get }
    func state() -> State
    func checkpoint(_ s: State) throws -> PresetCheckpoint
    /// Live mode's prediction (`SamplePreset.encode`): the batch's features from the predicting
    /// parameters; false (the default) keeps `predict` per sample.
    func encodeLive(images: UnsafePointer<Float>, batch: Int, features: UnsafeMutablePointer<Float>) -> Bool
    /// Live mode, after `encodeLive`: row `row`'s result, for its `observation`.
    func predictedLive(row: Int, result: ClassificationResult)
}

extension SplitSamplePreset {
    func encodeLive(images: UnsafePointer<Float>, batch: Int, features: UnsafeMutablePointer<Float>) -> Bool { false }
    func predictedLive(row: Int, result: ClassificationResult) {}

    func observe(row: Int, sample: () -> BankSample, frozenClass: Int, isOutlier: Bool) {
        learn(observation(row: row, sample: sample, frozenClass: frozenClass, isOutlier: isOutlier))
    }

    func checkpoint() throws -> PresetCheckpoint { try checkpoint(state()) }
}
