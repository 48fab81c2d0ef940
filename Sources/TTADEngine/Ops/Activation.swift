/// The MLP non-linearities CLIP checkpoints use, selected by `hidden_act` in config.json.
///
/// - `gelu`: the exact form `x · Φ(x) = x/2 · (1 + erf(x/√2))` (`torch.nn.GELU()`, HF "gelu").
/// - `quickGELU`: `x · σ(1.702 x)`, what OpenAI's checkpoints were trained with (HF "quick_gelu").
///
/// Both read `x` and write `y` (which may alias `x`); the pre-activation is what a backward
/// pass needs, so callers that train keep `x` and write `y` elsewhere.
public enum Activation: String, Sendable, CaseIterable {
    case gelu
    case quickGELU = "quick_gelu"

    public func forward(x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        switch self {
        case .gelu:
            let half = SIMD8<Float>(repeating: 0.5), invSqrt2 = SIMD8<Float>(repeating: 0.707_106_77)
            while i + 8 <= count {
                let v = loadVector8(x, i)
                storeVector8(half * v * (1 + vectorErf(v * invSqrt2)), y, i)
                i += 8
            }
        case .quickGELU:
            while i + 8 <= count {
                let v = loadVector8(x, i)
                storeVector8(v * vectorSigmoid(1.702 * v), y, i)
                i += 8
            }
        }
        // Tail through the same vector kernel on a padded copy, so every element sees
        // identical arithmetic regardless of its position.
        if i < count {
            var tail = SIMD8<Float>()
            for j in 0..<(count - i) { tail[j] = x[i + j] }
            let out: SIMD8<Float>
            switch self {
            case .gelu: out = 0.5 * tail * (1 + vectorErf(tail * 0.707_106_77))
            case .quickGELU: out = tail * vectorSigmoid(1.702 * tail)
            }
            for j in 0..<(count - i) { y[i + j] = out[j] }
        }
    }
}

/// σ(x) = 1 / (1 + e^−x), lane-wise; saturates cleanly to 0 and 1.
@_transparent
func vectorSigmoid(_ x: SIMD8<Float>) -> SIMD8<Float> {
    1 / (1 + vectorExp(-x))
}

/// erf(x) lane-wise by Abramowitz & Stegun 7.1.28: erf|x| = 1 − (1 + a₁x + … + a₆x⁶)⁻¹⁶,
/// absolute error ≤ 3e-7 over the whole line, odd symmetry restored with the sign of x.
/// GELU only needs erf inside `1 + erf`, so absolute accuracy is what matters; the engine test
/// checks it against libm. The 16th power is four squarings, so there is no exp and no branch.
@_transparent
func vectorErf(_ x: SIMD8<Float>) -> SIMD8<Float> {
    let ax = laneMax(x, -x)
    var p = SIMD8<Float>(repeating: 0.000_043_063_8)
    p = SIMD8(repeating: 0.000_276_567_2).addingProduct(p, ax)
    p = SIMD8(repeating: 0.000_152_014_3).addingProduct(p, ax)
    p = SIMD8(repeating: 0.009_270_527_2).addingProduct(p, ax)
    p = SIMD8(repeating: 0.042_282_012_3).addingProduct(p, ax)
    p = SIMD8(repeating: 0.070_523_078_4).addingProduct(p, ax)
    p = SIMD8(repeating: 1).addingProduct(p, ax)
    // p ≥ 1, so p¹⁶ overflows to +∞ for large |x| and the result is exactly ±1: as intended.
    var q = p * p; q = q * q; q = q * q; q = q * q
    let magnitude = 1 - 1 / q
    return magnitude.replacing(with: -magnitude, where: x .< 0)
}
