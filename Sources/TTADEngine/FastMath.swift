/// Vectorised elementary functions on `SIMD8<Float>` (one AVX2 register).
///
/// Swift's `exp`/`log` are scalar libm calls (~20 ns each on Linux), which would make a
/// 1000-class softmax cost ~10 µs. These polynomial versions run eight lanes in ~30 vector
/// instructions and are accurate to a few ulp over the ranges documented below — plenty for
/// probabilities, entropies and (later) GELU/attention.
///
/// Both use only lane-wise arithmetic and bit casts, so LLVM keeps everything in registers; no
/// tables, no gathers.
public enum FastMath {
    // Rounding trick: adding 1.5·2²³ to a float of magnitude < 2²² rounds it to an integer, which
    // then sits in the low mantissa bits of the sum (and the sum minus the constant is that
    // integer as a float). Avoids float→int conversions, which Swift's generic SIMD
    // initialisers don't always lower to single instructions.
    static let roundingMagic: Float = 12_582_912          // 1.5 · 2^23
    static let roundingMagicBits: Int32 = 0x4B40_0000     // its bit pattern

    // ln 2 split so that n · ln2Hi is exact for |n| ≤ 2^15 (ln2Hi has 9 significant bits):
    // r = x − n·ln2Hi − n·ln2Lo keeps full precision in the reduced argument (Cody–Waite).
    static let ln2Hi: Float = 0.693_359_375
    static let ln2Lo: Float = -2.121_944_4e-4

    /// Inputs below this give 0 (true result is below the smallest normal float).
    public static let expLowerLimit: Float = -87.336_54
    /// Inputs above this give +∞. (True overflow is at 88.72; the last 0.72 is sacrificed so
    /// that the scale factor 2ⁿ always has a valid exponent.)
    public static let expUpperLimit: Float = 88.0

    /// eˣ lane-wise. Relative error ≲ 2 ulp for x in [`expLowerLimit`, `expUpperLimit`];
    /// 0 below, +∞ above, NaN stays NaN.
    public static func exp(_ x: SIMD8<Float>) -> SIMD8<Float> { vectorExp(x) }

    /// Natural logarithm lane-wise. Relative error ≲ 2 ulp for positive finite inputs
    /// (subnormals included); log(0) = −∞, log(+∞) = +∞, negative or NaN → NaN.
    public static func log(_ x: SIMD8<Float>) -> SIMD8<Float> { vectorLog(x) }
}

// The kernels are free functions marked @_transparent because that is the only annotation the
// optimiser reliably honoured here: with @inline(__always) the exp stayed an out-of-line call
// inside softmax's loop (roughly +50% on a 1000-class softmax, from the call itself and from
// passing SIMD8 values across it in split registers). Engine code calls these directly.

/// See `FastMath.exp`.
@_transparent
func vectorExp(_ x: SIMD8<Float>) -> SIMD8<Float> {
    let lo = SIMD8<Float>(repeating: FastMath.expLowerLimit)
    let hi = SIMD8<Float>(repeating: FastMath.expUpperLimit)
    // Not .clamped (see SIMDSupport.swift). NaN survives both laneMax/laneMin and then every
    // arithmetic step, so NaN in gives NaN out without a fix-up.
    let xc = laneMin(laneMax(x, lo), hi)

    // n = round(x / ln 2); r = x − n ln 2 ∈ [−ln2/2, ln2/2].
    let magic = SIMD8<Float>(repeating: FastMath.roundingMagic)
    let t = magic.addingProduct(xc, SIMD8(repeating: 1.442_695_04))
    let n = t - magic
    var r = xc.addingProduct(n, SIMD8(repeating: -FastMath.ln2Hi))
    r = r.addingProduct(n, SIMD8(repeating: -FastMath.ln2Lo))

    // e^r by its Taylor series to degree 7: truncation error (ln2/2)⁸/8! ≈ 5e-9, below half an
    // ulp of the result. Evaluated with Estrin's scheme (pairs, then r², then r⁴) rather than
    // Horner: a few more instructions but a dependency chain of 4 FMAs instead of 8, which is
    // what bounds throughput when softmax streams 1000 lanes through here.
    let r2 = r * r, r4 = r2 * r2
    let p01 = SIMD8<Float>(repeating: 1).addingProduct(r, SIMD8(repeating: 1))
    let p23 = SIMD8<Float>(repeating: 0.5).addingProduct(r, SIMD8(repeating: 1.0 / 6))
    let p45 = SIMD8<Float>(repeating: 1.0 / 24).addingProduct(r, SIMD8(repeating: 1.0 / 120))
    let p67 = SIMD8<Float>(repeating: 1.0 / 720).addingProduct(r, SIMD8(repeating: 1.0 / 5040))
    let p03 = p01.addingProduct(p23, r2)
    let p47 = p45.addingProduct(p67, r2)
    let p = p03.addingProduct(p47, r4)

    // 2ⁿ built directly in the exponent field; n ∈ [−126, 127] after clamping.
    let nBits = unsafeBitCast(t, to: SIMD8<Int32>.self) &- FastMath.roundingMagicBits
    let scale = unsafeBitCast((nBits &+ 127) &<< 23, to: SIMD8<Float>.self)
    var result = p * scale
    result.replace(with: 0, where: x .< lo)
    result.replace(with: .infinity, where: x .> hi)
    return result
}

/// See `FastMath.log`.
@_transparent
func vectorLog(_ x: SIMD8<Float>) -> SIMD8<Float> {
    // Subnormals have no implicit leading bit; scale them into the normal range first.
    let isSubnormal = x .< Float.leastNormalMagnitude
    let xs = x.replacing(with: x * 8_388_608, where: isSubnormal)          // · 2^23
    let bits = unsafeBitCast(xs, to: SIMD8<Int32>.self)

    // x = m · 2^e with m ∈ [1, 2), then fold m into [√½, √2) so that log m is small.
    var eBits = ((bits &>> 23) & 0xFF) &- 127
    eBits.replace(with: eBits &- 23, where: isSubnormal)
    var m = unsafeBitCast((bits & 0x007F_FFFF) | 0x3F80_0000, to: SIMD8<Float>.self)
    let fold = m .> SIMD8(repeating: 1.414_213_56)
    m.replace(with: m * 0.5, where: fold)
    eBits.replace(with: eBits &+ 1, where: fold)
    // Integer → float without a conversion instruction (same trick as in exp).
    let magic = SIMD8<Float>(repeating: FastMath.roundingMagic)
    let e = unsafeBitCast(eBits &+ FastMath.roundingMagicBits, to: SIMD8<Float>.self) - magic

    // log m = 2·atanh(s) with s = (m−1)/(m+1), |s| ≤ 0.1716; series to s⁹ leaves < 1e-9.
    let f = m - 1
    let s = f / (f + 2)
    let s2 = s * s
    var q = SIMD8<Float>(repeating: 1.0 / 9)
    q = SIMD8(repeating: 1.0 / 7).addingProduct(q, s2)
    q = SIMD8(repeating: 1.0 / 5).addingProduct(q, s2)
    q = SIMD8(repeating: 1.0 / 3).addingProduct(q, s2)
    q = SIMD8(repeating: 1).addingProduct(q, s2)
    let logM = (2 * s) * q

    var result = (logM.addingProduct(e, SIMD8(repeating: FastMath.ln2Lo))).addingProduct(e, SIMD8(repeating: FastMath.ln2Hi))
    result.replace(with: -.infinity, where: x .== 0)
    result.replace(with: .infinity, where: x .== .infinity)
    result.replace(with: .nan, where: x .< 0)
    result.replace(with: x, where: x .!= x)
    return result
}
