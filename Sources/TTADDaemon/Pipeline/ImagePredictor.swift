import Foundation
import TTADEngine
import TTADModel
import TTADProtocol

/// Image mode: decodes JPEG, PNG or raw HWC bytes, preprocesses them exactly like
/// CLIPImageProcessor into one batch buffer, runs the CLIP image tower on the whole batch and
/// scores the image embeddings against the class-prompt embeddings from the text tower.
///
/// With the `ttad` preset the image tower runs the adapted LayerNorms and the batch's payloads
/// are kept until `adaptAfterBatch` so admitted samples can enter the bank. In deterministic
/// mode the adapter runs inline: the source tower gives the frozen prediction its admission and
/// guard compare against (skipped while the adapted parameters equal the source), and a due
/// step runs before the next batch. In live mode the batch goes to the `AdaptationWorker`
/// instead, and each batch is predicted with the newest affines the worker has published.
/// With `tda` the TDA cache re-scores every classified sample. With `tpt`, `dynaprompt`, `rotta`
/// and `stamp` (`SamplePreset`) each sample is scored zero-shot and then rescored from the
/// preset's own logits, and the preset learns from it after the batch.
///
/// Owned by the processing thread. Batch buffers are allocated once at `maxBatch`; the decoder
/// and preprocessor reuse their own buffers, so steady state allocates only inside libjpeg/libpng.
final class ImagePredictor: Predictor {
    let model: CLIPModel
    let classNames: [String]
    let classPrompts: ClassPromptEncoder
    private(set) var classifier: EmbeddingClassifier
    /// Deterministic mode's inline adapter.
    private let adapter: ImageAdapter?
    /// Live mode's adaptation thread (owns its own adapter).
    private let worker: AdaptationWorker?
    /// The learner predictions run through (the adapter's own in deterministic mode).
    private let adapted: VisionNormLearner?
    let tda: TDAAdapter?
    /// The `tpt`, `dynaprompt`, `rotta` or `stamp` preset.
    private let preset: SamplePreset?
    private var frozenClasses: [Int]
    /// Each row's decoded image, kept until the batch is predicted (the view-based presets).
    private var rowImages: [DecodedImage]
    private let presetLogits: FloatBuffer
    private var top: [(index: Int, value: Float)] = []
    private let topK: Int
    private let frozenClassifier: EmbeddingClassifier?
    private let frozenFeatures: FloatBuffer?
    private var frozenResults: [ClassificationResult] = []
    private var payloads: [[UInt8]]
    private var encodings: [SampleEncoding]
    private var shapes: [SampleShape?]
    private var batchVersion = 0
    private let vision: CLIPVisionEncoder
    private let imageDecoder: ImageDecoder
    private let preprocessor: ImagePreprocessor
    /// Decodes bank items again for the inline step (deterministic mode with `ttad` only).
    private let replay: ReplayDecoder?
    private let maxBatch: Int
    private let pixels: FloatBuffer
    private let features: FloatBuffer
    private var decoded = DecodedImage()
    private var results: [ClassificationResult] = []
    private(set) var count = 0

    init(model: CLIPModel, classNames: [String], template: String, logitScale: Float, topK: Int, maxBatch: Int,
         decodeLimits: ImageDecodeLimits, adaptation: AdaptationSection? = nil, live: Bool = false) throws {
        self.model = model
        self.classNames = classNames
        classPrompts = try ClassPromptEncoder(model: model, classNames: classNames, template: template)
        let classes = try classPrompts.classEmbeddings()
        classifier = EmbeddingClassifier(classes: classes, logitScale: logitScale, topK: topK, maxBatch: maxBatch)
        tda = adaptation?.preset == .tda
            ? try TDAAdapter(classes: classes, logitScale: logitScale, topK: topK, model: model.folder) : nil
        let prompts = classPrompts
        preset = try adaptation.flatMap {
            try ImagePredictor.samplePreset($0, model: model, prompts: prompts, classes: classes, logitScale: logitScale,
                                            maxBatch: maxBatch, decodeLimits: decodeLimits)
        }
        frozenClasses = Array(repeating: -1, count: maxBatch)
        rowImages = Array(repeating: DecodedImage(), count: maxBatch)
        presetLogits = FloatBuffer(count: classNames.count)
        self.topK = topK
        if let adaptation, adaptation.preset == .ttad {
            let a = try ImageAdapter(settings: adaptation, model: model, classes: classes, logitScale: logitScale)
            if live {
                adapter = nil
                worker = AdaptationWorker(adapter: a, classes: classes, logitScale: logitScale, maxBatch: maxBatch,
                                          decodeLimits: decodeLimits, preprocessing: model.preprocessing,
                                          cpuBudget: adaptation.workerCPUBudget)
                // Same construction as the adapter's: only its affines are ever changed (by refresh).
                adapted = VisionNormLearner(model: model, classEmbeddings: classes, logitScale: logitScale,
                                            learningRate: adaptation.learningRate, anchorWeight: Float(adaptation.anchorWeight),
                                            weightTotal: Float(adaptation.bank.capacity))
                frozenClassifier = nil
                frozenFeatures = nil
            } else {
                adapter = a
                worker = nil
                adapted = a.learner
                frozenClassifier = EmbeddingClassifier(classes: classes, logitScale: logitScale, topK: 1, maxBatch: maxBatch)
                frozenFeatures = FloatBuffer(count: maxBatch * model.config.projectionDim)
            }
        } else {
            adapter = nil
            worker = nil
            adapted = nil
            frozenClassifier = nil
            frozenFeatures = nil
        }
        payloads = Array(repeating: [], count: maxBatch)
        encodings = Array(repeating: .rawU8HWC, count: maxBatch)
        shapes = Array(repeating: nil, count: maxBatch)
        vision = model.makeVisionEncoder()
        imageDecoder = ImageDecoder(limits: decodeLimits)
        preprocessor = ImagePreprocessor(config: model.preprocessing)
        replay = adapter == nil ? nil : ReplayDecoder(limits: decodeLimits, preprocessing: model.preprocessing)
        self.maxBatch = maxBatch
        pixels = FloatBuffer(count: maxBatch * vision.imageFloatCount)
        features = FloatBuffer(count: maxBatch * model.config.projectionDim)
    }

    var embeddingDimension: Int? { nil }

    func accepts(_ encoding: SampleEncoding) -> Bool { encoding != .f32Embedding }

    func beginBatch() { count = 0 }

    func append(payload: [UInt8], header: SampleHeader, decoder: SampleDecoder) -> Rejection? {
        precondition(count < maxBatch, "batch larger than max_batch")
        do {
            switch header.encoding {
            case .jpeg, .png:
                try imageDecoder.decode(payload, into: &decoded)
            case .rawU8HWC:
                // The decoder already matched the payload length to the [H, W, C] shape.
                guard let shape = header.shape, shape.rank == 3 else {
                    return Rejection(reason: .wrongShape, detail: "raw-u8-hwc needs shape [H, W, C]", header: header)
                }
                // A plain Result, not a typed-throws closure: Swift 6.3 crashes compiling the latter here.
                let outcome: Result<Void, ImageDecodeError> = payload.withUnsafeBytes { raw in
                    do {
                        try imageDecoder.decodeRaw(raw, width: shape[1], height: shape[0], channels: shape[2], into: &decoded)
                        return .success(())
                    } catch let e as ImageDecodeError { return .failure(e) } catch {
                        return .failure(.corrupt(format: .raw, detail: "\(error)"))
                    }
                }
                try outcome.get()
            case .f32Embedding:
                return Rejection(reason: .unsupportedEncoding, detail: "image mode does not take f32-embedding samples", header: header)
            }
        } catch {
            return Rejection(reason: .corruptImage, detail: "\(header.encoding.rawValue): \(error)", header: header)
        }
        let n = vision.imageFloatCount
        preprocessor.process(decoded, into: UnsafeMutableBufferPointer(start: pixels.pointer + count * n, count: n))
        if preset != nil { swap(&decoded, &rowImages[count]) }   // storage handed round, not copied
        if adapted != nil || preset != nil {
            payloads[count] = payload           // a reference, not a copy
            encodings[count] = header.encoding
            shapes[count] = header.shape
        }
        count += 1
        return nil
    }

    func finishBatch() -> ArraySlice<ClassificationResult> {
        guard count > 0 else { return [] }
        let p = model.config.projectionDim
        if let adapter, let frozenClassifier, let frozenFeatures {
            batchVersion = adapter.version
            adapter.learner.encode(images: pixels.pointer, batch: count, features: features.pointer)
            if adapter.learner.stepsSinceReset > 0 {
                adapter.learner.encodeFrozen(images: pixels.pointer, batch: count, features: frozenFeatures.pointer)
            } else {
                frozenFeatures.pointer.update(from: features.pointer, count: count * p)
            }
            frozenClassifier.classify(batch: UnsafeBufferPointer(start: frozenFeatures.pointer, count: count * p), count: count,
                                      results: &frozenResults)
        } else if let worker, let adapted {
            batchVersion = worker.refresh(adapted, current: batchVersion)
            adapted.encode(images: pixels.pointer, batch: count, features: features.pointer)
        } else {
            vision.encode(images: pixels.pointer, batch: count, features: features.pointer)
        }
        classifier.classify(batch: UnsafeBufferPointer(start: features.pointer, count: count * p), count: count, results: &results)
        if let preset {
            batchVersion = preset.version
            let n = vision.imageFloatCount, c = classNames.count
            for i in 0..<count {
                frozenClasses[i] = results[i].predicted
                preset.predict(row: i, image: rowImages[i], pixels: pixels.pointer + i * n, logits: presetLogits.pointer)
                results[i].rescore(logits: UnsafeMutableBufferPointer(start: presetLogits.pointer, count: c), topK: topK, top: &top)
            }
        }
        if let tda {
            for i in 0..<count {
                tda.apply(row: i, feature: UnsafeBufferPointer(start: features.pointer + i * p, count: p),
                          classifier: classifier, result: &results[i])
            }
            batchVersion = tda.version
        }
        return results[0..<count]
    }

    var promptVersion: Int { batchVersion }

    func adaptationState() -> AdaptationCheckpoint? {
        if let adapter { return AdaptationCheckpoint(ttad: adapter.state(), tda: nil) }
        if let worker { return worker.state().map { AdaptationCheckpoint(ttad: $0, tda: nil) } }
        if let tda { return AdaptationCheckpoint(ttad: nil, tda: tda.state()) }
        if let preset { return (try? preset.checkpoint()).map { AdaptationCheckpoint(ttad: nil, tda: nil, preset: $0) } }
        return nil
    }

    func restoreAdaptation(_ s: AdaptationCheckpoint) -> String? {
        if let adapter {
            guard let t = s.ttad else { return "the checkpoint holds another preset's state" }
            return adapter.restore(t)
        }
        if let worker {
            guard let t = s.ttad else { return "the checkpoint holds another preset's state" }
            return worker.restore(t)
        }
        if let tda {
            guard let t = s.tda else { return "the checkpoint holds another preset's state" }
            if let why = tda.restore(t) { return why }
            batchVersion = tda.version
            return nil
        }
        if let preset {
            guard let p = s.preset else { return "the checkpoint holds another preset's state" }
            if let why = preset.restore(p) { return why }
            batchVersion = preset.version
            return nil
        }
        return "this daemon does not adapt"
    }

    func adaptAfterBatch(outliers: [Bool]) {
        defer { for i in 0..<count { payloads[i] = [] } }
        let outlier = { (i: Int) in i < outliers.count && outliers[i] }
        if let worker {
            worker.submit(AdaptationWorker.Job(payloads: Array(payloads[0..<count]), encodings: Array(encodings[0..<count]),
                                               shapes: shapes[0..<count].map { $0.map { Array($0) } },
                                               results: Array(results[0..<count]), outliers: (0..<count).map(outlier)))
            return
        }
        if let preset {
            for i in 0..<count {
                let sample = { BankSample(encoding: self.encodings[i].rawValue, shape: self.shapes[i].map { Array($0) }, bytes: Data(self.payloads[i])) }
                preset.observe(row: i, sample: sample, frozenClass: frozenClasses[i], isOutlier: outlier(i))
            }
            return
        }
        guard let adapter, let replay else { return }
        for i in 0..<count {
            let sample = { BankSample(encoding: self.encodings[i].rawValue, shape: self.shapes[i].map { Array($0) }, bytes: Data(self.payloads[i])) }
            _ = adapter.observe(sample: sample, result: results[i], frozenClass: frozenResults[i].predicted, isOutlier: outlier(i))
            if adapter.stepDue {
                _ = adapter.step { item, out in replay.preprocess(item, into: out) }
            }
        }
    }

    var adaptsByGradient: Bool { adapted != nil || preset != nil }

    func takeAdaptationReport() -> AdaptationReport? {
        if let worker { return worker.takeReport() }
        if let preset { return preset.takeReport() }
        return adapter?.takeReport()
    }

    func startAdaptation() { worker?.start() }

    func stopAdaptation(timeout: Double) -> Bool { worker?.finish(timeout: timeout) ?? true }

    var featureDimension: Int { model.config.projectionDim }

    /// Un-normalised image features (what the classifier normalises and scores).
    func features(at i: Int) -> UnsafeBufferPointer<Float> {
        precondition(i >= 0 && i < count)
        let p = model.config.projectionDim
        return UnsafeBufferPointer(start: features.pointer + i * p, count: p)
    }
}

extension ImagePredictor {
    /// The `SamplePreset` the configuration names, or nil for the others.
    static func samplePreset(_ a: AdaptationSection, model: CLIPModel, prompts: ClassPromptEncoder, classes: ClassEmbeddings,
                             logitScale: Float, maxBatch: Int, decodeLimits: ImageDecodeLimits) throws -> SamplePreset? {
        switch a.preset {
        case .frozen, .ttad, .tda: return nil
        case .tpt: return try TPTAdapter(settings: a, model: model, prompts: prompts)
        case .dynaprompt: return try DynaPromptAdapter(settings: a, model: model, prompts: prompts)
        case .rotta:
            return try RottaAdapter(settings: a, model: model, classes: classes, logitScale: logitScale, maxBatch: maxBatch,
                                    decodeLimits: decodeLimits, augmenter: StrongAugmenter(preprocessing: model.preprocessing, seed: a.seed))
        case .stamp:
            return try StampAdapter(settings: a, model: model, classes: classes, logitScale: logitScale, maxBatch: maxBatch,
                                    decodeLimits: decodeLimits, augmenter: StrongAugmenter(preprocessing: model.preprocessing, seed: a.seed))
        }
    }

}
