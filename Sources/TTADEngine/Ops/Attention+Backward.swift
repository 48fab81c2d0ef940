extension Attention {
    /// Backward of `forward`: given `dOut = ∂L/∂out` (`[T, D]`, heads concatenated), writes
    /// `∂L/∂qkv` into `dqkv` in the same fused `[T, 3·D]` layout as `qkv`.
    ///
    /// Per head, with S = scale·QKᵀ, P = softmax(S) (the `probs` the forward saved) and O = PV:
    ///
    ///     dV = Pᵀ·dO
    ///     dP = dO·Vᵀ
    ///     dS = P ⊙ (dP − rowsum(dP ⊙ P))        (softmax backward, row by row)
    ///     dQ = scale · dS·K,    dK = scale · dSᵀ·Q
    ///
    /// The scale is folded into dS once, so both products use it with α = 1. Causally masked
    /// entries have P = 0 and therefore dS = 0; they are written as exact zeros (rather than
    /// 0·dP) so that nothing in dP's masked half, whatever it holds, reaches dQ or dK.
    ///
    /// - `dqkv` is **overwritten** (each head writes its own disjoint column slices with β = 0),
    ///   which is what the QKV projection's backward (`Linear.backwardInput`) then reads. It
    ///   must not alias `qkv`.
    /// - `scratch` must hold at least `T·T` floats; it carries dP and then dS for one head at a
    ///   time. Nothing is allocated.
    public static func backward(
        qkv: UnsafePointer<Float>, probs: UnsafePointer<Float>, dOut: UnsafePointer<Float>,
        seqLen t: Int, heads: Int, headDim: Int, causal: Bool,
        dqkv: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>
    ) {
        let d = heads * headDim
        let ld = 3 * d
        let scale = 1 / Float(headDim).squareRoot()
        let ds = scratch
        for h in 0..<heads {
            let off = h * headDim
            let q = qkv + off, k = qkv + d + off, v = qkv + 2 * d + off
            let dq = dqkv + off, dk = dqkv + d + off, dv = dqkv + 2 * d + off
            let p = probs + h * t * t
            let dO = dOut + off

            // dV = Pᵀ·dO  (T×T)ᵀ · (T×dₕ)
            BLAS.sgemm(transA: true, transB: false, m: t, n: headDim, k: t,
                       alpha: 1, a: p, lda: t, b: dO, ldb: d, beta: 0, c: dv, ldc: ld)
            // dP = dO·Vᵀ  (T×dₕ) · (T×dₕ)ᵀ
            BLAS.sgemm(transA: false, transB: true, m: t, n: t, k: headDim,
                       alpha: 1, a: dO, lda: d, b: v, ldb: ld, beta: 0, c: ds, ldc: t)

            // dS = scale · P ⊙ (dP − ⟨dP, P⟩_row), in place over dP.
            let scaleV = SIMD8<Float>(repeating: scale)
            for i in 0..<t {
                let pr = p + i * t, dr = ds + i * t
                let visible = causal ? i + 1 : t
                let dot = VectorOps.dotKernel(pr, UnsafePointer(dr), visible)
                let dotV = SIMD8<Float>(repeating: dot)
                var j = 0
                while j + 8 <= visible {
                    storeVector8(scaleV * loadVector8(pr, j) * (loadVector8(dr, j) - dotV), dr, j)
                    j += 8
                }
                while j < visible { dr[j] = scale * pr[j] * (dr[j] - dot); j += 1 }
                if visible < t { (dr + visible).update(repeating: 0, count: t - visible) }
            }

            // dQ = dS·K  (T×T) · (T×dₕ);   dK = dSᵀ·Q  (T×T)ᵀ · (T×dₕ)
            BLAS.sgemm(transA: false, transB: false, m: t, n: headDim, k: t,
                       alpha: 1, a: ds, lda: t, b: k, ldb: ld, beta: 0, c: dq, ldc: ld)
            BLAS.sgemm(transA: true, transB: false, m: t, n: headDim, k: t,
                       alpha: 1, a: ds, lda: t, b: q, ldb: ld, beta: 0, c: dk, ldc: ld)
        }
    }
}
