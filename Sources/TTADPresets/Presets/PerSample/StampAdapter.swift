import Foundation
import TTADAdaptation
import TTADEngine
import TTADModel

/// The `stamp` preset: STAMP (ECCV 2024) as published, on the image tower's LayerNorms.
///
/// Per sample: the original and `views − 1` strong augmentations (CoTTA's, as STAMP uses on
/// CIFAR-10-C) through the current model; the prediction is the mean of their softmaxes p̄,
/// made before this sample's update. The sample enters the replay memory (class-balanced FIFO,
/// `BalancedReplayMemory`) under the current model's class of the original view when H(p̄) <
/// α·ln C and that class is the frozen model's (STAMP's consistency filter for C ≠ 1000).
/// Every `update_every_samples` samples (STAMP's batch) the whole memory is replayed through one
/// SAM step with SGD on the self-weighted entropy (weights normalised to the capacity, not
/// detached), the learning rate cosine-annealed over `cosine_period` updates; the last quarter
/// of the blocks and the final norm stay fixed.
///
/// Not STAMP's: outliers flagged by the daemon never enter the memory; the eviction picks among
/// the classes with the most items now (STAMP keeps an EMA of the counts, updated per batch).
/// No anchor and no collapse guard — that is the `ttad` preset's composition.
final class StampAdapter: SplitSamplePreset {
    let settings: StampSection
    let learner: VisionNormLearner
    private(set) var memory: BalancedReplayMemory<BankSample>
    private(set) var version = 0
    private(set) var updates = 0
    private var samplesSinceUpdate = 0
    private let augmenter: StrongAugmenter
    private let replay: ReplayDecoder
    private let texts: FloatBuffer
    private let scale: Float
    private let classCount: Int
    private let margin: Float
    private let key: String
    private let views: FloatBuffer, features: FloatBuffer, normalized: FloatBuffer, norms: FloatBuffer, logits: FloatBuffer
    private let replayPixels: FloatBuffer
    /// p̄ of a sample the worker filters (live mode).
    private let averaged: FloatBuffer
    /// Per row of the current batch: H(p̄) and the current model's class of the original view.
    private var entropy: [Float], pseudoLabel: [Int]
    private var report = AdaptationReport()

    init(settings a: AdaptationSection, model: CLIPModel, classes: ClassEmbeddings, logitScale: Float, maxBatch: Int,
         decodeLimits: ImageDecodeLimits, augmenter: StrongAugmenter) throws {
        let s = a.stamp
        settings = s
        let names = CLIPVisionTrainer(config: model.config, weights: model.weights.vision, trainLayerNorms: true).layerNorms.map(\.name)
        learner = VisionNormLearner(model: model, classEmbeddings: classes, logitScale: logitScale,
                                    optimization: .samSGD(learningRate: s.learningRate, rho: s.rho), anchorWeight: 0,
                                    weightTotal: Float(s.capacity),
                                    frozenParameters: VisionNormLearner.stampFrozenParameters(model.config, names: names))
        memory = try BalancedReplayMemory(classCount: classes.count, capacity: s.capacity, seed: a.seed)
        self.augmenter = augmenter
        replay = ReplayDecoder(limits: decodeLimits, preprocessing: model.preprocessing)
        texts = FloatBuffer(classes.matrix.storage)
        scale = logitScale
        classCount = classes.count
        margin = Float(s.alpha * log(Double(classes.count)))
        let n = learner.imageFloatCount, p = model.config.projectionDim
        views = FloatBuffer(count: s.views * n)
        features = FloatBuffer(count: s.views * p)
        normalized = FloatBuffer(count: s.views * p)
        norms = FloatBuffer(count: s.views)
        logits = FloatBuffer(count: s.views * classes.count)
        replayPixels = FloatBuffer(count: s.capacity * n)
        averaged = FloatBuffer(count: classes.count)
        entropy = Array(repeating: .nan, count: maxBatch)
        pseudoLabel = Array(repeating: -1, count: maxBatch)
        key = "stamp \(s) seed=\(a.seed) model=\(model.folder) classes=\(classes.names)"
    }

    func predict(row: Int, image: DecodedImage, pixels: UnsafePointer<Float>, logits out: UnsafeMutablePointer<Float>) {
        let c = classCount
        (pseudoLabel[row], entropy[row]) = averageOverViews(pixels, into: out)
        // Logits whose softmax is p̄, so the rescored result carries STAMP's averaged prediction.
        for k in 0..<c { out[k] = log(max(out[k], .leastNormalMagnitude)) }
    }

    /// p̄, the mean softmax over the original and `views − 1` augmentations through the current
    /// model, into `out`; returns the current model's class of the original view and H(p̄).
    private func averageOverViews(_ pixels: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>) -> (Int, Float) {
        let n = learner.imageFloatCount, p = learner.config.projectionDim, c = classCount, v = settings.views
        views.pointer.update(from: pixels, count: n)
        for i in 1..<max(v, 1) {
            augmenter.augment(UnsafeBufferPointer(start: pixels, count: n), into: UnsafeMutableBufferPointer(start: views.pointer + i * n, count: n))
        }
        learner.encode(images: views.pointer, batch: v, features: features.pointer)
        CLIPLogits.normalize(features.pointer, rows: v, dim: p, into: normalized.pointer, norms: norms.pointer)
        let z = logits.pointer
        CLIPLogits.forward(images: normalized.pointer, batch: v, texts: texts.pointer, classes: c, dim: p, scale: scale, logits: z)
        let originalClass = VectorOps.argmax(UnsafeBufferPointer(start: z, count: c))
        for k in 0..<c { out[k] = 0 }
        for i in 0..<v {
            let row = UnsafeMutableBufferPointer(start: z + i * c, count: c)
            _ = VectorOps.softmax(inPlace: row)
            for k in 0..<c { out[k] += row[k] / Float(v) }
        }
        return (originalClass, VectorOps.entropy(probabilities: UnsafeBufferPointer(start: out, count: c)))
    }

    /// Live mode: the batch is predicted from its original view with the newest parameters (one
    /// batched forward); the views, the filter and the memory are the worker's (`learn`).
    func encodeLive(images: UnsafePointer<Float>, batch: Int, features out: UnsafeMutablePointer<Float>) -> Bool {
        learner.encode(images: images, batch: batch, features: out)
        return true
    }

    func predictedLive(row: Int, result: ClassificationResult) {
        pseudoLabel[row] = -1  // not scored over views: the worker does that
        entropy[row] = .nan
    }

    /// What learning needs of predicted sample `row`: its memory copy and class when it passes
    /// STAMP's filter (confident, and the frozen model's class), else nothing but its count. In
    /// live mode (not scored yet) every sample that is not an outlier, for the worker to filter.
    func observation(row: Int, sample: () -> BankSample, frozenClass: Int, isOutlier: Bool) -> Observation {
        guard pseudoLabel[row] >= 0 else {
            return Observation(item: isOutlier ? nil : sample(), classIndex: -1, needsFilter: true)
        }
        let admitted = !isOutlier && entropy[row] < margin && pseudoLabel[row] == frozenClass
        return Observation(item: admitted ? sample() : nil, classIndex: pseudoLabel[row], needsFilter: false)
    }

    func learn(_ o: Observation) {
        if let item = o.item {
            if !o.needsFilter {
                _ = try? memory.insert(item, classIndex: o.classIndex)
            } else if let classIndex = filter(item) {
                _ = try? memory.insert(item, classIndex: classIndex)
            }
        }
        report.observedSamples += 1
        samplesSinceUpdate += 1
        if samplesSinceUpdate >= settings.updateEverySamples { update() }
    }

    /// STAMP's filter on the worker (live mode): the sample's class when p̄ over its views is
    /// confident and the original view's class is the source model's, else nil.
    private func filter(_ item: BankSample) -> Int? {
        let n = learner.imageFloatCount, p = learner.config.projectionDim, c = classCount
        let pixels = replayPixels.pointer
        guard replay.preprocess(item, into: UnsafeMutableBufferPointer(start: pixels, count: n)) else { return nil }
        let (pseudo, h) = averageOverViews(pixels, into: averaged.pointer)
        guard h < margin else { return nil }
        learner.encodeFrozen(images: pixels, batch: 1, features: features.pointer)
        CLIPLogits.normalize(features.pointer, rows: 1, dim: p, into: normalized.pointer, norms: norms.pointer)
        CLIPLogits.forward(images: normalized.pointer, batch: 1, texts: texts.pointer, classes: c, dim: p, scale: scale, logits: logits.pointer)
        let frozen = VectorOps.argmax(UnsafeBufferPointer(start: logits.pointer, count: c))
        return pseudo == frozen ? pseudo : nil
    }

    struct Observation: Sendable {
        var item: BankSample?
        var classIndex: Int
        /// Live mode: STAMP's filter is still to run (on the worker).
        var needsFilter: Bool
    }

    var predictingParameters: [FloatBuffer] { learner.trainer.layerNorms.map(\.value) }

    /// One SAM step over the whole memory at this update's cosine learning rate.
    private func update() {
        samplesSinceUpdate = 0
        let n = learner.imageFloatCount
        var rows = 0
        for item in memory.items where rows < settings.capacity {
            if replay.preprocess(item.payload, into: UnsafeMutableBufferPointer(start: replayPixels.pointer + rows * n, count: n)) { rows += 1 }
        }
        guard rows > 0 else { return }
        learner.optimizer.learningRate = Self.cosineRate(base: settings.learningRate, update: updates, period: settings.cosinePeriod)
        let t0 = DispatchTime.now().uptimeNanoseconds
        let result = learner.step(images: replayPixels.pointer, batch: rows)
        updates += 1
        if result.applied {
            version += 1
            report.stepSeconds.append(Double(DispatchTime.now().uptimeNanoseconds &- t0) / 1e9)
            report.lastLoss = result.loss
            report.distanceFromSource = result.distanceFromSource
        }
    }

    /// PyTorch's `CosineAnnealingLR` (η_min 0) before its `update`-th step: periodic in 2·T.
    static func cosineRate(base: Double, update: Int, period: Int) -> Double {
        base * (1 + cos(Double.pi * Double(update) / Double(period))) / 2
    }

    func takeReport() -> AdaptationReport {
        var r = report
        report = AdaptationReport()
        r.bankItems = memory.count
        r.version = version
        return r
    }

    struct State: Codable {
        var learner: VisionNormLearner.State
        var memory: BalancedReplayMemory<BankSample>
        var version: Int
        var updates: Int
        var samplesSinceUpdate: Int
    }

    func state() -> State {
        State(learner: learner.state(), memory: memory, version: version, updates: updates, samplesSinceUpdate: samplesSinceUpdate)
    }

    func checkpoint(_ s: State) throws -> PresetCheckpoint { try makeCheckpoint(preset: "stamp", key: key, state: s) }

    func restore(_ c: PresetCheckpoint) -> String? {
        switch decodeCheckpoint(c, preset: "stamp", key: key, as: State.self) {
        case .failure(let e): return e.reason
        case .success(let s):
            guard s.memory.classCount == classCount, s.memory.capacity == settings.capacity else { return "memory settings changed" }
            do { try learner.restore(s.learner) } catch { return "\(error)" }
            memory = s.memory
            version = s.version
            updates = s.updates
            samplesSinceUpdate = s.samplesSinceUpdate
            return nil
        }
    }
}

extension StampAdapter {
    static let descriptor = PresetDescriptor(name: .stamp, worksOnEmbeddings: false,
                                             summary: "STAMP: SAM-SGD on most affines over a class-balanced replay memory") { c in
        let i = try c.requireImage("stamp")
        return try PerSamplePreset.split(c, worker: "ttad-stamp") {
            try StampAdapter(settings: c.settings, model: i.model, classes: c.classes, logitScale: c.logitScale,
                             maxBatch: c.maxBatch, decodeLimits: i.decodeLimits,
                             augmenter: StrongAugmenter(preprocessing: i.model.preprocessing, seed: c.settings.seed))
        }
    }
}
