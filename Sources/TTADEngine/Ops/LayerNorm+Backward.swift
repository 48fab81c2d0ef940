extension LayerNorm {
    /// Backward of `forward`: given `dy = ∂L/∂y` for `rows` rows of `dim` floats, adds `∂L/∂x` into
    /// `dx` and, when asked, `∂L/∂γ` / `∂L/∂β` into `dWeight` / `dBias`.
    ///
    /// With x̂ = (x − μ)·rstd and g = γ ⊙ dy, the per-row gradient is
    ///
    ///     dx = rstd · (g − mean(g) − x̂ · mean(g ⊙ x̂))
    ///
    /// (the two means are the projections that come from μ and σ depending on every element of
    /// the row), and dγ = Σ_rows dy ⊙ x̂, dβ = Σ_rows dy.
    ///
    /// - `mean`/`rstd` are the values the forward recorded, so x̂ is rebuilt exactly as the forward
    ///   built it instead of from a recomputed (and slightly different) variance.
    /// - `dx` **accumulates** (`dx += …`): in a pre-LN block the LayerNorm input is the residual
    ///   stream, whose gradient already holds the skip connection's contribution; accumulating
    ///   lets both branches add up without a temporary. Zero `dx` first for a plain gradient.
    ///   `dx` must not alias `dy` or `x`.
    /// - `dWeight`/`dBias` also accumulate (over rows, and across calls, as PyTorch's `.grad`
    ///   does); pass nil when the affine parameters are frozen and their gradient is not needed.
    public static func backward(
        dy: UnsafePointer<Float>, x: UnsafePointer<Float>,
        mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>,
        weight: UnsafePointer<Float>, rows: Int, dim: Int,
        dx: UnsafeMutablePointer<Float>,
        dWeight: UnsafeMutablePointer<Float>?, dBias: UnsafeMutablePointer<Float>?
    ) {
        precondition(dim > 0, "LayerNorm.backward: dim must be positive")
        let invN = 1 / Float(dim)
        for r in 0..<rows {
            let xr = x + r * dim, dyr = dy + r * dim, dxr = dx + r * dim
            let mu = mean[r], rs = rstd[r]
            let muV = SIMD8<Float>(repeating: mu), rsV = SIMD8<Float>(repeating: rs)

            // Pass 1: Σ g and Σ g·x̂ (two accumulators each, to break the FMA dependency chain).
            var sg0 = SIMD8<Float>(), sg1 = SIMD8<Float>(), sgx0 = SIMD8<Float>(), sgx1 = SIMD8<Float>()
            var i = 0
            while i + 16 <= dim {
                let g0 = loadVector8(weight, i) * loadVector8(dyr, i)
                let g1 = loadVector8(weight, i + 8) * loadVector8(dyr, i + 8)
                let h0 = (loadVector8(xr, i) - muV) * rsV
                let h1 = (loadVector8(xr, i + 8) - muV) * rsV
                sg0 += g0; sg1 += g1
                sgx0 = sgx0.addingProduct(g0, h0); sgx1 = sgx1.addingProduct(g1, h1)
                i += 16
            }
            while i + 8 <= dim {
                let g0 = loadVector8(weight, i) * loadVector8(dyr, i)
                let h0 = (loadVector8(xr, i) - muV) * rsV
                sg0 += g0
                sgx0 = sgx0.addingProduct(g0, h0)
                i += 8
            }
            var sumG = (sg0 + sg1).sum(), sumGX = (sgx0 + sgx1).sum()
            while i < dim {
                let g = weight[i] * dyr[i]
                sumG += g
                sumGX += g * ((xr[i] - mu) * rs)
                i += 1
            }
            let meanG = sumG * invN, meanGX = sumGX * invN

            // Pass 2: dx += rstd·(g − mean(g) − x̂·mean(g·x̂)); dγ += dy·x̂; dβ += dy.
            let mgV = SIMD8<Float>(repeating: meanG), mgxV = SIMD8<Float>(repeating: meanGX)
            i = 0
            while i + 8 <= dim {
                let d = loadVector8(dyr, i)
                let h = (loadVector8(xr, i) - muV) * rsV
                let g = loadVector8(weight, i) * d
                storeVector8(loadVector8(dxr, i) + rsV * (g - mgV - h * mgxV), dxr, i)
                if let dWeight { storeVector8(loadVector8(dWeight, i).addingProduct(d, h), dWeight, i) }
                if let dBias { storeVector8(loadVector8(dBias, i) + d, dBias, i) }
                i += 8
            }
            while i < dim {
                let d = dyr[i]
                let h = (xr[i] - mu) * rs
                dxr[i] += rs * (weight[i] * d - meanG - h * meanGX)
                dWeight?[i] += d * h
                dBias?[i] += d
                i += 1
            }
        }
    }
}
