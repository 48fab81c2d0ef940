/// Layer normalisation over the last dimension: `y = (x − μ) / √(σ² + ε) · γ + β` per row,
/// with the biased variance (as `torch.nn.LayerNorm`).
///
/// The forward can record each row's mean and reciprocal standard deviation: those two numbers
/// per row are all a backward pass needs besides `x` itself (llm.c's layout).
public enum LayerNorm {
    /// Normalises `rows` rows of `dim` contiguous floats from `x` into `y` (may alias `x`).
    /// `mean` and `rstd`, when given, receive `rows` values each.
    public static func forward(
        x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, rows: Int, dim: Int,
        weight: UnsafePointer<Float>, bias: UnsafePointer<Float>, eps: Float,
        mean: UnsafeMutablePointer<Float>? = nil, rstd: UnsafeMutablePointer<Float>? = nil
    ) {
        precondition(dim > 0, "LayerNorm: dim must be positive")
        let n = Float(dim)
        for r in 0..<rows {
            let xr = x + r * dim
            let yr = y + r * dim
            // Two passes (mean, then centred squares): the one-pass E[x²]−E[x]² formula loses
            // digits on rows with a large offset, which residual streams have.
            let mu = sum(xr, dim) / n
            let variance = centredSquares(xr, dim, mu) / n
            let rs = 1 / (variance + eps).squareRoot()
            mean?[r] = mu
            rstd?[r] = rs
            var i = 0
            let muV = SIMD8<Float>(repeating: mu), rsV = SIMD8<Float>(repeating: rs)
            while i + 8 <= dim {
                let v = (loadVector8(xr, i) - muV) * rsV
                storeVector8(v * loadVector8(weight, i) + loadVector8(bias, i), yr, i)
                i += 8
            }
            while i < dim {
                yr[i] = (xr[i] - mu) * rs * weight[i] + bias[i]
                i += 1
            }
        }
    }

    @inline(__always)
    static func sum(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
        var a0 = SIMD8<Float>(), a1 = SIMD8<Float>()
        var i = 0
        while i + 16 <= n {
            a0 += loadVector8(p, i); a1 += loadVector8(p, i + 8)
            i += 16
        }
        while i + 8 <= n { a0 += loadVector8(p, i); i += 8 }
        var s = (a0 + a1).sum()
        while i < n { s += p[i]; i += 1 }
        return s
    }

    @inline(__always)
    static func centredSquares(_ p: UnsafePointer<Float>, _ n: Int, _ mu: Float) -> Float {
        let m = SIMD8<Float>(repeating: mu)
        var a0 = SIMD8<Float>(), a1 = SIMD8<Float>()
        var i = 0
        while i + 16 <= n {
            let d0 = loadVector8(p, i) - m, d1 = loadVector8(p, i + 8) - m
            a0 = a0.addingProduct(d0, d0); a1 = a1.addingProduct(d1, d1)
            i += 16
        }
        while i + 8 <= n { let d = loadVector8(p, i) - m; a0 = a0.addingProduct(d, d); i += 8 }
        var s = (a0 + a1).sum()
        while i < n { let d = p[i] - mu; s += d * d; i += 1 }
        return s
    }
}
