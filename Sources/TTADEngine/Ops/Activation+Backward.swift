extension Activation {
    /// Backward of `forward`: `dx = dy · f′(x)` over `count` floats, where `x` is the
    /// **pre-activation** the forward read (not its output).
    ///
    /// - gelu (exact): f′(x) = Φ(x) + x·φ(x), with Φ(x) = ½(1 + erf(x/√2)) and
    ///   φ(x) = e^{−x²/2}/√(2π). Uses the same `vectorErf` as the forward, so the derivative is
    ///   that of the function the forward actually computes to within erf's 3e-7.
    /// - quick_gelu: f(x) = x·σ(1.702x), so f′(x) = s + 1.702·x·s·(1 − s) with s = σ(1.702x).
    ///
    /// `dx` is **overwritten**, not accumulated: the pre-activation of an MLP feeds nothing but
    /// the activation, so there is never a second contribution to add. `dx` may alias `dy`
    /// (in-place backward through the hidden buffer, the common case), but not `x`.
    ///
    /// At ±∞ the derivative is its limit (1 or 0); NaN propagates.
    public func backward(x: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                         dx: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        switch self {
        case .gelu:
            while i + 8 <= count {
                storeVector8(loadVector8(dy, i) * Self.geluDerivative(loadVector8(x, i)), dx, i)
                i += 8
            }
        case .quickGELU:
            while i + 8 <= count {
                storeVector8(loadVector8(dy, i) * Self.quickGELUDerivative(loadVector8(x, i)), dx, i)
                i += 8
            }
        }
        // Tail through the same vector kernel on a padded copy, as the forward does. Read both
        // inputs before writing: dx may alias dy.
        if i < count {
            var xt = SIMD8<Float>(), dyt = SIMD8<Float>()
            for j in 0..<(count - i) { xt[j] = x[i + j]; dyt[j] = dy[i + j] }
            let d: SIMD8<Float>
            switch self {
            case .gelu: d = Self.geluDerivative(xt)
            case .quickGELU: d = Self.quickGELUDerivative(xt)
            }
            let out = dyt * d
            for j in 0..<(count - i) { dx[i + j] = out[j] }
        }
    }

    @_transparent
    static func geluDerivative(_ v: SIMD8<Float>) -> SIMD8<Float> {
        let cdf = 0.5 * (1 + vectorErf(v * 0.707_106_77))
        // x·φ(x): the exp underflows to exactly 0 for |x| ≳ 13, so only x = ±∞ (∞·0 = NaN) needs
        // care; masking every lane with x² = ∞ also catches huge finite x, where the term is 0 anyway.
        var xPdf = v * (0.398_942_28 * vectorExp(-0.5 * v * v))     // 1/√(2π)
        xPdf.replace(with: 0, where: (v * v) .== SIMD8<Float>(repeating: .infinity))
        return cdf + xPdf
    }

    @_transparent
    static func quickGELUDerivative(_ v: SIMD8<Float>) -> SIMD8<Float> {
        // s = σ(a) = 1/(1 + e) with e = e^{−a}, a = 1.702x, and s(1 − s) = e·s². Written this way
        // (one exp, one division) rather than through `vectorSigmoid` twice: that form made LLVM
        // scalarise the loop lane by lane (4× slower than the forward).
        let a = 1.702 * v
        let e = vectorExp(-a)
        let s = 1 / (1 + e)
        var slope = a * (e * s * s)
        // slope is NaN only from ∞·0: x = ±∞, or x ≲ −52 where e overflows to ∞ and s = 0. The
        // true value is 0 in all of those; a NaN x still gives NaN through s.
        slope.replace(with: 0, where: slope .!= slope)
        return s + slope
    }
}
