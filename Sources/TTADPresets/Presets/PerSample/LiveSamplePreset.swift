import TTADEngine
import TTADModel

/// A `SplitSamplePreset` in live mode: `predicting` predicts on the processing thread with the
/// parameters the worker last published; `learning` — bank, updates, a teacher's EMA — runs on
/// a `LearningWorker`, so an update over the memory (forward and backward of every item) never
/// holds up a prediction. Both instances start equal (and equal after a restore); only the
/// predicting parameters flow from the worker to the processing thread.
final class LiveSamplePreset<Method: SplitSamplePreset>: SamplePreset {
    private let predicting: Method
    private let worker: LearningWorker<SampleLearning<Method>>
    /// `predicting`'s parameter buffers (a restore copies into them, so they stay these).
    private let predictingParameters: [FloatBuffer]
    private var current = 0
    /// Observations of the batch being learned from, handed over as one job.
    private var batch: [Method.Observation] = []

    init(predicting: Method, learning: Method, name: String, cpuBudget: Double) {
        self.predicting = predicting
        predictingParameters = predicting.predictingParameters
        worker = LearningWorker(learner: SampleLearning(learning), name: name, cpuBudget: cpuBudget)
    }

    /// Read by the driver before each batch's predictions: the moment to take the newest
    /// published parameters, so the whole batch is predicted with one version.
    var version: Int {
        current = worker.refresh(predictingParameters, current: current)
        return current
    }

    func predict(row: Int, image: DecodedImage, pixels: UnsafePointer<Float>, logits: UnsafeMutablePointer<Float>) {
        predicting.predict(row: row, image: image, pixels: pixels, logits: logits)
    }

    func encode(images: UnsafePointer<Float>, batch: Int, features: UnsafeMutablePointer<Float>) -> Bool {
        predicting.encodeLive(images: images, batch: batch, features: features)
    }

    func predicted(row: Int, result: ClassificationResult) {
        predicting.predictedLive(row: row, result: result)
    }

    func observe(row: Int, sample: () -> BankSample, frozenClass: Int, isOutlier: Bool) {
        batch.append(predicting.observation(row: row, sample: sample, frozenClass: frozenClass, isOutlier: isOutlier))
    }

    func batchLearned() {
        guard !batch.isEmpty else { return }
        worker.submit(batch)
        batch.removeAll(keepingCapacity: true)
    }

    func takeReport() -> AdaptationReport { worker.takeReport() }

    func start() { worker.start() }

    func finish(timeout: Double) -> Bool { worker.finish(timeout: timeout) }

    func checkpoint() throws -> PresetCheckpoint {
        guard let s = worker.state() else { throw PresetRestoreError("no state yet") }
        return try worker.learner.method.checkpoint(s)
    }

    func restore(_ c: PresetCheckpoint) -> String? {
        var why: String?
        worker.beforeStart { why = $0.method.restore(c) }
        if let why { return why }
        if let why = predicting.restore(c) { return why }
        current = predicting.version
        return nil
    }
}

/// The learning half of a `SplitSamplePreset` on the worker. Published: its predicting
/// parameters.
final class SampleLearning<Method: SplitSamplePreset>: BackgroundLearning {
    let method: Method

    init(_ method: Method) { self.method = method }

    static func samples(in job: [Method.Observation]) -> Int { job.count }

    func process(_ round: [[Method.Observation]]) {
        for job in round { for o in job { method.learn(o) } }
    }

    var version: Int { method.version }

    var publishedParameters: [FloatBuffer] { method.predictingParameters }

    func snapshot() -> Method.State { method.state() }

    func takeReport() -> AdaptationReport { method.takeReport() }
}

extension PerSamplePreset {
    /// A `SplitSamplePreset` where the context says learning runs: one instance inline
    /// (deterministic mode), or a predicting and a learning instance with a worker (live mode).
    static func split<Method: SplitSamplePreset>(_ c: PresetContext, worker name: String,
                                                 _ make: () throws -> Method) throws -> PerSamplePreset {
        switch c.execution {
        case .inline:
            return PerSamplePreset(try make(), context: c)
        case .worker:
            return PerSamplePreset(LiveSamplePreset(predicting: try make(), learning: try make(), name: name,
                                                    cpuBudget: c.workerCPUBudget), context: c)
        }
    }
}
