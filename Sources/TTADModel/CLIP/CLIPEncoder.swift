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
        let norm = scratch.norm.pointer(atLeast: rows * d)
        let qkv = scratch.qkv.pointer(atLeast: rows * 3 * d)
        let att = scratch.attention.pointer(atLeast: rows * d)
        let mlp = scratch.mlp.pointer(atLeast: rows * inter)
        let probs = scratch.probs.pointer(atLeast: c.heads * longest * longest)
        let tr = scratch.transposed.pointer(atLeast: Linear.transposedRowLimit * max(3 * d, inter))
        if let int8 {
            precondition(int8.count == layers.count, "CLIPEncoder: \(int8.count) int8 layers for \(layers.count)")
            let bytes = Int8Linear.scratchBytes(rows: rows, inDim: max(d, inter))
            let q = UnsafeMutableRawPointer(scratch.int8.pointer(atLeast: (bytes + 3) / 4))
            for (w, l) in zip(layers, int8) {
                LayerNorm.forward(x: hidden, y: norm, rows: rows, dim: d,
                                  weight: w.norm1Weight.pointer, bias: w.norm1Bias.pointer, eps: c.layerNormEps)
                l.qkv.forward(x: norm, rows: rows, y: qkv, scratch: q)
                for s in 0..<(offsets.count - 1) {
                    let start = offsets[s], length = offsets[s + 1] - start
                    Attention.forward(qkv: qkv + start * 3 * d, seqLen: length, heads: c.heads, headDim: c.headDim,
                                      causal: causal, probs: probs, out: att + start * d)
                }
                l.out.forward(x: att, rows: rows, y: hidden, accumulate: true, scratch: q)
                LayerNorm.forward(x: hidden, y: norm, rows: rows, dim: d,
                                  weight: w.norm2Weight.pointer, bias: w.norm2Bias.pointer, eps: c.layerNormEps)
                l.fc1.forward(x: norm, rows: rows, y: mlp, scratch: q)
                c.activation.forward(x: mlp, y: mlp, count: rows * inter)
                l.fc2.forward(x: mlp, rows: rows, y: hidden, accumulate: true, scratch: q)
            }
            return
        }
        for w in layers {
            LayerNorm.forward(x: hidden, y: norm, rows: rows, dim: d,
                              weight: w.norm1Weight.pointer, bias: w.norm1Bias.pointer, eps: c.layerNormEps)
            Linear.forward(x: norm, rows: rows, inDim: d, weight: w.qkvWeight.pointer, bias: w.qkvBias.pointer,
                           outDim: 3 * d, y: qkv, transposeScratch: tr)
            for s in 0..<(offsets.count - 1) {
                let start = offsets[s], length = offsets[s + 1] - start
                Attention.forward(qkv: qkv + start * 3 * d, seqLen: length, heads: c.heads, headDim: c.headDim,
                                  causal: causal, probs: probs, out: att + start * d)
            }
            Linear.forwardAccumulating(x: att, rows: rows, inDim: d, weight: w.outWeight.pointer,
                                       bias: w.outBias.pointer, outDim: d, into: hidden, transposeScratch: tr)
            LayerNorm.forward(x: hidden, y: norm, rows: rows, dim: d,
                              weight: w.norm2Weight.pointer, bias: w.norm2Bias.pointer, eps: c.layerNormEps)
            Linear.forward(x: norm, rows: rows, inDim: d, weight: w.fc1Weight.pointer, bias: w.fc1Bias.pointer,
                           outDim: inter, y: mlp, transposeScratch: tr)
            c.activation.forward(x: mlp, y: mlp, count: rows * inter)
            Linear.forwardAccumulating(x: mlp, rows: rows, inDim: inter, weight: w.fc2Weight.pointer,
                                       bias: w.fc2Bias.pointer, outDim: d, into: hidden, transposeScratch: tr)
        }
    }
}
