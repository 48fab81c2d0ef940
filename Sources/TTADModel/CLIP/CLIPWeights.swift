import TTADEngine

/// Parameters of one pre-LayerNorm transformer block. The query, key and value projections are
/// fused at load time into one `[3D, D]` matrix (rows q, then k, then v) so a block does one
/// large product instead of three smaller ones.
public struct CLIPLayerWeights: Sendable {
    public let norm1Weight, norm1Bias: FloatBuffer
    public let qkvWeight, qkvBias: FloatBuffer
    public let outWeight, outBias: FloatBuffer
    public let norm2Weight, norm2Bias: FloatBuffer
    public let fc1Weight, fc1Bias: FloatBuffer
    public let fc2Weight, fc2Bias: FloatBuffer
}

public struct CLIPTextWeights: Sendable {
    public let tokenEmbedding: FloatBuffer      // [vocab, D]
    public let positionEmbedding: FloatBuffer   // [maxPositions, D]
    public let layers: [CLIPLayerWeights]
    public let finalNormWeight, finalNormBias: FloatBuffer
    public let projection: FloatBuffer          // [P, D]
}

public struct CLIPVisionWeights: Sendable {
    public let classEmbedding: FloatBuffer      // [D]
    public let patchWeight: FloatBuffer         // [D, 3·p·p]
    public let positionEmbedding: FloatBuffer   // [1 + patches, D]
    public let preNormWeight, preNormBias: FloatBuffer
    public let layers: [CLIPLayerWeights]
    public let postNormWeight, postNormBias: FloatBuffer
    public let projection: FloatBuffer          // [P, D]
}

/// All parameters of a CLIPModel, converted to Float32 once at load.
public struct CLIPWeights: Sendable {
    public let text: CLIPTextWeights
    public let vision: CLIPVisionWeights
    /// The raw parameter; logits are scaled by exp(logitScale), as in HF.
    public let logitScale: Float

    /// Reads every tensor of a Hugging Face `CLIPModel` state dict (key names as in
    /// `transformers`), checking each shape against `config`. Extra tensors (e.g. the
    /// `position_ids` buffers older checkpoints carry) are ignored.
    public init(file: SafeTensorsFile, config: CLIPConfiguration) throws(CLIPModelError) {
        let reader = WeightReader(file: file)
        let t = config.text, v = config.vision, p = config.projectionDim
        let textLayers = try (0..<t.layers).map { (i) throws(CLIPModelError) in
            try reader.layer("text_model.encoder.layers.\(i)", t)
        }
        text = CLIPTextWeights(
            tokenEmbedding: try reader.load("text_model.embeddings.token_embedding.weight", [config.vocabSize, t.hiddenSize]),
            positionEmbedding: try reader.load("text_model.embeddings.position_embedding.weight", [config.maxPositions, t.hiddenSize]),
            layers: textLayers,
            finalNormWeight: try reader.load("text_model.final_layer_norm.weight", [t.hiddenSize]),
            finalNormBias: try reader.load("text_model.final_layer_norm.bias", [t.hiddenSize]),
            projection: try reader.load("text_projection.weight", [p, t.hiddenSize]))
        let visionLayers = try (0..<v.layers).map { (i) throws(CLIPModelError) in
            try reader.layer("vision_model.encoder.layers.\(i)", v)
        }
        let ps = config.patchSize
        vision = CLIPVisionWeights(
            classEmbedding: try reader.load("vision_model.embeddings.class_embedding", [v.hiddenSize]),
            patchWeight: try reader.load("vision_model.embeddings.patch_embedding.weight", [v.hiddenSize, config.channels, ps, ps]),
            positionEmbedding: try reader.load("vision_model.embeddings.position_embedding.weight", [config.visionSequenceLength, v.hiddenSize]),
            preNormWeight: try reader.load("vision_model.pre_layrnorm.weight", [v.hiddenSize]),
            preNormBias: try reader.load("vision_model.pre_layrnorm.bias", [v.hiddenSize]),
            layers: visionLayers,
            postNormWeight: try reader.load("vision_model.post_layernorm.weight", [v.hiddenSize]),
            postNormBias: try reader.load("vision_model.post_layernorm.bias", [v.hiddenSize]),
            projection: try reader.load("visual_projection.weight", [p, v.hiddenSize]))
        // Stored as a 0-d tensor by HF; accept [1] too (some exporters write that).
        let scaleName = "logit_scale"
        guard file.contains(scaleName) else { throw .missingTensor(file: file.path, name: scaleName) }
        let shape = (try? file.info(scaleName).shape) ?? []
        let scale = try reader.load(scaleName, shape == [1] ? [1] : [])
        logitScale = scale.pointer[0]
    }

    /// Random weights in the given shape (deterministic for a seed): for benchmarks at real
    /// model shapes when no checkpoint is at hand. Scales keep activations O(1).
    public init(randomFor config: CLIPConfiguration, seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        func random(_ count: Int, std: Float) -> FloatBuffer {
            let b = FloatBuffer(count: count)
            for i in 0..<count { b.pointer[i] = rng.gaussian() * std }
            return b
        }
        func ones(_ count: Int) -> FloatBuffer { let b = FloatBuffer(count: count); b.fill(1); return b }
        func layer(_ c: CLIPTowerConfiguration) -> CLIPLayerWeights {
            let d = c.hiddenSize, i = c.intermediateSize, s = 1 / Float(d).squareRoot()
            return CLIPLayerWeights(
                norm1Weight: ones(d), norm1Bias: FloatBuffer(count: d),
                qkvWeight: random(3 * d * d, std: s), qkvBias: FloatBuffer(count: 3 * d),
                outWeight: random(d * d, std: s), outBias: FloatBuffer(count: d),
                norm2Weight: ones(d), norm2Bias: FloatBuffer(count: d),
                fc1Weight: random(i * d, std: s), fc1Bias: FloatBuffer(count: i),
                fc2Weight: random(d * i, std: 1 / Float(i).squareRoot()), fc2Bias: FloatBuffer(count: d))
        }
        let t = config.text, v = config.vision, p = config.projectionDim
        text = CLIPTextWeights(
            tokenEmbedding: random(config.vocabSize * t.hiddenSize, std: 0.02),
            positionEmbedding: random(config.maxPositions * t.hiddenSize, std: 0.01),
            layers: (0..<t.layers).map { _ in layer(t) },
            finalNormWeight: ones(t.hiddenSize), finalNormBias: FloatBuffer(count: t.hiddenSize),
            projection: random(p * t.hiddenSize, std: 1 / Float(t.hiddenSize).squareRoot()))
        let patchIn = config.channels * config.patchSize * config.patchSize
        vision = CLIPVisionWeights(
            classEmbedding: random(v.hiddenSize, std: 0.02),
            patchWeight: random(v.hiddenSize * patchIn, std: 1 / Float(patchIn).squareRoot()),
            positionEmbedding: random(config.visionSequenceLength * v.hiddenSize, std: 0.01),
            preNormWeight: ones(v.hiddenSize), preNormBias: FloatBuffer(count: v.hiddenSize),
            layers: (0..<v.layers).map { _ in layer(v) },
            postNormWeight: ones(v.hiddenSize), postNormBias: FloatBuffer(count: v.hiddenSize),
            projection: random(p * v.hiddenSize, std: 1 / Float(v.hiddenSize).squareRoot()))
        logitScale = config.logitScaleInit
    }
}

/// Shape- and dtype-checked tensor reads that name the offending tensor.
private struct WeightReader {
    let file: SafeTensorsFile

    func load(_ name: String, _ shape: [Int]) throws(CLIPModelError) -> FloatBuffer {
        guard file.contains(name) else { throw .missingTensor(file: file.path, name: name) }
        let info: (dtype: SafeTensorsDType, shape: [Int])
        do { info = try file.info(name) } catch { throw .unreadableFile(path: file.path, detail: error.description) }
        guard info.dtype == .f32 || info.dtype == .f16 || info.dtype == .bf16 else {
            throw .unsupportedDType(file: file.path, name: name, dtype: info.dtype.rawValue)
        }
        guard info.shape == shape else {
            throw .tensorShape(file: file.path, name: name, expected: shape, actual: info.shape)
        }
        let values: [Float]
        do { values = try file.floats(name) } catch { throw .unreadableFile(path: file.path, detail: error.description) }
        for x in values where !x.isFinite { throw .nonFiniteWeight(file: file.path, name: name) }
        return FloatBuffer(values)
    }

    func layer(_ prefix: String, _ c: CLIPTowerConfiguration) throws(CLIPModelError) -> CLIPLayerWeights {
        let d = c.hiddenSize, i = c.intermediateSize
        let q = try load("\(prefix).self_attn.q_proj.weight", [d, d])
        let k = try load("\(prefix).self_attn.k_proj.weight", [d, d])
        let v = try load("\(prefix).self_attn.v_proj.weight", [d, d])
        let qb = try load("\(prefix).self_attn.q_proj.bias", [d])
        let kb = try load("\(prefix).self_attn.k_proj.bias", [d])
        let vb = try load("\(prefix).self_attn.v_proj.bias", [d])
        return CLIPLayerWeights(
            norm1Weight: try load("\(prefix).layer_norm1.weight", [d]),
            norm1Bias: try load("\(prefix).layer_norm1.bias", [d]),
            qkvWeight: concatenate([q, k, v]), qkvBias: concatenate([qb, kb, vb]),
            outWeight: try load("\(prefix).self_attn.out_proj.weight", [d, d]),
            outBias: try load("\(prefix).self_attn.out_proj.bias", [d]),
            norm2Weight: try load("\(prefix).layer_norm2.weight", [d]),
            norm2Bias: try load("\(prefix).layer_norm2.bias", [d]),
            fc1Weight: try load("\(prefix).mlp.fc1.weight", [i, d]),
            fc1Bias: try load("\(prefix).mlp.fc1.bias", [i]),
            fc2Weight: try load("\(prefix).mlp.fc2.weight", [d, i]),
            fc2Bias: try load("\(prefix).mlp.fc2.bias", [d]))
    }

    private func concatenate(_ parts: [FloatBuffer]) -> FloatBuffer {
        let out = FloatBuffer(count: parts.reduce(0) { $0 + $1.count })
        var offset = 0
        for p in parts {
            (out.pointer + offset).update(from: p.pointer, count: p.count)
            offset += p.count
        }
        return out
    }
}
