import TTADEngine

/// The learning half of a preset that runs on a `LearningWorker` thread in live mode: it takes
/// what the processing thread hands over after predicting (`Job`), learns from it, and says
/// which parameters predictions should use from now on.
///
/// Every call comes from the worker thread, except before `LearningWorker.start` and after
/// `LearningWorker.finish` (restore, the final checkpoint).
protocol BackgroundLearning: AnyObject {
    associatedtype Job: Sendable
    associatedtype Snapshot
    /// Samples a job holds (the backlog and dropped counts are in samples).
    static func samples(in job: Job) -> Int
    /// Learns from one round of queued jobs (in order), taking at most the steps that fell due.
    func process(_ round: [Job])
    /// Version of the parameters in `publishedParameters` (0: the source's).
    var version: Int { get }
    /// The parameters predictions are made with, copied out whenever `version` changes.
    var publishedParameters: [FloatBuffer] { get }
    /// Everything the learner keeps, for a checkpoint.
    func snapshot() -> Snapshot
    /// What learning did since the last call.
    func takeReport() -> AdaptationReport
}
