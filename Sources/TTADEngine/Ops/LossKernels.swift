#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Row kernels behind `Losses`: one row of class logits at a time, SIMD8 with a padded tail (so
// every class sees the same arithmetic wherever it sits), no allocation, nothing written to the
// logits. Keeping them apart keeps Losses.swift about the objectives and their algebra.

extension Losses {
    /// A row's softmax in summary: d_c = z_c − max, S = Σ e^{d_c}; then
    /// log p_c = d_c − log S and H = log S − Σ e^{d_c} d_c / S.
    struct RowStats {
        var max: Float
        var logSum: Float          // log S
        var entropy: Float
    }

    /// Two passes over the row (max, then S and the weighted sum), nothing stored. A row whose
    /// maximum is not finite (+∞, or all −∞/NaN) gives NaN statistics; a NaN among finite
    /// values also ends in NaN (it poisons S).
    static func rowStats(_ z: UnsafePointer<Float>, _ n: Int) -> RowStats {
        let m = VectorOps.maximum(z, n)
        guard m.isFinite else { return RowStats(max: .nan, logSum: .nan, entropy: .nan) }
        let mv = SIMD8<Float>(repeating: m)
        let floor = SIMD8<Float>(repeating: FastMath.expLowerLimit)   // keeps 0·(−∞) out of W
        var s0 = SIMD8<Float>(), s1 = SIMD8<Float>(), w0 = SIMD8<Float>(), w1 = SIMD8<Float>()
        var i = 0
        while i + 16 <= n {
            let d0 = loadVector8(z, i) - mv, d1 = loadVector8(z, i + 8) - mv
            let e0 = vectorExp(d0), e1 = vectorExp(d1)
            s0 += e0; s1 += e1
            w0 = w0.addingProduct(e0, laneMax(d0, floor))
            w1 = w1.addingProduct(e1, laneMax(d1, floor))
            i += 16
        }
        while i < n {
            // Padding with −∞ gives e = 0, and laneMax(−∞, floor)·0 = 0.
            let d = (i + 8 <= n ? loadVector8(z, i) : loadTail8(z, i, n, pad: -.infinity)) - mv
            let e = vectorExp(d)
            s0 += e
            w0 = w0.addingProduct(e, laneMax(d, floor))
            i += 8
        }
        let sum = (s0 + s1).sum()
        let logS = log(sum)
        return RowStats(max: m, logSum: logS, entropy: logS - (w0 + w1).sum() / sum)
    }

    /// `acc += softmax(z)`, and also `store = softmax(z)` when given.
    static func accumulateSoftmax(_ z: UnsafePointer<Float>, _ n: Int, _ s: RowStats,
                                  into acc: UnsafeMutablePointer<Float>, store: UnsafeMutablePointer<Float>?) {
        let shift = SIMD8<Float>(repeating: s.max + s.logSum)
        var i = 0
        while i + 8 <= n {
            let p = vectorExp(loadVector8(z, i) - shift)
            storeVector8(loadVector8(acc, i) + p, acc, i)
            if let store { storeVector8(p, store, i) }
            i += 8
        }
        if i < n {
            let p = vectorExp(loadTail8(z, i, n, pad: 0) - shift)
            storeTail8(loadTail8(acc, i, n, pad: 0) + p, acc, i, n)
            if let store { storeTail8(p, store, i, n) }
        }
    }

    /// `out = scale · ∂H/∂z = −scale · p ⊙ (log p + H)`. Where p underflows to 0, log p is
    /// still finite (taken from the logits) and is floored besides (a −∞ logit would otherwise
    /// make 0·∞), so the entry is an exact 0.
    static func writeEntropyGradient(_ z: UnsafePointer<Float>, _ n: Int, _ s: RowStats,
                                     scale: Float, _ out: UnsafeMutablePointer<Float>) {
        let shift = SIMD8<Float>(repeating: s.max + s.logSum)
        let h = SIMD8<Float>(repeating: s.entropy), minusScale = SIMD8<Float>(repeating: -scale)
        let floor = SIMD8<Float>(repeating: FastMath.expLowerLimit)
        @inline(__always) func term(_ logP: SIMD8<Float>) -> SIMD8<Float> {
            minusScale * vectorExp(logP) * (laneMax(logP, floor) + h)
        }
        var i = 0
        while i + 8 <= n {
            storeVector8(term(loadVector8(z, i) - shift), out, i)
            i += 8
        }
        if i < n { storeTail8(term(loadTail8(z, i, n, pad: 0) - shift), out, i, n) }
    }

    /// (−Σ q_c log p_c, Σ q_c) for one row.
    static func crossEntropyRow(_ z: UnsafePointer<Float>, _ q: UnsafePointer<Float>, _ n: Int,
                                _ s: RowStats) -> (Float, Float) {
        let shift = SIMD8<Float>(repeating: s.max + s.logSum)
        var ce = SIMD8<Float>(), sq = SIMD8<Float>()
        var i = 0
        @inline(__always) func term(_ qv: SIMD8<Float>, _ zv: SIMD8<Float>) -> SIMD8<Float> {
            var t = qv * (zv - shift)
            t.replace(with: 0, where: qv .== 0)       // 0·log 0 = 0, even for a −∞ logit
            return t
        }
        while i + 8 <= n {
            let qv = loadVector8(q, i)
            ce += term(qv, loadVector8(z, i))
            sq += qv
            i += 8
        }
        if i < n {
            let qv = loadTail8(q, i, n, pad: 0)
            ce += term(qv, loadTail8(z, i, n, pad: 0))
            sq += qv
        }
        return (-ce.sum(), sq.sum())
    }

    /// `out = scale · (p · Σq − q)`.
    static func writeCrossEntropyGradient(_ z: UnsafePointer<Float>, _ q: UnsafePointer<Float>, _ n: Int,
                                          _ s: RowStats, sumQ: Float, scale: Float,
                                          _ out: UnsafeMutablePointer<Float>) {
        let shift = SIMD8<Float>(repeating: s.max + s.logSum)
        let sq = SIMD8<Float>(repeating: sumQ), sc = SIMD8<Float>(repeating: scale)
        var i = 0
        while i + 8 <= n {
            let p = vectorExp(loadVector8(z, i) - shift)
            storeVector8(sc * (p * sq - loadVector8(q, i)), out, i)
            i += 8
        }
        if i < n {
            let p = vectorExp(loadTail8(z, i, n, pad: 0) - shift)
            storeTail8(sc * (p * sq - loadTail8(q, i, n, pad: 0)), out, i, n)
        }
    }
}

/// Lanes `i..<n` of `p` (n − i < 8 of them), the rest `pad`.
@inline(__always)
func loadTail8(_ p: UnsafePointer<Float>, _ i: Int, _ n: Int, pad: Float) -> SIMD8<Float> {
    var v = SIMD8<Float>(repeating: pad)
    for j in 0..<(n - i) { v[j] = p[i + j] }
    return v
}

@inline(__always)
func loadTail8(_ p: UnsafeMutablePointer<Float>, _ i: Int, _ n: Int, pad: Float) -> SIMD8<Float> {
    loadTail8(UnsafePointer(p), i, n, pad: pad)
}

/// Stores lanes `0..<(n − i)` of `v` at `p + i`.
@inline(__always)
func storeTail8(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>, _ i: Int, _ n: Int) {
    for j in 0..<(n - i) { p[i + j] = v[j] }
}
