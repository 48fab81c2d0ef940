/// A fully connected layer in PyTorch's layout: `y = x · Wᵀ + b` with `W` stored `[out, in]`
/// row-major (as `nn.Linear` and every Hugging Face checkpoint store it), so no weight is ever
/// transposed in memory; BLAS reads it transposed.
public enum Linear {
    /// `x` is `rows × inDim` with row stride `ldx` (≥ inDim), `y` is `rows × outDim` with row
    /// stride `ldy` (≥ outDim); both strides default to dense. `bias` may be nil.
    /// Below this many rows, `forward` given a `transposeScratch` computes `(W·xᵀ)ᵀ` instead of
    /// `x·Wᵀ`: OpenBLAS (0.3.21, SkylakeX and Haswell kernels) runs a skinny product ~1.3–2×
    /// faster with the many-row weight matrix as its first operand (measured with
    /// tools/gemm_orientation.py), and transposing the small result back costs far less.
    public static let transposedRowLimit = 64

    public static func forward(
        x: UnsafePointer<Float>, rows: Int, inDim: Int, ldx: Int? = nil,
        weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, outDim: Int,
        y: UnsafeMutablePointer<Float>, ldy: Int? = nil,
        transposeScratch: UnsafeMutablePointer<Float>? = nil
    ) {
        let ldy = ldy ?? outDim
        if let t = transposeScratch, rows <= transposedRowLimit, rows > 1 {
            BLAS.sgemm(transA: false, transB: true, m: outDim, n: rows, k: inDim,
                       alpha: 1, a: weight, lda: inDim, b: x, ldb: ldx ?? inDim, beta: 0, c: t, ldc: rows)
            Elementwise.transpose(t, rows: outDim, columns: rows, into: y, ldy: ldy, accumulate: false)
            if let bias { for r in 0..<rows { Elementwise.add(bias, into: y + r * ldy, count: outDim) } }
            return
        }
        var beta: Float = 0
        if let bias {
            // Broadcasting the bias into y first and letting sgemm accumulate (beta = 1) is
            // cheaper than a separate pass over the product afterwards.
            for r in 0..<rows { (y + r * ldy).update(from: bias, count: outDim) }
            beta = 1
        }
        BLAS.sgemm(transA: false, transB: true, m: rows, n: outDim, k: inDim,
                   alpha: 1, a: x, lda: ldx ?? inDim, b: weight, ldb: inDim,
                   beta: beta, c: y, ldc: ldy)
    }
}

extension Linear {
    /// `y += x · Wᵀ + b`: the residual form, accumulating straight into the residual stream so
    /// that the projection's output never needs a buffer (or a pass) of its own.
    public static func forwardAccumulating(
        x: UnsafePointer<Float>, rows: Int, inDim: Int,
        weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, outDim: Int,
        into y: UnsafeMutablePointer<Float>,
        transposeScratch: UnsafeMutablePointer<Float>? = nil
    ) {
        if let t = transposeScratch, rows <= transposedRowLimit, rows > 1 {
            BLAS.sgemm(transA: false, transB: true, m: outDim, n: rows, k: inDim,
                       alpha: 1, a: weight, lda: inDim, b: x, ldb: inDim, beta: 0, c: t, ldc: rows)
            Elementwise.transpose(t, rows: outDim, columns: rows, into: y, ldy: outDim, accumulate: true)
            if let bias { for r in 0..<rows { Elementwise.add(bias, into: y + r * outDim, count: outDim) } }
            return
        }
        if let bias {
            for r in 0..<rows { Elementwise.add(bias, into: y + r * outDim, count: outDim) }
        }
        BLAS.sgemm(transA: false, transB: true, m: rows, n: outDim, k: inDim,
                   alpha: 1, a: x, lda: inDim, b: weight, ldb: inDim,
                   beta: 1, c: y, ldc: outDim)
    }
}
