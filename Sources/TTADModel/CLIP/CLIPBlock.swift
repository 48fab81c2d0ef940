import TTADEngine

/// Where one block's forward reads and writes, for `rows` token rows of width D and MLP width I.
///
/// The inference encoder points `input`, `mid` and `output` at one residual stream (updated in
/// place) and `activated` at `preActivation`; the tape points them at per-layer slots it keeps for
/// the backward. Either way the block computes the same floats: the buffers decide only what
/// survives the call.
struct CLIPBlockBuffers {
    /// `x`, LN1's input (`rows × D`).
    var input: UnsafeMutablePointer<Float>
    /// `m = x + out(attn(…))`, LN2's input; may be `input` (then updated in place).
    var mid: UnsafeMutablePointer<Float>
    /// `m + fc2(act(fc1(LN2(m))))`; may be `mid`.
    var output: UnsafeMutablePointer<Float>
    /// LayerNorm output (`rows × D`), the input of q/k/v and of fc1.
    var norm: UnsafeMutablePointer<Float>
    /// The fused q/k/v projection (`rows × 3D`).
    var qkv: UnsafeMutablePointer<Float>
    /// Attention output (`rows × D`), the input of the output projection.
    var attention: UnsafeMutablePointer<Float>
    /// fc1's output (`rows × I`).
    var preActivation: UnsafeMutablePointer<Float>
    /// The activation's output, fc2's input; `preActivation` itself to apply it in place.
    var activated: UnsafeMutablePointer<Float>
    /// When given: mean and rstd of LN1, then of LN2 (`rows` floats each), for the backward.
    var statistics: UnsafeMutablePointer<Float>?
    /// `Linear.transposedRowLimit × max(3D, I)` floats: products of few rows run transposed
    /// (faster on OpenBLAS). Nil computes them directly.
    var transposeScratch: UnsafeMutablePointer<Float>?
    /// `Int8Linear.scratchBytes(rows:inDim: max(D, I))` bytes, needed when the block runs in int8.
    var int8Scratch: UnsafeMutableRawPointer?
}

/// One pre-LayerNorm transformer block's forward — the only one in the project. The inference
/// encoder (`CLIPEncoder`) and the recording tape (`CLIPEncoderTape`) both run it, so an image's
/// features do not depend on whether its forward was recorded for a gradient: a replayed step
/// sees the floats the prediction saw, by construction rather than by two copies kept equal.
///
/// `attend(qkv, out)` runs attention over the rows' sequences (the caller knows their layout:
/// one image each, packed prompts, a shared prefix).
enum CLIPBlock {
    static func forward(
        _ w: CLIPLayerWeights, int8: CLIPLayerInt8? = nil, rows r: Int, config c: CLIPTowerConfiguration,
        buffers b: CLIPBlockBuffers,
        attend: (_ qkv: UnsafeMutablePointer<Float>, _ out: UnsafeMutablePointer<Float>) -> Void
    ) {
        let d = c.hiddenSize, inter = c.intermediateSize, st = b.statistics
        LayerNorm.forward(x: b.input, y: b.norm, rows: r, dim: d, weight: w.norm1Weight.pointer, bias: w.norm1Bias.pointer,
                          eps: c.layerNormEps, mean: st, rstd: st.map { $0 + r })
        if let l = int8 {
            l.qkv.forward(x: b.norm, rows: r, y: b.qkv, scratch: int8Scratch(b))
        } else {
            Linear.forward(x: b.norm, rows: r, inDim: d, weight: w.qkvWeight.pointer, bias: w.qkvBias.pointer,
                           outDim: 3 * d, y: b.qkv, transposeScratch: b.transposeScratch)
        }
        attend(b.qkv, b.attention)
        if b.mid != b.input { b.mid.update(from: b.input, count: r * d) }
        if let l = int8 {
            l.out.forward(x: b.attention, rows: r, y: b.mid, accumulate: true, scratch: int8Scratch(b))
        } else {
            Linear.forwardAccumulating(x: b.attention, rows: r, inDim: d, weight: w.outWeight.pointer, bias: w.outBias.pointer,
                                       outDim: d, into: b.mid, transposeScratch: b.transposeScratch)
        }
        LayerNorm.forward(x: b.mid, y: b.norm, rows: r, dim: d, weight: w.norm2Weight.pointer, bias: w.norm2Bias.pointer,
                          eps: c.layerNormEps, mean: st.map { $0 + 2 * r }, rstd: st.map { $0 + 3 * r })
        if let l = int8 {
            l.fc1.forward(x: b.norm, rows: r, y: b.preActivation, scratch: int8Scratch(b))
        } else {
            Linear.forward(x: b.norm, rows: r, inDim: d, weight: w.fc1Weight.pointer, bias: w.fc1Bias.pointer,
                           outDim: inter, y: b.preActivation, transposeScratch: b.transposeScratch)
        }
        c.activation.forward(x: b.preActivation, y: b.activated, count: r * inter)
        if b.output != b.mid { b.output.update(from: b.mid, count: r * d) }
        if let l = int8 {
            l.fc2.forward(x: b.activated, rows: r, y: b.output, accumulate: true, scratch: int8Scratch(b))
        } else {
            Linear.forwardAccumulating(x: b.activated, rows: r, inDim: inter, weight: w.fc2Weight.pointer,
                                       bias: w.fc2Bias.pointer, outDim: d, into: b.output, transposeScratch: b.transposeScratch)
        }
    }

    private static func int8Scratch(_ b: CLIPBlockBuffers) -> UnsafeMutableRawPointer {
        guard let s = b.int8Scratch else { preconditionFailure("CLIPBlock: an int8 block needs int8Scratch") }
        return s
    }
}
