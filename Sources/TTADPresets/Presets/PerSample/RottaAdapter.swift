import Foundation
import TTADAdaptation
import TTADEngine
import TTADModel

/// The `rotta` preset: RoTTA (CVPR 2023) on the image tower's LayerNorms.
///
/// A teacher predicts every sample (its logits are the output); the sample enters the CSTU bank
/// (`MemoryBank`: class-balanced by the teacher's class, replacement by age and the teacher's
/// entropy). Every `update_every_samples` samples the student's affines take one Adam step on
/// the time-aware soft cross-entropy — the teacher's probabilities on each bank image as the
/// target, the student's logits on a strong augmentation of it (CoTTA's), each item weighted by
/// e^{−ā}/(1+e^{−ā}) of its normalised age — and the teacher moves toward the student by ν.
///
/// Not RoTTA's: its robust batch norm has nothing to act on in a ViT (LayerNorm keeps no running
/// statistics), so only the affines adapt; outliers flagged by the daemon never enter the bank.
final class RottaAdapter: SplitSamplePreset {
    let settings: RottaSection
    let student: VisionNormLearner
    let teacher: VisionNormLearner
    private(set) var bank: MemoryBank<BankSample>
    private(set) var version = 0
    private var samplesSinceUpdate = 0
    private let augmenter: StrongAugmenter
    private let replay: ReplayDecoder
    private let texts: FloatBuffer
    private let scale: Float
    private let classCount: Int
    private let key: String
    private let features: FloatBuffer, normalized: FloatBuffer, norms: FloatBuffer, logits: FloatBuffer
    private let originals: FloatBuffer, augmented: FloatBuffer, targets: FloatBuffer, weights: FloatBuffer
    /// Per row of the current batch: the teacher's class and entropy.
    private var teacherClass: [Int], teacherEntropy: [Float]
    private var report = AdaptationReport()

    init(settings a: AdaptationSection, model: CLIPModel, classes: ClassEmbeddings, logitScale: Float, maxBatch: Int,
         decodeLimits: ImageDecodeLimits, augmenter: StrongAugmenter) throws {
        let s = a.rotta
        settings = s
        func learner() -> VisionNormLearner {
            VisionNormLearner(model: model, classEmbeddings: classes, logitScale: logitScale,
                              optimization: .adamW(learningRate: s.learningRate), anchorWeight: 0, weightTotal: Float(s.capacity))
        }
        student = learner()
        teacher = learner()
        bank = MemoryBank(configuration: try MemoryBankConfiguration(
            classCount: classes.count, capacity: s.capacity, timelinessWeight: s.timelinessWeight,
            uncertaintyWeight: s.uncertaintyWeight, maxBytes: a.bank.maxBytes))
        self.augmenter = augmenter
        replay = ReplayDecoder(limits: decodeLimits, preprocessing: model.preprocessing)
        texts = FloatBuffer(classes.matrix.storage)
        scale = logitScale
        classCount = classes.count
        let n = student.imageFloatCount, p = model.config.projectionDim, rows = max(s.capacity, maxBatch)
        features = FloatBuffer(count: rows * p)
        normalized = FloatBuffer(count: rows * p)
        norms = FloatBuffer(count: rows)
        logits = FloatBuffer(count: rows * classes.count)
        originals = FloatBuffer(count: s.capacity * n)
        augmented = FloatBuffer(count: s.capacity * n)
        targets = FloatBuffer(count: s.capacity * classes.count)
        weights = FloatBuffer(count: s.capacity)
        teacherClass = Array(repeating: -1, count: maxBatch)
        teacherEntropy = Array(repeating: .nan, count: maxBatch)
        key = "rotta \(s) maxBytes=\(a.bank.maxBytes) seed=\(a.seed) model=\(model.folder) classes=\(classes.names)"
    }

    /// The teacher's logits on `rows` images into `logits`.
    private func teacherLogits(_ images: UnsafePointer<Float>, rows: Int) {
        let p = teacher.config.projectionDim
        teacher.encode(images: images, batch: rows, features: features.pointer)
        CLIPLogits.normalize(features.pointer, rows: rows, dim: p, into: normalized.pointer, norms: norms.pointer)
        CLIPLogits.forward(images: normalized.pointer, batch: rows, texts: texts.pointer, classes: classCount, dim: p,
                           scale: scale, logits: logits.pointer)
    }

    func predict(row: Int, image: DecodedImage, pixels: UnsafePointer<Float>, logits out: UnsafeMutablePointer<Float>) {
        let c = classCount
        teacherLogits(pixels, rows: 1)
        out.update(from: logits.pointer, count: c)
        teacherClass[row] = VectorOps.argmax(UnsafeBufferPointer(start: out, count: c))
        let probabilities = UnsafeMutableBufferPointer(start: logits.pointer, count: c)
        teacherEntropy[row] = VectorOps.softmax(inPlace: probabilities).entropy
    }

    /// Live mode: the teacher's features of the whole batch, one batched forward (its logits are
    /// then the daemon's classification of them: same class embeddings, same scale).
    func encodeLive(images: UnsafePointer<Float>, batch: Int, features out: UnsafeMutablePointer<Float>) -> Bool {
        teacher.encode(images: images, batch: batch, features: out)
        return true
    }

    func predictedLive(row: Int, result: ClassificationResult) {
        teacherClass[row] = result.predicted
        teacherEntropy[row] = result.entropy
    }

    /// What learning needs of predicted sample `row`: its bank copy (only when it may enter the
    /// bank) with the teacher's class and entropy of it.
    func observation(row: Int, sample: () -> BankSample, frozenClass: Int, isOutlier: Bool) -> Observation {
        let admissible = !isOutlier && teacherClass[row] >= 0 && teacherEntropy[row].isFinite
        return Observation(item: admissible ? sample() : nil, teacherClass: teacherClass[row], teacherEntropy: teacherEntropy[row])
    }

    /// Offers the sample to the bank and takes the update when one is due.
    func learn(_ o: Observation) {
        if let item = o.item {
            _ = try? bank.insert(item, classIndex: o.teacherClass, uncertainty: o.teacherEntropy, byteSize: item.bytes.count + 64)
        }
        report.observedSamples += 1
        samplesSinceUpdate += 1
        if samplesSinceUpdate >= settings.updateEverySamples { update() }
    }

    struct Observation: Sendable {
        var item: BankSample?
        var teacherClass: Int
        var teacherEntropy: Float
    }

    /// Student step on the bank against the teacher, then the teacher's EMA.
    private func update() {
        samplesSinceUpdate = 0
        let n = student.imageFloatCount, c = classCount
        var rows = 0
        // RoTTA transforms the memory as one batch: one draw of the colour, affine, blur and
        // flip parameters for all of it (the noise is per image).
        let parameters = augmenter.drawParameters()
        for item in bank.items where rows < settings.capacity {
            let slot = UnsafeMutableBufferPointer(start: originals.pointer + rows * n, count: n)
            guard replay.preprocess(item.payload, into: slot) else { continue }
            weights.pointer[rows] = Float(bank.timeAwareWeight(of: item))
            augmenter.augment(UnsafeBufferPointer(slot), parameters: parameters,
                              into: UnsafeMutableBufferPointer(start: augmented.pointer + rows * n, count: n))
            rows += 1
        }
        guard rows > 0 else { return }
        teacherLogits(originals.pointer, rows: rows)
        for r in 0..<rows {
            let q = UnsafeMutableBufferPointer(start: logits.pointer + r * c, count: c)
            _ = VectorOps.softmax(inPlace: q)
            (targets.pointer + r * c).update(from: q.baseAddress!, count: c)
        }
        let t0 = DispatchTime.now().uptimeNanoseconds
        let result = student.step(images: augmented.pointer, batch: rows,
                                  objective: .softTargets(targets: targets.pointer, rowWeights: weights.pointer))
        guard result.applied else { return }
        teacher.moveToward(student, rate: Float(settings.teacherRate))
        version += 1
        report.stepSeconds.append(Double(DispatchTime.now().uptimeNanoseconds &- t0) / 1e9)
        report.lastLoss = result.loss
        report.distanceFromSource = teacher.distanceFromSource()
    }

    func takeReport() -> AdaptationReport {
        var r = report
        report = AdaptationReport()
        r.bankItems = bank.count
        r.version = version
        return r
    }

    struct State: Codable {
        var student: VisionNormLearner.State
        var teacher: VisionNormLearner.State
        var bank: MemoryBank<BankSample>
        var version: Int
        var samplesSinceUpdate: Int
    }

    func state() -> State {
        State(student: student.state(), teacher: teacher.state(), bank: bank, version: version, samplesSinceUpdate: samplesSinceUpdate)
    }

    /// The teacher predicts.
    var predictingParameters: [FloatBuffer] { teacher.trainer.layerNorms.map(\.value) }

    func checkpoint(_ s: State) throws -> PresetCheckpoint { try makeCheckpoint(preset: "rotta", key: key, state: s) }

    func restore(_ c: PresetCheckpoint) -> String? {
        switch decodeCheckpoint(c, preset: "rotta", key: key, as: State.self) {
        case .failure(let e): return e.reason
        case .success(let s):
            guard s.bank.configuration == bank.configuration else { return "bank settings changed" }
            let savedStudent = student.state()
            do {
                try student.restore(s.student)
                try teacher.restore(s.teacher)
            } catch {
                try? student.restore(savedStudent)
                return "\(error)"
            }
            bank = s.bank
            version = s.version
            samplesSinceUpdate = s.samplesSinceUpdate
            return nil
        }
    }
}

extension RottaAdapter {
    static let descriptor = PresetDescriptor(name: .rotta, worksOnEmbeddings: false,
                                             summary: "RoTTA: an EMA teacher predicts; the student's affines learn on a CSTU bank") { c in
        let i = try c.requireImage("rotta")
        return try PerSamplePreset.split(c, worker: "ttad-rotta") {
            try RottaAdapter(settings: c.settings, model: i.model, classes: c.classes, logitScale: c.logitScale,
                             maxBatch: c.maxBatch, decodeLimits: i.decodeLimits,
                             augmenter: StrongAugmenter(preprocessing: i.model.preprocessing, seed: c.settings.seed))
        }
    }
}
