import TTADEngine

/// Causal attention of a sequence's *suffix* rows over a shared prefix plus themselves.
///
/// Every class prompt of a prompt-tuned text tower starts with the same rows (start token and the
/// learned context). Under the causal mask those rows never see anything after them, so their
/// activations are identical in every sequence: they are computed once (as one causal sequence of
/// `P` rows, with `Attention`) and each class only runs its own `S` rows, whose queries attend to
/// the `P` prefix keys/values and to their own keys causally — suffix row `i` sees the `P` prefix
/// keys and suffix keys `0…i`. Equal, up to float rounding, to running every full sequence.
///
/// Layouts are those of `Attention`: fused `[rows, 3·D]` q | k | v projections, heads at column
/// blocks of `dₕ`. `probs` holds, per head, an `S × (P + S)` row-major block (prefix columns
/// first); masked entries are stored as exact zeros.
enum CLIPPrefixAttention {
    /// Writes the concatenated heads of the `S` suffix rows into `out` (`[S, D]`) and the
    /// probabilities into `probs` (`heads × S × (P + S)`).
    static func forward(
        prefixQKV: UnsafePointer<Float>, prefixLength p: Int,
        suffixQKV: UnsafePointer<Float>, suffixLength s: Int,
        heads: Int, headDim: Int,
        probs: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>
    ) {
        precondition(p > 0 && s > 0, "CLIPPrefixAttention: empty prefix or suffix")
        let d = heads * headDim, ld = 3 * d, w = p + s
        let scale = 1 / Float(headDim).squareRoot()
        for h in 0..<heads {
            let off = h * headDim
            let q = suffixQKV + off
            let kp = prefixQKV + d + off, ks = suffixQKV + d + off
            let vp = prefixQKV + 2 * d + off, vs = suffixQKV + 2 * d + off
            let pr = probs + h * s * w
            // Scores against the prefix keys (columns 0..<P) and the suffix keys (P..<P+S).
            BLAS.sgemm(transA: false, transB: true, m: s, n: p, k: headDim,
                       alpha: scale, a: q, lda: ld, b: kp, ldb: ld, beta: 0, c: pr, ldc: w)
            BLAS.sgemm(transA: false, transB: true, m: s, n: s, k: headDim,
                       alpha: scale, a: q, lda: ld, b: ks, ldb: ld, beta: 0, c: pr + p, ldc: w)
            for i in 0..<s {
                let row = pr + i * w
                let visible = p + i + 1
                VectorOps.softmax(inPlace: UnsafeMutableBufferPointer(start: row, count: visible))
                if visible < w { (row + visible).update(repeating: 0, count: w - visible) }
            }
            // O = P_prefix·V_prefix + P_suffix·V_suffix.
            BLAS.sgemm(transA: false, transB: false, m: s, n: headDim, k: p,
                       alpha: 1, a: pr, lda: w, b: vp, ldb: ld, beta: 0, c: out + off, ldc: d)
            BLAS.sgemm(transA: false, transB: false, m: s, n: headDim, k: s,
                       alpha: 1, a: pr + p, lda: w, b: vs, ldb: ld, beta: 1, c: out + off, ldc: d)
        }
    }

    /// Backward of `forward` (the algebra of `Attention.backward`, split at the prefix columns):
    /// **overwrites** the suffix rows' `dSuffixQKV` (`[S, 3·D]`) and **adds** the suffix's
    /// contribution to the prefix keys and values into `dPrefixQKV`'s k and v column blocks (its q
    /// block is not touched: prefix queries do not see the suffix). Calling it for every class
    /// after the prefix's own `Attention.backward` has written `dPrefixQKV` accumulates the shared
    /// prefix's gradient over all classes. `scratch` must hold `S·(P + S)` floats.
    static func backward(
        prefixQKV: UnsafePointer<Float>, prefixLength p: Int,
        suffixQKV: UnsafePointer<Float>, suffixLength s: Int,
        heads: Int, headDim: Int,
        probs: UnsafePointer<Float>, dOut: UnsafePointer<Float>,
        dPrefixQKV: UnsafeMutablePointer<Float>, dSuffixQKV: UnsafeMutablePointer<Float>,
        scratch: UnsafeMutablePointer<Float>
    ) {
        let d = heads * headDim, ld = 3 * d, w = p + s
        let scale = 1 / Float(headDim).squareRoot()
        let ds = scratch
        for h in 0..<heads {
            let off = h * headDim
            let q = suffixQKV + off
            let kp = prefixQKV + d + off, ks = suffixQKV + d + off
            let vp = prefixQKV + 2 * d + off, vs = suffixQKV + 2 * d + off
            let dq = dSuffixQKV + off, dks = dSuffixQKV + d + off, dvs = dSuffixQKV + 2 * d + off
            let dkp = dPrefixQKV + d + off, dvp = dPrefixQKV + 2 * d + off
            let pr = probs + h * s * w
            let dO = dOut + off

            // dV = Pᵀ·dO, split: the suffix's own values (overwrite), the prefix's (accumulate).
            BLAS.sgemm(transA: true, transB: false, m: s, n: headDim, k: s,
                       alpha: 1, a: pr + p, lda: w, b: dO, ldb: d, beta: 0, c: dvs, ldc: ld)
            BLAS.sgemm(transA: true, transB: false, m: p, n: headDim, k: s,
                       alpha: 1, a: pr, lda: w, b: dO, ldb: d, beta: 1, c: dvp, ldc: ld)
            // dP = dO·Vᵀ over both column blocks.
            BLAS.sgemm(transA: false, transB: true, m: s, n: p, k: headDim,
                       alpha: 1, a: dO, lda: d, b: vp, ldb: ld, beta: 0, c: ds, ldc: w)
            BLAS.sgemm(transA: false, transB: true, m: s, n: s, k: headDim,
                       alpha: 1, a: dO, lda: d, b: vs, ldb: ld, beta: 0, c: ds + p, ldc: w)
            // dS = scale · P ⊙ (dP − ⟨dP, P⟩_row); masked entries exactly 0.
            for i in 0..<s {
                let prow = pr + i * w, drow = ds + i * w
                let visible = p + i + 1
                let dot = VectorOps.dot(UnsafeBufferPointer(start: prow, count: visible),
                                        UnsafeBufferPointer(start: drow, count: visible))
                for j in 0..<visible { drow[j] = scale * prow[j] * (drow[j] - dot) }
                if visible < w { (drow + visible).update(repeating: 0, count: w - visible) }
            }
            // dQ = dS·K over both blocks; dK = dSᵀ·Q, split like dV.
            BLAS.sgemm(transA: false, transB: false, m: s, n: headDim, k: p,
                       alpha: 1, a: ds, lda: w, b: kp, ldb: ld, beta: 0, c: dq, ldc: ld)
            BLAS.sgemm(transA: false, transB: false, m: s, n: headDim, k: s,
                       alpha: 1, a: ds + p, lda: w, b: ks, ldb: ld, beta: 1, c: dq, ldc: ld)
            BLAS.sgemm(transA: true, transB: false, m: s, n: headDim, k: s,
                       alpha: 1, a: ds + p, lda: w, b: q, ldb: ld, beta: 0, c: dks, ldc: ld)
            BLAS.sgemm(transA: true, transB: false, m: p, n: headDim, k: s,
                       alpha: 1, a: ds, lda: w, b: q, ldb: ld, beta: 1, c: dkp, ldc: ld)
        }
    }
}
