import TTADEngine

/// A trainable tensor with its gradient buffer (same size), named as in Hugging Face's
/// `CLIPModel.named_parameters()` so fixtures, checkpoints and logs agree on names.
public struct CLIPTrainableParameter: Sendable {
    public let name: String
    public let value: FloatBuffer
    public let gradient: FloatBuffer
}

/// The image tower in training mode: the forward of `CLIPVisionEncoder` (same ops, same order)
/// that can record a tape, and the backward from ∂L/∂features to
/// - the visual prompt tokens (`prompts`, `[n, D]`, summed over the batch), and
/// - optionally every LayerNorm affine of the tower (`pre_layrnorm`, each layer's `layer_norm1/2`,
///   `post_layernorm`): the trainer then owns copies of those vectors (the model's weights stay
///   untouched and shareable) and runs with them, so an optimizer stepping `layerNorms` changes
///   what this trainer computes.
/// The patch embedding, projections, MLPs and attention weights are frozen and get no gradient;
/// nor do the pixels.
///
/// Memory: recording keeps the whole batch's activations (`CLIPEncoderTape`), so record only the
/// images that need a gradient — TPT encodes all views without recording, selects the confident
/// few and re-encodes just those with recording (≈ 10 % more forward work for 10× less memory).
///
/// Gradients accumulate across `backward` calls (PyTorch semantics); `zeroGradients()` clears them.
/// One trainer is used by one thread at a time; scratch grows to the largest batch and is reused.
public final class CLIPVisionTrainer {
    public let config: CLIPConfiguration
    /// The weights this trainer runs: the model's, with its own LayerNorm affines when trainable.
    public let weights: CLIPVisionWeights
    public let promptCount: Int
    /// `[promptCount, D]` visual prompt tokens and their gradient.
    public let prompts: FloatBuffer
    public let promptGradient: FloatBuffer
    /// The LayerNorm affines in `named_parameters` order (empty unless trained).
    public let layerNorms: [CLIPTrainableParameter]

    private let tape: CLIPEncoderTape
    /// Forwards that record nothing go through the inference encoder (over the same weights, so
    /// it sees the trained LayerNorms): it is the tuned path, and it keeps no tape.
    private let inference: CLIPVisionEncoder
    private let normGradients: [CLIPBlockNormGradients]?
    private var layouts: [Int: CLIPSequenceLayout] = [:]
    private var batch = 0
    private var recorded = false
    private var finalStates: UnsafeMutablePointer<Float>?   // the tape's last hidden states
    private let patchRows = ScratchBuffer()
    private let patchOut = ScratchBuffer()
    private let embeddedPatches = ScratchBuffer()  // patch embeddings of an `.images` input
    private let embeddings = ScratchBuffer()       // pre-LN input (saved for its backward)
    private let preStats = ScratchBuffer()         // mean, rstd of every row
    private let pooled = ScratchBuffer()           // post-LN of each class token
    private let postStats = ScratchBuffer()
    private let pooledGradient = ScratchBuffer()
    private let embeddingGradient = ScratchBuffer()

    /// `int8`: the block linears in int8 for the forwards that record nothing (prediction);
    /// recording forwards and backwards always use the F32 weights.
    public init(config: CLIPConfiguration, weights: CLIPVisionWeights, promptCount: Int = 0, trainLayerNorms: Bool = false,
                int8: CLIPVisionInt8Weights? = nil) {
        precondition(promptCount >= 0)
        self.config = config
        self.promptCount = promptCount
        let d = config.vision.hiddenSize
        prompts = FloatBuffer(count: promptCount * d)
        promptGradient = FloatBuffer(count: promptCount * d)
        guard trainLayerNorms else {
            self.weights = weights
            layerNorms = []
            normGradients = nil
            tape = CLIPEncoderTape(config: config.vision, layers: weights.layers)
            inference = CLIPVisionEncoder(config: config, weights: weights, int8: int8)
            return
        }
        var parameters: [CLIPTrainableParameter] = []
        func own(_ name: String, _ source: FloatBuffer) -> FloatBuffer {
            let copy = FloatBuffer(count: source.count)
            copy.copy(from: source)
            parameters.append(CLIPTrainableParameter(name: "vision_model." + name, value: copy, gradient: FloatBuffer(count: source.count)))
            return copy
        }
        let preW = own("pre_layrnorm.weight", weights.preNormWeight), preB = own("pre_layrnorm.bias", weights.preNormBias)
        let layers = weights.layers.enumerated().map { (i, w) in
            let p = "encoder.layers.\(i)."
            return CLIPLayerWeights(
                norm1Weight: own(p + "layer_norm1.weight", w.norm1Weight), norm1Bias: own(p + "layer_norm1.bias", w.norm1Bias),
                qkvWeight: w.qkvWeight, qkvBias: w.qkvBias, outWeight: w.outWeight, outBias: w.outBias,
                norm2Weight: own(p + "layer_norm2.weight", w.norm2Weight), norm2Bias: own(p + "layer_norm2.bias", w.norm2Bias),
                fc1Weight: w.fc1Weight, fc1Bias: w.fc1Bias, fc2Weight: w.fc2Weight, fc2Bias: w.fc2Bias)
        }
        let postW = own("post_layernorm.weight", weights.postNormWeight), postB = own("post_layernorm.bias", weights.postNormBias)
        self.weights = CLIPVisionWeights(
            classEmbedding: weights.classEmbedding, patchWeight: weights.patchWeight, positionEmbedding: weights.positionEmbedding,
            preNormWeight: preW, preNormBias: preB, layers: layers, postNormWeight: postW, postNormBias: postB,
            projection: weights.projection)
        layerNorms = parameters
        // parameters[2 + 4l ..< 6 + 4l] are layer l's norm1 weight/bias, norm2 weight/bias.
        normGradients = (0..<layers.count).map { l in
            CLIPBlockNormGradients(norm1Weight: parameters[2 + 4 * l].gradient.pointer, norm1Bias: parameters[3 + 4 * l].gradient.pointer,
                                   norm2Weight: parameters[4 + 4 * l].gradient.pointer, norm2Bias: parameters[5 + 4 * l].gradient.pointer)
        }
        tape = CLIPEncoderTape(config: config.vision, layers: layers)
        inference = CLIPVisionEncoder(config: config, weights: self.weights, int8: int8)
    }

    /// Floats per input image (`3 × size × size`, CHW, normalised).
    public var imageFloatCount: Int { config.channels * config.imageSize * config.imageSize }
    private var sequenceLength: Int { 1 + promptCount + config.patchCount }

    /// What a recorded forward starts from: normalised pixels (CHW), or the patch embeddings
    /// `embedPatches` made of them earlier.
    public enum Input {
        case images(UnsafePointer<Float>)
        case patchEmbeddings(UnsafePointer<Float>)
    }

    /// Floats of one image's patch embeddings (`patchCount × hiddenSize`).
    public var patchEmbeddingFloatCount: Int { config.patchCount * config.vision.hiddenSize }

    /// Writes `batch` images' patch embeddings — the patch projection plus the position
    /// embeddings, `patchEmbeddingFloatCount` floats per image — into `out`. No trainable
    /// parameter acts before them, so an image replayed many times (a bank item) can keep them
    /// and skip decoding, resizing and the patch product, which is two fifths of the forward's
    /// multiply-adds on the bundled model.
    ///
    /// One product per image, not one for the batch: BLAS may sum a row in another order when
    /// the matrix is taller (it does for small models), and an image embedded alone on admission
    /// must give the floats it would give among the whole bank.
    public func embedPatches(images: UnsafePointer<Float>, batch: Int, into out: UnsafeMutablePointer<Float>) {
        precondition(batch > 0, "CLIPVisionTrainer.embedPatches: empty batch")
        let d = config.vision.hiddenSize, n = config.patchCount
        let patchIn = config.channels * config.patchSize * config.patchSize
        let unrolled = patchRows.pointer(atLeast: n * patchIn)
        let patches = patchOut.pointer(atLeast: n * d)
        let pos = weights.positionEmbedding.pointer
        for b in 0..<batch {
            PatchEmbedding.unroll(image: images + b * imageFloatCount, channels: config.channels,
                                  size: config.imageSize, patch: config.patchSize, rows: unrolled)
            Linear.forward(x: unrolled, rows: n, inDim: patchIn, weight: weights.patchWeight.pointer, bias: nil, outDim: d, y: patches)
            Elementwise.sum(patches, pos + d, into: out + b * n * d, count: n * d)
        }
    }

    /// Image features (`batch × projectionDim`, not normalised) with the current prompts and
    /// LayerNorms. With `record`, keeps what `backward` needs for exactly these images; without,
    /// an earlier recording stays valid (the inference encoder has buffers of its own).
    public func encode(images: UnsafePointer<Float>, batch: Int, features: UnsafeMutablePointer<Float>, record: Bool) {
        precondition(batch > 0, "CLIPVisionTrainer.encode: empty batch")
        guard record else {
            inference.encode(images: images, batch: batch, prompts: promptCount > 0 ? UnsafePointer(prompts.pointer) : nil,
                             promptCount: promptCount, features: features)
            return
        }
        encodeRecording(.images(images), batch: batch, features: features)
    }

    /// `encode(record: true)` from either kind of input; the same ops in the same order, so
    /// features from cached patch embeddings equal those from the pixels they were made of.
    public func encodeRecording(_ input: Input, batch: Int, features: UnsafeMutablePointer<Float>) {
        precondition(batch > 0, "CLIPVisionTrainer.encode: empty batch")
        let v = config.vision, d = v.hiddenSize, n = config.patchCount, seq = sequenceLength
        let rows = batch * seq
        let layout = layout(batch)

        let patches: UnsafePointer<Float>
        switch input {
        case .images(let images):
            let p = embeddedPatches.pointer(atLeast: batch * n * d)
            embedPatches(images: images, batch: batch, into: p)
            patches = UnsafePointer(p)
        case .patchEmbeddings(let p):
            patches = p
        }
        // The sequence as CLIPVisionEncoder builds it: class token, prompts, patches.
        let e = embeddings.pointer(atLeast: rows * d)
        let pos = weights.positionEmbedding.pointer
        for b in 0..<batch {
            let base = e + b * seq * d
            Elementwise.sum(weights.classEmbedding.pointer, pos, into: base, count: d)
            if promptCount > 0 { (base + d).update(from: prompts.pointer, count: promptCount * d) }
            (base + (1 + promptCount) * d).update(from: patches + b * n * d, count: n * d)
        }
        let stats = preStats.pointer(atLeast: 2 * rows)
        let h0 = tape.begin(layout: layout, record: true)
        LayerNorm.forward(x: e, y: h0, rows: rows, dim: d, weight: weights.preNormWeight.pointer, bias: weights.preNormBias.pointer,
                          eps: v.layerNormEps, mean: stats, rstd: stats + rows)
        let h = tape.forward()

        let cls = pooled.pointer(atLeast: batch * d), post = postStats.pointer(atLeast: 2 * batch)
        for b in 0..<batch {
            LayerNorm.forward(x: h + b * seq * d, y: cls + b * d, rows: 1, dim: d, weight: weights.postNormWeight.pointer,
                              bias: weights.postNormBias.pointer, eps: v.layerNormEps, mean: post + b, rstd: post + batch + b)
        }
        Linear.forward(x: cls, rows: batch, inDim: d, weight: weights.projection.pointer, bias: nil,
                       outDim: config.projectionDim, y: features)
        self.batch = batch
        recorded = true
        finalStates = h
    }

    /// Adds ∂L/∂prompts and (when trained) ∂L/∂(LayerNorm affines), given `dFeatures`
    /// (`batch × projectionDim`) for the batch of the last `encode(record: true)`.
    public func backward(dFeatures: UnsafePointer<Float>) {
        precondition(recorded, "CLIPVisionTrainer.backward needs encode(record: true) first")
        let v = config.vision, d = v.hiddenSize, seq = sequenceLength, rows = batch * seq
        let h = finalStates!, post = postStats.storage.pointer
        let trainNorms = !layerNorms.isEmpty

        // Projection (frozen) and post-LN of each class token into the top gradient.
        let dPooled = pooledGradient.pointer(atLeast: batch * d)
        Linear.backwardInput(dy: dFeatures, rows: batch, outDim: config.projectionDim, weight: weights.projection.pointer,
                             inDim: d, dx: dPooled, accumulate: false)
        let g = tape.outputGradient()
        g.update(repeating: 0, count: rows * d)
        let postW = trainNorms ? layerNorms[layerNorms.count - 2].gradient.pointer : nil
        let postB = trainNorms ? layerNorms[layerNorms.count - 1].gradient.pointer : nil
        for b in 0..<batch {
            LayerNorm.backward(dy: dPooled + b * d, x: h + b * seq * d, mean: post + b, rstd: post + batch + b,
                               weight: weights.postNormWeight.pointer, rows: 1, dim: d,
                               dx: g + b * seq * d, dWeight: postW, dBias: postB)
        }
        tape.backward(normGradients: normGradients)

        // Pre-LN: g now holds ∂L/∂(its output). Its input's gradient is needed at the prompt rows
        // only, unless the pre-LN affine itself trains (then every row contributes to it).
        let e = embeddings.storage.pointer, stats = preStats.storage.pointer
        if trainNorms {
            let dE = embeddingGradient.pointer(atLeast: rows * d)
            dE.update(repeating: 0, count: rows * d)
            LayerNorm.backward(dy: g, x: e, mean: stats, rstd: stats + rows, weight: weights.preNormWeight.pointer,
                               rows: rows, dim: d, dx: dE, dWeight: layerNorms[0].gradient.pointer, dBias: layerNorms[1].gradient.pointer)
            for b in 0..<batch where promptCount > 0 {
                Elementwise.add(dE + (b * seq + 1) * d, into: promptGradient.pointer, count: promptCount * d)
            }
        } else if promptCount > 0 {
            for b in 0..<batch {
                let first = b * seq + 1
                LayerNorm.backward(dy: g + first * d, x: e + first * d, mean: stats + first, rstd: stats + rows + first,
                                   weight: weights.preNormWeight.pointer, rows: promptCount, dim: d,
                                   dx: promptGradient.pointer, dWeight: nil, dBias: nil)
            }
        }
    }

    public func zeroGradients() {
        promptGradient.fill(0)
        for p in layerNorms { p.gradient.fill(0) }
    }

    private func layout(_ batch: Int) -> CLIPSequenceLayout {
        if let l = layouts[batch] { return l }
        let l = CLIPSequenceLayout(uniform: batch, length: sequenceLength, causal: false, heads: config.vision.heads)
        layouts[batch] = l
        return l
    }
}
