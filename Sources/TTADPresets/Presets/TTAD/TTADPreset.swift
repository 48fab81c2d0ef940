import Foundation
import TTADEngine
import TTADModel

/// The `ttad` preset: predictions run through the adapted LayerNorm affines; learning is the
/// `AnchoredNormAdapter` (bank, admission, collapse guard, label gate, anchored steps).
///
/// Inline execution: the adapter runs on the processing thread. The source tower gives the frozen
/// prediction its admission and guard compare against (skipped while the adapted parameters equal
/// the source), and a due step runs right after the sample that made it due, before the next
/// batch. Worker execution: the batch goes to a `LearningWorker` running `TTADLearning` instead
/// (which runs the source tower itself), and each batch is predicted with the newest affines it
/// has published.
///
/// Calibration (`calibration_rate` > 0): the published results are the adapted logits divided
/// by the `ConfidenceAnchor`'s temperature (same prediction, at the confidence the source model
/// gives that prediction); learning — admission, guard, bank — sees the unscaled results, as before.
public final class TTADPreset: AdaptationPreset {
    static let descriptor = PresetDescriptor(name: .ttad, worksOnEmbeddings: false,
                                             summary: "the image tower's LayerNorm affines from a bank of confident samples, anchored, guarded") { c in
        try TTADPreset(context: c)
    }

    /// Inline execution's adapter (its learner predicts).
    private let adapter: AnchoredNormAdapter?
    /// Worker execution's thread (owns its own adapter).
    private let worker: LearningWorker<TTADLearning>?
    /// The learner predictions run through: the adapter's own inline, a copy the worker's
    /// published affines are copied into otherwise.
    private let predicting: VisionNormLearner
    /// `predicting`'s LayerNorm affine buffers, which the worker's published ones are copied into.
    private let predictingAffines: [FloatBuffer]
    /// Inline: decodes bank items again for the step, and the source tower's view of the batch.
    private let replay: ReplayDecoder?
    private let frozenClassifier: EmbeddingClassifier?
    private let frozenFeatures: FloatBuffer?
    private var frozenResults: [ClassificationResult] = []
    public private(set) var version = 0
    /// Calibration: whether results are rescored; the batch's unscaled results (what learning
    /// sees); scratch for one row's logits and top-k; in worker mode, the batch's unscaled
    /// logits handed to the worker (which moves the temperature) and the temperature it published.
    private let calibrating: Bool
    private var rawResults: [ClassificationResult] = []
    private var logitRow: [Float] = []
    private var unit: [Float] = []
    private var top: [(index: Int, value: Float)] = []
    private var rawLogits: [Float] = []
    private let predictingTemperature = FloatBuffer(count: 1)

    init(context c: PresetContext) throws {
        let image = try c.requireImage("ttad")
        let s = c.settings, model = image.model
        let a = try AnchoredNormAdapter(settings: s, model: model, classes: c.classes, logitScale: c.logitScale)
        switch c.execution {
        case .worker:
            adapter = nil
            worker = LearningWorker(learner: TTADLearning(adapter: a, classes: c.classes, logitScale: c.logitScale, maxBatch: c.maxBatch,
                                                          decodeLimits: image.decodeLimits, preprocessing: model.preprocessing),
                                    name: "ttad-adaptation", cpuBudget: c.workerCPUBudget)
            // Same construction as the adapter's: only its affines are ever changed (by refresh).
            predicting = VisionNormLearner(model: model, classEmbeddings: c.classes, logitScale: c.logitScale,
                                           learningRate: s.learningRate, anchorWeight: Float(s.anchorWeight),
                                           weightTotal: Float(s.bank.capacity))
            replay = nil
            frozenClassifier = nil
            frozenFeatures = nil
        case .inline:
            adapter = a
            worker = nil
            predicting = a.learner
            replay = ReplayDecoder(limits: image.decodeLimits, preprocessing: model.preprocessing)
            frozenClassifier = EmbeddingClassifier(classes: c.classes, logitScale: c.logitScale, topK: 1, maxBatch: c.maxBatch)
            frozenFeatures = FloatBuffer(count: c.maxBatch * model.config.projectionDim)
        }
        calibrating = s.calibrationRate > 0
        predictingTemperature.pointer[0] = 1
        // The worker publishes its temperature after the affines (`TTADLearning.publishedParameters`).
        predictingAffines = predicting.trainer.layerNorms.map(\.value) + [predictingTemperature]
    }

    /// Publishes the adapted results at the current temperature and, inline, moves it toward
    /// the source model's confidence on the same samples.
    public func rescore(_ batch: PresetBatch, results: inout [ClassificationResult]) {
        guard calibrating else { return }
        let n = batch.count, c = batch.classifier.classCount
        rawResults.removeAll(keepingCapacity: true)
        rawResults.append(contentsOf: results[0..<n])
        if worker != nil { rawLogits.removeAll(keepingCapacity: true) }
        let t = adapter?.confidence.temperature ?? predictingTemperature.pointer[0]
        for i in 0..<n {
            zeroShotLogits(batch, row: i, classes: c)
            if worker != nil { rawLogits.append(contentsOf: logitRow) }
            if t != 1, t.isFinite, t > 0 {
                let inv = 1 / t
                logitRow.withUnsafeMutableBufferPointer { l in
                    for k in l.indices { l[k] *= inv }
                    results[i].rescore(logits: l, topK: max(1, results[i].top.count), top: &top)
                }
            }
            if let adapter, let frozenClassifier, let a = results[i].top.first, a.index >= 0, a.index < c {
                // The source model's belief in the adapted prediction (its top-1 probability where
                // they agree, less where adaptation changed the class).
                let s = frozenClassifier.withProbabilities(ofRow: i) { $0[a.index] }
                adapter.calibrate(adaptedConfidence: Double(a.probability), sourceConfidence: Double(s))
            }
        }
    }

    /// Row `i`'s logits as the classifier made them (logit scale × cosine), into `logitRow`.
    private func zeroShotLogits(_ batch: PresetBatch, row i: Int, classes c: Int) {
        let f = batch.features(at: i), d = f.count
        if unit.count != d { unit = [Float](repeating: 0, count: d) }
        if logitRow.count != c { logitRow = [Float](repeating: 0, count: c) }
        _ = unit.withUnsafeMutableBufferPointer { u in
            _ = u.initialize(fromContentsOf: f)
            return VectorOps.l2Normalize(inPlace: u)
        }
        let w = batch.classifier.classes.matrix.storage, scale = batch.classifier.logitScale
        for k in 0..<c {
            var dot: Float = 0
            for j in 0..<d { dot += w[k * d + j] * unit[j] }
            logitRow[k] = scale * dot
        }
    }

    public func encode(images: UnsafePointer<Float>, batch count: Int, features: UnsafeMutablePointer<Float>) -> Bool {
        if let adapter, let frozenClassifier, let frozenFeatures {
            let p = adapter.learner.config.projectionDim
            version = adapter.version
            adapter.learner.encode(images: images, batch: count, features: features)
            if adapter.learner.stepsSinceReset > 0 {
                adapter.learner.encodeFrozen(images: images, batch: count, features: frozenFeatures.pointer)
            } else {
                frozenFeatures.pointer.update(from: features, count: count * p)
            }
            frozenClassifier.classify(batch: UnsafeBufferPointer(start: frozenFeatures.pointer, count: count * p), count: count,
                                      results: &frozenResults)
        } else if let worker {
            version = worker.refresh(predictingAffines, current: version)
            predicting.encode(images: images, batch: count, features: features)
        }
        return true
    }

    public func learn(_ batch: PresetBatch, results: ArraySlice<ClassificationResult>, outliers: [Bool]) {
        guard let images = batch.images else { return }
        let outlier = { (i: Int) in i < outliers.count && outliers[i] }
        // Learning sees the adapted model's own (unscaled) results.
        let learned = calibrating && rawResults.count == batch.count ? rawResults[0..<batch.count] : results
        if let worker {
            worker.submit(TTADLearning.Job(payloads: Array(images.payloads[0..<batch.count]),
                                           encodings: Array(images.encodings[0..<batch.count]),
                                           shapes: images.shapes[0..<batch.count].map { $0.map { Array($0) } },
                                           results: Array(learned), outliers: (0..<batch.count).map(outlier),
                                           logits: calibrating ? rawLogits : []))
            return
        }
        guard let adapter, let replay else { return }
        for (i, r) in zip(0..., learned) {
            _ = adapter.observe(sample: { images.sample(i) }, result: r, frozenClass: frozenResults[i].predicted, isOutlier: outlier(i))
            if adapter.stepDue {
                _ = adapter.step { item, out in replay.preprocess(item, into: out) }
            }
        }
    }

    public var reportsAdaptation: Bool { true }

    public func takeReport() -> AdaptationReport? {
        if let worker { return worker.takeReport() }
        return adapter?.takeReport()
    }

    public func start() { worker?.start() }

    public func finish(timeout: Double) -> Bool { worker?.finish(timeout: timeout) ?? true }

    public func checkpoint() -> AdaptationCheckpoint? {
        if let adapter { return AdaptationCheckpoint(ttad: adapter.state()) }
        return worker?.state().map { AdaptationCheckpoint(ttad: $0) }
    }

    public func restore(_ c: AdaptationCheckpoint) -> String? {
        guard let t = c.ttad else { return "the checkpoint holds another preset's state" }
        if let adapter { return adapter.restore(t) }
        var why: String?
        worker?.beforeStart { why = $0.adapter.restore(t) }
        return why
    }
}
