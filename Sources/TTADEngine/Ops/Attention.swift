/// Multi-head scaled dot-product attention over one sequence, reading queries, keys and values
/// from a fused projection `[T, 3·D]` (q | k | v, head `h` at columns `h·dₕ ..< (h+1)·dₕ` of
/// each third), writing the concatenated heads to `[T, D]`.
///
/// Per head: `P = softmax(scale · Q Kᵀ)` with an optional causal mask (row i sees keys 0…i),
/// then `O = P V`. Both products go to BLAS with leading dimensions that step over the fused
/// layout, so nothing is copied or transposed. The probabilities are written to `probs`
/// (`heads × T × T`) because a backward pass needs exactly them.
public enum Attention {
    public static func forward(
        qkv: UnsafePointer<Float>, seqLen t: Int, heads: Int, headDim: Int, causal: Bool,
        probs: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>
    ) {
        let d = heads * headDim
        let ld = 3 * d
        let scale = 1 / Float(headDim).squareRoot()
        for h in 0..<heads {
            let q = qkv + h * headDim
            let k = qkv + d + h * headDim
            let v = qkv + 2 * d + h * headDim
            let p = probs + h * t * t
            BLAS.sgemm(transA: false, transB: true, m: t, n: t, k: headDim,
                       alpha: scale, a: q, lda: ld, b: k, ldb: ld, beta: 0, c: p, ldc: t)
            for i in 0..<t {
                let row = p + i * t
                let visible = causal ? i + 1 : t
                VectorOps.softmax(inPlace: UnsafeMutableBufferPointer(start: row, count: visible))
                if visible < t { (row + visible).update(repeating: 0, count: t - visible) }
            }
            BLAS.sgemm(transA: false, transB: false, m: t, n: headDim, k: t,
                       alpha: 1, a: p, lda: t, b: v, ldb: ld, beta: 0, c: out + h * headDim, ldc: d)
        }
    }
}
