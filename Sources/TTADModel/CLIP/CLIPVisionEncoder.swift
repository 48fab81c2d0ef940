import TTADEngine

/// The image tower: patch embedding, class token, positional embedding, optional visual prompt
/// tokens, pre-LayerNorm, the transformer blocks, post-LayerNorm of the class token and the
/// projection into the joint embedding space — Hugging Face's `CLIPVisionTransformer` followed
/// by `visual_projection`.
///
/// Visual prompts (VPT-shallow): `n` learned vectors inserted right after the class token, after
/// the positional embeddings were added to the class and patch tokens (prompts get no position),
/// before the pre-LayerNorm. With `n = 0` this is exactly the reference forward.
///
/// One encoder owns its scratch memory and is used by one thread at a time; weights are shared.
public final class CLIPVisionEncoder {
    public let config: CLIPConfiguration
    public let weights: CLIPVisionWeights
    /// The block linears in int8 (`CLIPPrecision.int8`), or nil for the F32 forward.
    public let int8: CLIPVisionInt8Weights?
    private let scratch = CLIPEncoderScratch()
    private let hidden = ScratchBuffer()
    private let patchRows = ScratchBuffer()
    private let pooled = ScratchBuffer()
    private var offsets: [Int] = []

    /// `int8`, when given, must have been made from weights with the same block linears as
    /// `weights` (the LayerNorms may differ: they stay F32 and come from `weights`).
    public init(config: CLIPConfiguration, weights: CLIPVisionWeights, int8: CLIPVisionInt8Weights? = nil) {
        precondition(int8 == nil || int8!.layers.count == weights.layers.count, "CLIPVisionEncoder: int8 layers do not match")
        self.config = config
        self.weights = weights
        self.int8 = int8
    }

    /// Floats per input image (`3 × size × size`, CHW, normalised).
    public var imageFloatCount: Int { config.channels * config.imageSize * config.imageSize }

    /// Encodes `batch` images into `features` (`batch × projectionDim`, not normalised, as
    /// `get_image_features`). `prompts`, when non-nil, holds `promptCount × hiddenSize` floats.
    public func encode(
        images: UnsafePointer<Float>, batch: Int,
        prompts: UnsafePointer<Float>? = nil, promptCount: Int = 0,
        features: UnsafeMutablePointer<Float>
    ) {
        precondition(batch >= 0 && promptCount >= 0 && (promptCount == 0 || prompts != nil))
        guard batch > 0 else { return }
        let v = config.vision, d = v.hiddenSize
        let n = config.patchCount, seq = 1 + promptCount + n
        let patchIn = config.channels * config.patchSize * config.patchSize
        let rows = batch * seq

        // Patch embedding for the whole batch as one product.
        let unrolled = patchRows.pointer(atLeast: batch * n * patchIn)
        for b in 0..<batch {
            PatchEmbedding.unroll(image: images + b * imageFloatCount, channels: config.channels,
                                  size: config.imageSize, patch: config.patchSize, rows: unrolled + b * n * patchIn)
        }
        let h = hidden.pointer(atLeast: rows * d)
        let patchOut = scratch.mlp.pointer(atLeast: max(batch * n * d, rows * v.intermediateSize))
        Linear.forward(x: unrolled, rows: batch * n, inDim: patchIn, weight: weights.patchWeight.pointer,
                       bias: nil, outDim: d, y: patchOut)

        let pos = weights.positionEmbedding.pointer
        for b in 0..<batch {
            let base = h + b * seq * d
            Elementwise.sum(weights.classEmbedding.pointer, pos, into: base, count: d)
            if promptCount > 0, let prompts {
                (base + d).update(from: prompts, count: promptCount * d)
            }
            let firstPatch = base + (1 + promptCount) * d
            Elementwise.sum(patchOut + b * n * d, pos + d, into: firstPatch, count: n * d)
        }
        LayerNorm.forward(x: h, y: h, rows: rows, dim: d, weight: weights.preNormWeight.pointer,
                          bias: weights.preNormBias.pointer, eps: v.layerNormEps)

        if offsets.count != batch + 1 || offsets.last != rows {
            offsets = (0...batch).map { $0 * seq }
        }
        offsets.withUnsafeBufferPointer { o in
            CLIPEncoder.forward(hidden: h, offsets: o, config: v, layers: weights.layers, causal: false, scratch: scratch,
                                 int8: int8?.layers)
        }

        // Post-LayerNorm of each class token, then the projection.
        let cls = pooled.pointer(atLeast: batch * d)
        for b in 0..<batch {
            LayerNorm.forward(x: h + b * seq * d, y: cls + b * d, rows: 1, dim: d,
                              weight: weights.postNormWeight.pointer, bias: weights.postNormBias.pointer, eps: v.layerNormEps)
        }
        Linear.forward(x: cls, rows: batch, inDim: d, weight: weights.projection.pointer, bias: nil,
                       outDim: config.projectionDim, y: features)
    }

    /// Convenience for tests and tools: `[Float]` in, `[Float]` out.
    public func encode(images: [Float], batch: Int, prompts: [Float] = [], promptCount: Int = 0) -> [Float] {
        precondition(images.count == batch * imageFloatCount, "CLIPVisionEncoder: \(images.count) floats for \(batch) images")
        precondition(prompts.count == promptCount * config.vision.hiddenSize, "CLIPVisionEncoder: prompt size mismatch")
        var out = [Float](repeating: 0, count: batch * config.projectionDim)
        images.withUnsafeBufferPointer { img in
            prompts.withUnsafeBufferPointer { pr in
                out.withUnsafeMutableBufferPointer { o in
                    encode(images: img.baseAddress!, batch: batch, prompts: promptCount > 0 ? pr.baseAddress : nil,
                           promptCount: promptCount, features: o.baseAddress!)
                }
            }
        }
        return out
    }
}
