import TTADEngine

/// Reusable activation memory for one tower's forward pass. Grows to the largest batch seen and
/// is then reused, so steady-state inference allocates nothing.
final class CLIPEncoderScratch {
    let norm = ScratchBuffer()
    let qkv = ScratchBuffer()
    let attention = ScratchBuffer()
    let mlp = ScratchBuffer()
    let probs = ScratchBuffer()
    /// Products with few rows are computed transposed into here (see `Linear.transposedRowLimit`).
    let transposed = ScratchBuffer()
    /// Quantized activation rows and their scales for the int8 linears.
    let int8 = ScratchBuffer()
}

/// The stack of pre-LayerNorm transformer blocks shared by both towers, run over a packed batch:
/// `rows` token rows of width D holding several sequences back to back, sequence `s` at rows
/// `offsets[s] ..< offsets[s+1]`. Linear layers see all rows at once (one large product per
/// weight matrix); only attention works per sequence. Packing is what lets the text tower stop
/// each prompt at its end-of-text token with no padding at all.
enum CLIPEncoder {
    static func forward(
        hidden: UnsafeMutablePointer<Float>, offsets: UnsafeBufferPointer<Int>,
        config c: CLIPTowerConfiguration, layers: [CLIPLayerWeights], causal: Bool,
        scratch: CLIPEncoderScratch, int8: [CLIPLayerInt8]? = nil
    ) {
        let rows = offsets.last ?? 0
        guard rows > 0 else { return }
        let d = c.hiddenSize, inter = c.intermediateSize
        var longest = 0
        for s in 0..<(offsets.count - 1) { longest = max(longest, offsets[s + 1] - offsets[s]) }
        let probs = scratch.probs.pointer(atLeast: c.heads * longest * longest)
        let mlp = scratch.mlp.pointer(atLeast: rows * inter)
        // The residual stream is updated in place and every layer reuses one set of buffers.
        var buffers = CLIPBlockBuffers(
            input: hidden, mid: hidden, output: hidden,
            norm: scratch.norm.pointer(atLeast: rows * d), qkv: scratch.qkv.pointer(atLeast: rows * 3 * d),
            attention: scratch.attention.pointer(atLeast: rows * d), preActivation: mlp, activated: mlp,
            statistics: nil, transposeScratch: scratch.transposed.pointer(atLeast: Linear.transposedRowLimit * max(3 * d, inter)))
        if let int8 {
            precondition(int8.count == layers.count, "CLIPEncoder: \(int8.count) int8 layers for \(layers.count)")
            let bytes = Int8Linear.scratchBytes(rows: rows, inDim: max(d, inter))
            buffers.int8Scratch = UnsafeMutableRawPointer(scratch.int8.pointer(atLeast: (bytes + 3) / 4))
        }
        for (l, w) in layers.enumerated() {
            CLIPBlock.forward(w, int8: int8?[l], rows: rows, config: c, buffers: buffers) { qkv, out in
                // One sequence at a time: the probabilities buffer holds the longest one.
                for s in 0..<(offsets.count - 1) {
                    let start = offsets[s], length = offsets[s + 1] - start
                    Attention.forward(qkv: qkv + start * 3 * d, seqLen: length, heads: c.heads, headDim: c.headDim,
                                      causal: causal, probs: probs, out: out + start * d)
                }
            }
        }
    }
}
