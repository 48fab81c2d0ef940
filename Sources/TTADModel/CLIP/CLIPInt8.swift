import TTADEngine

/// The numeric precision of the image tower's inference forward.
public enum CLIPPrecision: String, Sendable, CaseIterable {
    /// Everything in F32: the forward matches transformers' `CLIPModel` to ~1e-6.
    case f32
    /// The four linear layers of every vision block (fused q/k/v, attention output, MLP fc1 and
    /// fc2) in int8 (`Int8Linear`: per-output-channel weights, per-token dynamic activations,
    /// exact int32 sums); patch embedding, LayerNorms, attention, activations, the
    /// post-LayerNorm and the projection stay F32. The text tower and every recording
    /// (gradient) forward stay F32.
    case int8
}

/// One vision block's four linear layers in int8, made from (and sharing the biases of) its
/// F32 weights.
public final class CLIPLayerInt8: Sendable {
    public let qkv: Int8Linear
    public let out: Int8Linear
    public let fc1: Int8Linear
    public let fc2: Int8Linear

    public init(_ w: CLIPLayerWeights, config c: CLIPTowerConfiguration) {
        let d = c.hiddenSize, i = c.intermediateSize
        qkv = Int8Linear(weight: w.qkvWeight, bias: w.qkvBias, outDim: 3 * d, inDim: d)
        out = Int8Linear(weight: w.outWeight, bias: w.outBias, outDim: d, inDim: d)
        fc1 = Int8Linear(weight: w.fc1Weight, bias: w.fc1Bias, outDim: i, inDim: d)
        fc2 = Int8Linear(weight: w.fc2Weight, bias: w.fc2Bias, outDim: d, inDim: i)
    }

    var byteCount: Int { qkv.byteCount + out.byteCount + fc1.byteCount + fc2.byteCount }
}

/// The image tower's block linears quantized once (at model load), shared by every encoder of
/// the model. LayerNorm affines are not part of it, so an adapted copy of the LayerNorms (the
/// `ttad` preset's) runs over the same int8 linears.
public final class CLIPVisionInt8Weights: Sendable {
    public let layers: [CLIPLayerInt8]

    public init(_ weights: CLIPVisionWeights, config: CLIPConfiguration) {
        layers = weights.layers.map { CLIPLayerInt8($0, config: config.vision) }
    }

    /// Bytes the int8 copies take beside the F32 weights.
    public var byteCount: Int { layers.reduce(0) { $0 + $1.byteCount } }
}
