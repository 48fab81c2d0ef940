import Foundation
import TTADEngine
import TTADModel
import TTADProtocol

/// Stands in for a box whose accelerator computes the image embeddings: turns each scenario
/// image into the embedding the daemon's image mode would compute from the same payload
/// (`--as-embeddings MODEL_DIR`). The payload is decoded exactly as `ImagePredictor` decodes it
/// (raw bytes as raw, JPEG through libjpeg-turbo), preprocessed like CLIPImageProcessor and run
/// through the vision tower one image at a time, so the features are the image mode's.
///
/// One instance per sending thread (the encoder owns scratch memory).
final class ScenarioEmbedder {
    let model: CLIPModel
    let folder: String
    private let vision: CLIPVisionEncoder
    private let decoder = ImageDecoder()
    private let preprocessor: ImagePreprocessor
    private var decoded = DecodedImage()
    private var pixels: [Float]
    private var features: [Float]

    init(folder: String) throws {
        do { model = try CLIPModel(folder: folder) } catch {
            throw StreamClientError("--as-embeddings \(folder): \(error)")
        }
        self.folder = folder
        vision = model.makeVisionEncoder()
        preprocessor = ImagePreprocessor(config: model.preprocessing)
        pixels = [Float](repeating: 0, count: vision.imageFloatCount)
        features = [Float](repeating: 0, count: model.config.projectionDim)
    }

    var dimension: Int { model.config.projectionDim }

    /// The un-normalised image features of one payload (`raw-u8-hwc` with its [H, W, C] shape, or
    /// an encoded image), as the image tower computes them.
    func embed(payload: [UInt8], encoding: SampleEncoding, shape: SampleShape?) throws -> [Float] {
        do {
            switch encoding {
            case .rawU8HWC:
                guard let s = shape, s.rank == 3 else { throw StreamClientError("raw-u8-hwc needs an [H, W, C] shape") }
                // The array overload: a typed-throws closure over the bytes crashes Swift 6.3's IRGen.
                decoded = try decoder.decodeRaw(payload, width: s[1], height: s[0], channels: s[2])
            case .jpeg, .png:
                try decoder.decode(payload, into: &decoded)
            case .f32Embedding:
                throw StreamClientError("the payload is already an embedding")
            }
        } catch let e as StreamClientError {
            throw e
        } catch {
            throw StreamClientError("--as-embeddings: cannot decode a scenario image: \(error)")
        }
        pixels.withUnsafeMutableBufferPointer { preprocessor.process(decoded, into: $0) }
        pixels.withUnsafeBufferPointer { p in
            features.withUnsafeMutableBufferPointer { f in
                vision.encode(images: p.baseAddress!, batch: 1, features: f.baseAddress!)
            }
        }
        return features
    }

    /// The class embeddings the daemon's image mode scores against (the text tower's embeddings of
    /// the class prompts), written as an F32 safetensors file an embedding-mode daemon loads.
    func writeClassEmbeddings(classNames: [String], template: String, to path: String) throws {
        let prompts = try ClassPromptEncoder(model: model, classNames: classNames, template: template)
        let classes = try prompts.classEmbeddings()
        let json = String(decoding: try JSONEncoder().encode(classes.names), as: UTF8.self)
        try SafeTensorsWriter.write(path: path,
                                    tensors: [.init(name: "class_embeddings", shape: [classes.count, classes.dimension],
                                                    values: classes.matrix.storage)],
                                    metadata: ["class_names": json, "source": "\(folder), prompt \"\(template)\""])
    }
}
