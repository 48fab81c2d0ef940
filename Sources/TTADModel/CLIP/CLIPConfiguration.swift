import Foundation
import TTADEngine

/// The shape of one transformer tower, as Hugging Face's `CLIPTextConfig` / `CLIPVisionConfig`
/// describe it.
public struct CLIPTowerConfiguration: Sendable, Equatable {
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var layers: Int
    public var heads: Int
    public var activation: Activation
    public var layerNormEps: Float

    public var headDim: Int { hiddenSize / heads }
}

/// `config.json` of a Hugging Face CLIPModel folder, with the library's defaults for absent keys
/// (those defaults are openai/clip-vit-base-patch32's, so old configs that omit keys still load).
public struct CLIPConfiguration: Sendable, Equatable {
    public var text: CLIPTowerConfiguration
    public var vision: CLIPTowerConfiguration
    public var vocabSize: Int
    public var maxPositions: Int
    public var bosTokenID: Int
    /// The legacy value 2 (what OpenAI's converted checkpoints carry) makes HF pool the text
    /// tower at argmax(ids); any other value at the first occurrence of this id.
    public var eosTokenID: Int
    public var imageSize: Int
    public var patchSize: Int
    public var channels: Int
    public var projectionDim: Int
    public var logitScaleInit: Float

    public var patchesPerSide: Int { imageSize / patchSize }
    public var patchCount: Int { patchesPerSide * patchesPerSide }
    /// Class token plus patches.
    public var visionSequenceLength: Int { patchCount + 1 }

    /// ViT-B/32 and ViT-B/16 as OpenAI released them, for benchmarks with random weights.
    public static func vitB(patch: Int) -> CLIPConfiguration {
        CLIPConfiguration(
            text: .init(hiddenSize: 512, intermediateSize: 2048, layers: 12, heads: 8, activation: .quickGELU, layerNormEps: 1e-5),
            vision: .init(hiddenSize: 768, intermediateSize: 3072, layers: 12, heads: 12, activation: .quickGELU, layerNormEps: 1e-5),
            vocabSize: 49408, maxPositions: 77, bosTokenID: 49406, eosTokenID: 2,
            imageSize: 224, patchSize: patch, channels: 3, projectionDim: 512, logitScaleInit: 2.6592)
    }

    public init(text: CLIPTowerConfiguration, vision: CLIPTowerConfiguration, vocabSize: Int, maxPositions: Int,
                bosTokenID: Int, eosTokenID: Int, imageSize: Int, patchSize: Int, channels: Int,
                projectionDim: Int, logitScaleInit: Float) {
        self.text = text
        self.vision = vision
        self.vocabSize = vocabSize
        self.maxPositions = maxPositions
        self.bosTokenID = bosTokenID
        self.eosTokenID = eosTokenID
        self.imageSize = imageSize
        self.patchSize = patchSize
        self.channels = channels
        self.projectionDim = projectionDim
        self.logitScaleInit = logitScaleInit
    }

    /// Reads and validates `config.json`.
    public init(contentsOf path: String) throws(CLIPModelError) {
        guard FileManager.default.fileExists(atPath: path) else { throw .missingFile(path: path) }
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw .unreadableFile(path: path, detail: "not valid JSON (\(error.localizedDescription))")
        }
        guard let root = object as? [String: Any] else {
            throw .badConfig(file: path, key: "<root>", detail: "expected a JSON object")
        }
        try self.init(json: root, file: path)
    }

    init(json root: [String: Any], file: String) throws(CLIPModelError) {
        let reader = ConfigReader(file: file)
        if let mt = root["model_type"], !(mt is NSNull) {
            guard let s = mt as? String, s == "clip" else {
                throw .badConfig(file: file, key: "model_type", detail: "expected \"clip\", got \(mt)")
            }
        }
        let textJSON = try reader.object(root, "text_config")
        let visionJSON = try reader.object(root, "vision_config")
        text = try reader.tower(textJSON, prefix: "text_config", hidden: 512, intermediate: 2048, layers: 12, heads: 8)
        vision = try reader.tower(visionJSON, prefix: "vision_config", hidden: 768, intermediate: 3072, layers: 12, heads: 12)
        vocabSize = try reader.int(textJSON, "text_config", "vocab_size", default: 49408)
        maxPositions = try reader.int(textJSON, "text_config", "max_position_embeddings", default: 77)
        bosTokenID = try reader.int(textJSON, "text_config", "bos_token_id", default: 49406, minimum: 0)
        eosTokenID = try reader.int(textJSON, "text_config", "eos_token_id", default: 49407, minimum: 0)
        imageSize = try reader.int(visionJSON, "vision_config", "image_size", default: 224)
        patchSize = try reader.int(visionJSON, "vision_config", "patch_size", default: 32)
        channels = try reader.int(visionJSON, "vision_config", "num_channels", default: 3)
        projectionDim = try reader.int(root, "", "projection_dim", default: 512)
        logitScaleInit = Float(try reader.double(root, "logit_scale_init_value", default: 2.6592))
        guard imageSize % patchSize == 0 else {
            throw .badConfig(file: file, key: "vision_config.patch_size",
                             detail: "image_size \(imageSize) is not a multiple of patch_size \(patchSize)")
        }
        guard channels == 3 else {
            throw .badConfig(file: file, key: "vision_config.num_channels", detail: "only 3-channel (RGB) models are supported, got \(channels)")
        }
        guard eosTokenID < vocabSize || eosTokenID == 2 else {
            throw .badConfig(file: file, key: "text_config.eos_token_id", detail: "\(eosTokenID) is not below vocab_size \(vocabSize)")
        }
    }
}

/// Typed access to config.json values with errors that name the dotted key.
private struct ConfigReader {
    let file: String

    func object(_ json: [String: Any], _ key: String) throws(CLIPModelError) -> [String: Any] {
        guard let v = json[key], !(v is NSNull) else { return [:] }
        guard let o = v as? [String: Any] else { throw .badConfig(file: file, key: key, detail: "expected an object") }
        return o
    }

    func int(_ json: [String: Any], _ prefix: String, _ key: String, default d: Int, minimum: Int = 1) throws(CLIPModelError) -> Int {
        let name = prefix.isEmpty ? key : "\(prefix).\(key)"
        guard let v = json[key], !(v is NSNull) else { return d }
        guard let n = v as? NSNumber, !isJSONBool(n),
              n.doubleValue == n.doubleValue.rounded(), abs(n.doubleValue) < 1e9 else {
            throw .badConfig(file: file, key: name, detail: "expected an integer, got \(v)")
        }
        guard n.intValue >= minimum else { throw .badConfig(file: file, key: name, detail: "must be ≥ \(minimum), got \(n.intValue)") }
        return n.intValue
    }

    func double(_ json: [String: Any], _ key: String, default d: Double) throws(CLIPModelError) -> Double {
        guard let v = json[key], !(v is NSNull) else { return d }
        guard let n = v as? NSNumber, !isJSONBool(n), n.doubleValue.isFinite else {
            throw .badConfig(file: file, key: key, detail: "expected a finite number, got \(v)")
        }
        return n.doubleValue
    }

    func tower(_ json: [String: Any], prefix: String, hidden: Int, intermediate: Int, layers: Int, heads: Int) throws(CLIPModelError) -> CLIPTowerConfiguration {
        let h = try int(json, prefix, "hidden_size", default: hidden)
        let i = try int(json, prefix, "intermediate_size", default: intermediate)
        let l = try int(json, prefix, "num_hidden_layers", default: layers)
        let nh = try int(json, prefix, "num_attention_heads", default: heads)
        guard h % nh == 0 else {
            throw .badConfig(file: file, key: "\(prefix).num_attention_heads", detail: "hidden_size \(h) is not divisible by \(nh) heads")
        }
        var act = Activation.quickGELU
        if let v = json["hidden_act"], !(v is NSNull) {
            guard let s = v as? String, let a = Activation(rawValue: s) else {
                throw .badConfig(file: file, key: "\(prefix).hidden_act", detail: "unsupported activation \(v); supported: gelu, quick_gelu")
            }
            act = a
        }
        let eps = try double(json, "layer_norm_eps", default: 1e-5)
        guard eps > 0 else { throw .badConfig(file: file, key: "\(prefix).layer_norm_eps", detail: "must be positive") }
        return CLIPTowerConfiguration(hiddenSize: h, intermediateSize: i, layers: l, heads: nh, activation: act, layerNormEps: Float(eps))
    }
}
