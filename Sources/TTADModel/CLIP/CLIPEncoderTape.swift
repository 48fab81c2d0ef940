import TTADEngine

/// Where the block backward adds one layer's LayerNorm affine gradients (each `D` floats,
/// accumulated like PyTorch's `.grad`).
struct CLIPBlockNormGradients {
    let norm1Weight, norm1Bias, norm2Weight, norm2Bias: UnsafeMutablePointer<Float>
}

/// The pre-LayerNorm transformer blocks of `CLIPEncoder`, run in training mode: the forward (the
/// same `CLIPBlock.forward` the inference encoder runs) can record what the backward needs, and
/// the backward turns ∂L/∂(final hidden states) into ∂L/∂(first block's input), touching no weight
/// matrix's gradient (all of them are frozen; only `Linear.backwardInput` is used).
///
/// Saved per layer `l` (when recording), for `R` rows of width `D` and MLP width `I`:
/// - the block input `x_l` (LN1's input) and the residual after attention `m_l` (LN2's input),
///   plus the four per-row LayerNorm statistics (mean, rstd of each): LayerNorm's backward
///   rebuilds x̂ from them exactly;
/// - the fused `qkv_l` `[R, 3D]` and the attention probabilities: attention's backward reads both;
/// - the MLP pre-activation `[R, I]`: the activation's derivative is taken there.
///
/// Not saved: the LayerNorm outputs, the attention output and the activation output. They are
/// only the *inputs* of frozen projections, whose weight gradients are never formed, so the
/// backward has no use for them. Nothing is recomputed.
///
/// Without recording (inference, e.g. the 64-view forward TPT selects from) every layer reuses
/// one set of buffers and the residual stream is updated in place, as `CLIPEncoder` does; the
/// floats are the same either way.
///
/// Memory while recording: `R·(5D + I)` floats per layer plus the probabilities (ViT-B/16, 6 views
/// of 197 rows: 33 MB + 11 MB per layer, ≈ 0.5 GB for 12 layers). Buffers grow to the largest
/// batch seen and are then reused.
final class CLIPEncoderTape {
    let config: CLIPTowerConfiguration
    let layers: [CLIPLayerWeights]

    private var layout: CLIPSequenceLayout?
    private var recording = false
    private var rows = 0

    // Saved (per layer when recording, one slot otherwise).
    private let states = ScratchBuffer()      // x_0 … x_L
    private let mids = ScratchBuffer()        // m_0 … m_{L−1}
    private let qkvs = ScratchBuffer()
    private let preActivations = ScratchBuffer()
    private let probabilities = ScratchBuffer()
    private let statistics = ScratchBuffer()  // per layer: mean1, rstd1, mean2, rstd2 (R each)
    // Temporaries, shared by forward and backward.
    private let norm = ScratchBuffer()
    private let attention = ScratchBuffer()
    private let mlp = ScratchBuffer()
    private let gradQKV = ScratchBuffer()
    private let gradScores = ScratchBuffer()
    private let gradient = ScratchBuffer()
    private let transposed = ScratchBuffer()

    init(config: CLIPTowerConfiguration, layers: [CLIPLayerWeights]) {
        self.config = config
        self.layers = layers
    }

    /// True when the last forward recorded, so `backward` may run.
    var isRecorded: Bool { recording && layout != nil }

    /// Sizes the buffers for `layout` and returns where the caller writes the first block's
    /// input (`rows × D`). Call `forward()` next.
    func begin(layout: CLIPSequenceLayout, record: Bool) -> UnsafeMutablePointer<Float> {
        self.layout = layout
        recording = record
        rows = layout.rows
        let d = config.hiddenSize, slots = record ? layers.count : 1
        _ = mids.pointer(atLeast: record ? slots * rows * d : 0)
        _ = qkvs.pointer(atLeast: slots * rows * 3 * d)
        _ = preActivations.pointer(atLeast: slots * rows * config.intermediateSize)
        _ = probabilities.pointer(atLeast: slots * layout.probsPerLayer)
        _ = statistics.pointer(atLeast: slots * 4 * rows)
        _ = norm.pointer(atLeast: rows * d)
        _ = attention.pointer(atLeast: rows * d)
        _ = mlp.pointer(atLeast: record ? rows * config.intermediateSize : 0)
        return states.pointer(atLeast: (record ? layers.count + 1 : 1) * rows * d)
    }

    /// Runs every block over the input written after `begin`; returns the final hidden states
    /// (`rows × D`, valid until the next `begin`).
    @discardableResult
    func forward() -> UnsafeMutablePointer<Float> {
        guard let layout else { preconditionFailure("CLIPEncoderTape.forward without begin") }
        let c = config, r = rows
        let tr = transposed.pointer(atLeast: Linear.transposedRowLimit * max(3 * c.hiddenSize, c.intermediateSize))
        for (l, w) in layers.enumerated() {
            let pre = preActivation(l), probs = probs(l)
            // Recording keeps the pre-activation and writes the activation to a temporary;
            // inference applies it in place.
            let buffers = CLIPBlockBuffers(
                input: state(l), mid: mid(l), output: state(l + 1), norm: norm.storage.pointer, qkv: qkv(l),
                attention: attention.storage.pointer, preActivation: pre, activated: recording ? mlp.storage.pointer : pre,
                statistics: stats(l), transposeScratch: tr)
            CLIPBlock.forward(w, rows: r, config: c, buffers: buffers) { qkv, out in
                attentionForward(layout, qkv: qkv, probs: probs, out: out)
            }
        }
        return state(layers.count)
    }

    /// The `rows × D` buffer the caller fills with ∂L/∂(final hidden states) before `backward`.
    func outputGradient() -> UnsafeMutablePointer<Float> {
        gradient.pointer(atLeast: rows * config.hiddenSize)
    }

    /// Backpropagates the gradient in `outputGradient()` through every block, in place: on return
    /// the same buffer holds ∂L/∂(first block's input). LayerNorm affine gradients are added into
    /// `normGradients[l]` when given (one entry per layer). Needs a recorded forward.
    @discardableResult
    func backward(normGradients: [CLIPBlockNormGradients]? = nil) -> UnsafeMutablePointer<Float> {
        precondition(isRecorded, "CLIPEncoderTape.backward needs a recorded forward")
        precondition(normGradients == nil || normGradients!.count == layers.count, "CLIPEncoderTape: one gradient set per layer")
        let layout = layout!
        let c = config, d = c.hiddenSize, inter = c.intermediateSize, r = rows
        let g = gradient.pointer(atLeast: r * d)
        let norm = norm.storage.pointer, att = attention.storage.pointer, mlp = mlp.storage.pointer
        let dqkv = gradQKV.pointer(atLeast: r * 3 * d)
        let scratch = gradScores.pointer(atLeast: layout.attentionScratch)
        for l in stride(from: layers.count - 1, through: 0, by: -1) {
            let w = layers[l], ng = normGradients?[l]
            let st = stats(l)
            // MLP branch: next = m + fc2(act(fc1(LN2(m)))); g holds ∂L/∂next.
            Linear.backwardInput(dy: g, rows: r, outDim: d, weight: w.fc2Weight.pointer, inDim: inter, dx: mlp, accumulate: false)
            c.activation.backward(x: preActivation(l), dy: mlp, dx: mlp, count: r * inter)
            Linear.backwardInput(dy: mlp, rows: r, outDim: inter, weight: w.fc1Weight.pointer, inDim: d, dx: norm, accumulate: false)
            LayerNorm.backward(dy: norm, x: mid(l), mean: st + 2 * r, rstd: st + 3 * r, weight: w.norm2Weight.pointer,
                               rows: r, dim: d, dx: g, dWeight: ng?.norm2Weight, dBias: ng?.norm2Bias)
            // Attention branch: m = x + out(attn(qkv(LN1(x)))); g now holds ∂L/∂m.
            Linear.backwardInput(dy: g, rows: r, outDim: d, weight: w.outWeight.pointer, inDim: d, dx: att, accumulate: false)
            attentionBackward(layout, qkv: qkv(l), probs: probs(l), dOut: att, dqkv: dqkv, scratch: scratch)
            Linear.backwardInput(dy: dqkv, rows: r, outDim: 3 * d, weight: w.qkvWeight.pointer, inDim: d, dx: norm, accumulate: false)
            LayerNorm.backward(dy: norm, x: state(l), mean: st, rstd: st + r, weight: w.norm1Weight.pointer,
                               rows: r, dim: d, dx: g, dWeight: ng?.norm1Weight, dBias: ng?.norm1Bias)
        }
        return g
    }

    // MARK: Per-layer slots

    private func slot(_ l: Int) -> Int { recording ? l : 0 }
    private func state(_ l: Int) -> UnsafeMutablePointer<Float> { states.storage.pointer + slot(l) * rows * config.hiddenSize }
    private func mid(_ l: Int) -> UnsafeMutablePointer<Float> {
        recording ? mids.storage.pointer + l * rows * config.hiddenSize : state(0)
    }
    private func qkv(_ l: Int) -> UnsafeMutablePointer<Float> { qkvs.storage.pointer + slot(l) * rows * 3 * config.hiddenSize }
    private func preActivation(_ l: Int) -> UnsafeMutablePointer<Float> {
        preActivations.storage.pointer + slot(l) * rows * config.intermediateSize
    }
    private func probs(_ l: Int) -> UnsafeMutablePointer<Float> { probabilities.storage.pointer + slot(l) * layout!.probsPerLayer }
    private func stats(_ l: Int) -> UnsafeMutablePointer<Float> { statistics.storage.pointer + slot(l) * 4 * rows }

    // MARK: Attention over the layout's sequences

    private func attentionForward(_ layout: CLIPSequenceLayout, qkv: UnsafeMutablePointer<Float>,
                                  probs: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>) {
        let c = config, d = c.hiddenSize, p = layout.prefixLength
        if p > 0 {
            Attention.forward(qkv: qkv, seqLen: p, heads: c.heads, headDim: c.headDim, causal: true, probs: probs, out: out)
        }
        for s in 0..<layout.sequenceCount {
            let start = layout.offsets[s], n = layout.offsets[s + 1] - start
            if p > 0 {
                CLIPPrefixAttention.forward(prefixQKV: qkv, prefixLength: p, suffixQKV: qkv + start * 3 * d, suffixLength: n,
                                            heads: c.heads, headDim: c.headDim,
                                            probs: probs + layout.probOffsets[s], out: out + start * d)
            } else {
                Attention.forward(qkv: qkv + start * 3 * d, seqLen: n, heads: c.heads, headDim: c.headDim,
                                  causal: layout.causal, probs: probs + layout.probOffsets[s], out: out + start * d)
            }
        }
    }

    private func attentionBackward(_ layout: CLIPSequenceLayout, qkv: UnsafeMutablePointer<Float>,
                                   probs: UnsafeMutablePointer<Float>, dOut: UnsafeMutablePointer<Float>,
                                   dqkv: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>) {
        let c = config, d = c.hiddenSize, p = layout.prefixLength
        // The prefix's own backward overwrites its rows first; every suffix then adds to its k, v.
        if p > 0 {
            Attention.backward(qkv: qkv, probs: probs, dOut: dOut, seqLen: p, heads: c.heads, headDim: c.headDim,
                               causal: true, dqkv: dqkv, scratch: scratch)
        }
        for s in 0..<layout.sequenceCount {
            let start = layout.offsets[s], n = layout.offsets[s + 1] - start
            if p > 0 {
                CLIPPrefixAttention.backward(prefixQKV: qkv, prefixLength: p, suffixQKV: qkv + start * 3 * d, suffixLength: n,
                                             heads: c.heads, headDim: c.headDim, probs: probs + layout.probOffsets[s],
                                             dOut: dOut + start * d, dPrefixQKV: dqkv, dSuffixQKV: dqkv + start * 3 * d,
                                             scratch: scratch)
            } else {
                Attention.backward(qkv: qkv + start * 3 * d, probs: probs + layout.probOffsets[s], dOut: dOut + start * d,
                                   seqLen: n, heads: c.heads, headDim: c.headDim, causal: layout.causal,
                                   dqkv: dqkv + start * 3 * d, scratch: scratch)
            }
        }
    }
}
