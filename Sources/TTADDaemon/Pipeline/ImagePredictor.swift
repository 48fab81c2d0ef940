import TTADEngine
import TTADModel
import TTADProtocol

/// Image mode: decodes JPEG, PNG or raw HWC bytes, preprocesses them exactly like
/// CLIPImageProcessor into one batch buffer, runs the CLIP image tower on the whole batch and
/// scores the image embeddings against the class-prompt embeddings from the text tower.
///
/// Owned by the processing thread. Batch buffers are allocated once at `maxBatch`; the decoder
/// and preprocessor reuse their own buffers, so steady state allocates only inside libjpeg/libpng.
final class ImagePredictor: Predictor {
    let model: CLIPModel
    let classNames: [String]
    let classPrompts: ClassPromptEncoder
    private(set) var classifier: EmbeddingClassifier
    private let vision: CLIPVisionEncoder
    private let imageDecoder: ImageDecoder
    private let preprocessor: ImagePreprocessor
    private let maxBatch: Int
    private let pixels: FloatBuffer
    private let features: FloatBuffer
    private var decoded = DecodedImage()
    private var results: [ClassificationResult] = []
    private(set) var count = 0

    init(model: CLIPModel, classNames: [String], template: String, logitScale: Float, topK: Int, maxBatch: Int,
         decodeLimits: ImageDecodeLimits) throws {
        self.model = model
        self.classNames = classNames
        classPrompts = try ClassPromptEncoder(model: model, classNames: classNames, template: template)
        classifier = EmbeddingClassifier(classes: try classPrompts.classEmbeddings(), logitScale: logitScale,
                                         topK: topK, maxBatch: maxBatch)
        vision = model.makeVisionEncoder()
        imageDecoder = ImageDecoder(limits: decodeLimits)
        preprocessor = ImagePreprocessor(config: model.preprocessing)
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
        count += 1
        return nil
    }

    func finishBatch() -> ArraySlice<ClassificationResult> {
        guard count > 0 else { return [] }
        vision.encode(images: pixels.pointer, batch: count, features: features.pointer)
        let p = model.config.projectionDim
        classifier.classify(batch: UnsafeBufferPointer(start: features.pointer, count: count * p), count: count, results: &results)
        return results[0..<count]
    }

    var featureDimension: Int { model.config.projectionDim }

    /// Un-normalised image features (what the classifier normalises and scores).
    func features(at i: Int) -> UnsafeBufferPointer<Float> {
        precondition(i >= 0 && i < count)
        let p = model.config.projectionDim
        return UnsafeBufferPointer(start: features.pointer + i * p, count: p)
    }
}
