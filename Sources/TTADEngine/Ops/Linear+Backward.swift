extension Linear {
    /// Gradient with respect to the input of `forward` (`y = x·Wᵀ + b`, W stored `[out, in]`):
    /// `dx = dy · W`, one sgemm that reads W in its stored layout (no transpose anywhere).
    ///
    /// `dy` is `rows × outDim` (row stride `ldDy`, default dense), `dx` is `rows × inDim` (row
    /// stride `ldDx`, default dense). With `accumulate` the product is added to `dx` (sgemm's
    /// β = 1): use it when `x` also feeds another branch, e.g. the residual stream into both the
    /// skip and a pre-LN block; otherwise `dx` is overwritten (β = 0, so stale contents, even
    /// NaN, are ignored).
    public static func backwardInput(
        dy: UnsafePointer<Float>, rows: Int, outDim: Int, ldDy: Int? = nil,
        weight: UnsafePointer<Float>, inDim: Int,
        dx: UnsafeMutablePointer<Float>, ldDx: Int? = nil, accumulate: Bool
    ) {
        BLAS.sgemm(transA: false, transB: false, m: rows, n: inDim, k: outDim,
                   alpha: 1, a: dy, lda: ldDy ?? outDim, b: weight, ldb: inDim,
                   beta: accumulate ? 1 : 0, c: dx, ldc: ldDx ?? inDim)
    }

    /// Gradient with respect to the parameters of `forward`, for the rare case where a
    /// projection is trainable (the prompts and LayerNorm affines are the usual trainables):
    /// `dW += dyᵀ · x` (`[out, in]`, PyTorch layout, like W) and, when `dBias` is given,
    /// `db += Σ_rows dy`. Both accumulate, like PyTorch's `.grad`, so several micro-batches or
    /// views can add into the same gradient; zero them first for a fresh one.
    public static func backwardWeight(
        dy: UnsafePointer<Float>, rows: Int, outDim: Int, ldDy: Int? = nil,
        x: UnsafePointer<Float>, inDim: Int, ldx: Int? = nil,
        dWeight: UnsafeMutablePointer<Float>, dBias: UnsafeMutablePointer<Float>?
    ) {
        let ldDy = ldDy ?? outDim
        BLAS.sgemm(transA: true, transB: false, m: outDim, n: inDim, k: rows,
                   alpha: 1, a: dy, lda: ldDy, b: x, ldb: ldx ?? inDim,
                   beta: 1, c: dWeight, ldc: inDim)
        if let dBias {
            // A column sum: adding rows keeps the loads contiguous (a gemv with a ones vector
            // would need a buffer of ones).
            for r in 0..<rows { Elementwise.add(dy + r * ldDy, into: dBias, count: outDim) }
        }
    }
}
