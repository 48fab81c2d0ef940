import Foundation
import TTADEngine
import TTADModel
import TTADPresets
import TTADProtocol

/// Image mode: decodes JPEG, PNG or raw HWC bytes, preprocesses them exactly like
/// CLIPImageProcessor into one batch buffer, runs the CLIP image tower on the whole batch (the
/// preset's adapted tower when it has one, the source tower otherwise) and scores the image
/// embeddings against the class-prompt embeddings from the text tower; the preset then rescores
/// and, after publishing, learns from the batch.
///
/// Owned by the processing thread. Batch buffers are allocated once at `maxBatch`; the decoder
/// and preprocessor reuse their own buffers, so steady state allocates only inside libjpeg/libpng.
final class ImagePredictor: Predictor {
    let model: CLIPModel
    let classNames: [String]
    let classPrompts: ClassPromptEncoder
    private(set) var classifier: EmbeddingClassifier
    var preset: any AdaptationPreset
    private let presetMaker: () throws -> any AdaptationPreset
    private let vision: CLIPVisionEncoder
    private let imageDecoder: ImageDecoder
    private let preprocessor: ImagePreprocessor
    private let images: ImageBatch
    private let features: FloatBuffer
    private var decoded = DecodedImage()
    private var results: [ClassificationResult] = []
    private(set) var count = 0

    /// `makePreset` builds the adaptation preset from the classes the text tower made.
    init(model: CLIPModel, classNames: [String], template: String, logitScale: Float, topK: Int, maxBatch: Int,
         decodeLimits: ImageDecodeLimits,
         makePreset: @escaping (PresetContext.ImageModel, ClassEmbeddings) throws -> any AdaptationPreset = { _, _ in FrozenPreset() }) throws {
        self.model = model
        self.classNames = classNames
        classPrompts = try ClassPromptEncoder(model: model, classNames: classNames, template: template)
        let classes = try classPrompts.classEmbeddings()
        classifier = EmbeddingClassifier(classes: classes, logitScale: logitScale, topK: topK, maxBatch: maxBatch)
        let image = PresetContext.ImageModel(model: model, prompts: classPrompts, decodeLimits: decodeLimits)
        preset = try makePreset(image, classes)
        presetMaker = { try makePreset(image, classes) }
        vision = model.makeVisionEncoder()
        imageDecoder = ImageDecoder(limits: decodeLimits)
        preprocessor = ImagePreprocessor(config: model.preprocessing)
        images = ImageBatch(maxBatch: maxBatch, imageFloatCount: vision.imageFloatCount)
        features = FloatBuffer(count: maxBatch * model.config.projectionDim)
    }

    func makePreset() throws -> any AdaptationPreset { try presetMaker() }

    var embeddingDimension: Int? { nil }

    func accepts(_ encoding: SampleEncoding) -> Bool { encoding != .f32Embedding }

    func beginBatch() { count = 0 }

    func append(payload: [UInt8], header: SampleHeader, decoder: SampleDecoder) -> Rejection? {
        precondition(count < images.maxBatch, "batch larger than max_batch")
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
        preprocessor.process(decoded, into: UnsafeMutableBufferPointer(start: images.pixels(at: count), count: images.imageFloatCount))
        images.keep(row: count, decoded: &decoded, payload: payload, encoding: header.encoding, shape: header.shape)
        count += 1
        return nil
    }

    private var batch: PresetBatch {
        PresetBatch(count: count, features: UnsafePointer(features.pointer), featureDimension: model.config.projectionDim,
                    classifier: classifier, images: images)
    }

    func finishBatch() -> ArraySlice<ClassificationResult> {
        guard count > 0 else { return [] }
        let p = model.config.projectionDim
        if !preset.encode(images: images.pixels.pointer, batch: count, features: features.pointer) {
            vision.encode(images: images.pixels.pointer, batch: count, features: features.pointer)
        }
        classifier.classify(batch: UnsafeBufferPointer(start: features.pointer, count: count * p), count: count, results: &results)
        preset.rescore(batch, results: &results)
        return results[0..<count]
    }

    func adaptAfterBatch(outliers: [Bool]) {
        guard count > 0 else { return }
        preset.learn(batch, results: results[0..<count], outliers: outliers)
        images.releasePayloads(count: count)
    }

    var featureDimension: Int { model.config.projectionDim }

    /// Un-normalised image features (what the classifier normalises and scores).
    func features(at i: Int) -> UnsafeBufferPointer<Float> {
        precondition(i >= 0 && i < count)
        let p = model.config.projectionDim
        return UnsafeBufferPointer(start: features.pointer + i * p, count: p)
    }
}
