import Foundation
import TTADEngine

/// A CLIP checkpoint in the Hugging Face folder layout: `config.json`, `model.safetensors`
/// (F32, F16 or BF16; memory-mapped and converted to Float32 once), `vocab.json`, `merges.txt`
/// and optionally `preprocessor_config.json` (defaults: OpenAI's CLIP preprocessing at the
/// config's image size).
///
/// Immutable and shareable between threads; each thread makes its own encoders (which own
/// their scratch memory) with `makeVisionEncoder()` / `makeTextEncoder()`.
public final class CLIPModel: Sendable {
    public let folder: String
    public let config: CLIPConfiguration
    public let weights: CLIPWeights
    public let tokenizer: CLIPTokenizer
    public let preprocessing: ImagePreprocessorConfig
    /// The precision of the image tower's inference forwards (`makeVisionEncoder`, and the
    /// encoders the adaptation presets make for prediction); recording forwards stay F32.
    public let precision: CLIPPrecision
    /// The vision block linears in int8, made once at load when `precision == .int8`.
    public let visionInt8: CLIPVisionInt8Weights?

    public init(folder: String, precision: CLIPPrecision = .f32) throws(CLIPModelError) {
        self.folder = folder
        let path = { (name: String) in (folder as NSString).appendingPathComponent(name) }
        for name in ["config.json", "model.safetensors", "vocab.json", "merges.txt"] {
            guard FileManager.default.fileExists(atPath: path(name)) else { throw .missingFile(path: path(name)) }
        }
        let config = try CLIPConfiguration(contentsOf: path("config.json"))
        self.config = config
        let file: SafeTensorsFile
        do { file = try SafeTensorsFile(path: path("model.safetensors")) } catch {
            throw .unreadableFile(path: path("model.safetensors"), detail: error.description)
        }
        let weights = try CLIPWeights(file: file, config: config)
        self.weights = weights
        self.precision = precision
        visionInt8 = precision == .int8 ? CLIPVisionInt8Weights(weights.vision, config: config) : nil
        do {
            tokenizer = try CLIPTokenizer(vocabPath: path("vocab.json"), mergesPath: path("merges.txt"))
        } catch {
            throw .unreadableFile(path: path("vocab.json"), detail: "\(error)")
        }
        guard tokenizer.vocabularySize <= config.vocabSize else {
            throw .badConfig(file: path("config.json"), key: "text_config.vocab_size",
                             detail: "\(config.vocabSize) is smaller than the tokenizer's \(tokenizer.vocabularySize) tokens")
        }
        if FileManager.default.fileExists(atPath: path("preprocessor_config.json")) {
            preprocessing = try ImagePreprocessorConfig(huggingFaceFile: path("preprocessor_config.json"))
        } else {
            preprocessing = ImagePreprocessorConfig(shortestEdge: config.imageSize, cropSize: config.imageSize)
        }
        guard preprocessing.cropWidth == config.imageSize && preprocessing.cropHeight == config.imageSize else {
            throw .badConfig(file: path("preprocessor_config.json"), key: "crop_size",
                             detail: "\(preprocessing.cropWidth)×\(preprocessing.cropHeight) does not match the model's image_size \(config.imageSize)")
        }
    }

    /// A model with deterministic random weights at `config`'s shapes (benchmarks) and the given
    /// tokenizer.
    public init(randomWeightsFor config: CLIPConfiguration, seed: UInt64, tokenizer: CLIPTokenizer,
                precision: CLIPPrecision = .f32) {
        folder = "<random seed \(seed)>"
        self.config = config
        let weights = CLIPWeights(randomFor: config, seed: seed)
        self.weights = weights
        self.precision = precision
        visionInt8 = precision == .int8 ? CLIPVisionInt8Weights(weights.vision, config: config) : nil
        self.tokenizer = tokenizer
        preprocessing = ImagePreprocessorConfig(shortestEdge: config.imageSize, cropSize: config.imageSize)
    }

    /// An image-tower encoder at the model's `precision`.
    public func makeVisionEncoder() -> CLIPVisionEncoder {
        CLIPVisionEncoder(config: config, weights: weights.vision, int8: visionInt8)
    }
    public func makeTextEncoder() -> CLIPTextEncoder { CLIPTextEncoder(config: config, weights: weights.text) }

    /// Token ids of `text` with start and end tokens, truncated to the model's context.
    public func tokenize(_ text: String) -> [Int32] { tokenizer.encode(text, contextLength: config.maxPositions) }

    /// exp(logit_scale), the factor cosine similarities are multiplied by.
    public var logitScale: Float { Foundation.exp(weights.logitScale) }
}
