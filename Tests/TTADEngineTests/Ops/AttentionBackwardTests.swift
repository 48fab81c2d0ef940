import Foundation
import XCTest
@testable import TTADEngine

final class AttentionBackwardTests: XCTestCase {
    /// L = Σ dOut ⊙ attention(qkv) in Double, from the fused [T, 3D] layout.
    private func loss(_ qkv: [Double], _ dOut: [Float], t: Int, heads: Int, headDim: Int, causal: Bool) -> Double {
        let d = heads * headDim
        let scale = 1 / Double(headDim).squareRoot()
        var total = 0.0
        for h in 0..<heads {
            for i in 0..<t {
                let visible = causal ? i + 1 : t
                var scores = [Double](repeating: 0, count: visible)
                for j in 0..<visible {
                    var s = 0.0
                    for e in 0..<headDim { s += qkv[i * 3 * d + h * headDim + e] * qkv[j * 3 * d + d + h * headDim + e] }
                    scores[j] = s * scale
                }
                let m = scores.max()!
                let ex = scores.map { Foundation.exp($0 - m) }
                let z = ex.reduce(0, +)
                for e in 0..<headDim {
                    var o = 0.0
                    for j in 0..<visible { o += ex[j] / z * qkv[j * 3 * d + 2 * d + h * headDim + e] }
                    total += Double(dOut[i * d + h * headDim + e]) * o
                }
            }
        }
        return total
    }

    /// Forward (for the probabilities) then backward; dqkv and scratch start as `fill`.
    private func analytic(_ qkv: [Float], _ dOut: [Float], t: Int, heads: Int, headDim: Int, causal: Bool,
                          fill: Float = 0) -> [Float] {
        let d = heads * headDim
        let q = FloatBuffer(qkv), probs = FloatBuffer(count: heads * t * t), out = FloatBuffer(count: t * d)
        Attention.forward(qkv: q.pointer, seqLen: t, heads: heads, headDim: headDim, causal: causal,
                          probs: probs.pointer, out: out.pointer)
        let dOutB = FloatBuffer(dOut), dqkv = FloatBuffer(count: t * 3 * d), scratch = FloatBuffer(count: t * t)
        dqkv.fill(fill); scratch.fill(fill)
        Attention.backward(qkv: q.pointer, probs: probs.pointer, dOut: dOutB.pointer, seqLen: t, heads: heads,
                           headDim: headDim, causal: causal, dqkv: dqkv.pointer, scratch: scratch.pointer)
        return dqkv.array
    }

    func testGradientMatchesFiniteDifferences() {
        var worst = 0.0
        // Sizes span one token, head dims under and over one SIMD vector, and rows of probs
        // longer than 8 (the vector path of the softmax backward).
        for (t, heads, headDim) in [(1, 1, 4), (4, 2, 3), (6, 1, 8), (11, 2, 4)] {
            for causal in [false, true] {
                let d = heads * headDim
                let qkv = OpTestSupport.values(t * 3 * d, seed: UInt64(t * 7 + headDim), scale: 1.5)
                let dOut = OpTestSupport.values(t * d, seed: UInt64(t * 7 + headDim + 1))
                let grad = analytic(qkv, dOut, t: t, heads: heads, headDim: headDim, causal: causal)
                let numeric = GradientCheck.numericGradient(at: qkv.map(Double.init)) {
                    loss($0, dOut, t: t, heads: heads, headDim: headDim, causal: causal)
                }
                let e = GradientCheck.relativeError(grad, numeric)
                worst = max(worst, e)
                XCTAssertLessThan(e, 1e-4, "t=\(t) heads=\(heads) headDim=\(headDim) causal=\(causal)")
            }
        }
        GradientCheck.report("Attention (dq, dk, dv)", worst)
    }

    func testOverwritesOutputAndIgnoresScratchContents() {
        let t = 5, heads = 2, headDim = 4, d = heads * headDim
        let qkv = OpTestSupport.values(t * 3 * d, seed: 12), dOut = OpTestSupport.values(t * d, seed: 13)
        for causal in [false, true] {
            let clean = analytic(qkv, dOut, t: t, heads: heads, headDim: headDim, causal: causal, fill: 0)
            let dirty = analytic(qkv, dOut, t: t, heads: heads, headDim: headDim, causal: causal, fill: .nan)
            XCTAssertEqual(clean, dirty, "causal=\(causal)")
        }
    }

    func testCausalMaskStopsGradientToLaterTokens() {
        // Only the first token's output carries gradient. Under the mask it saw only itself, so
        // every later token's q, k and v must get exactly zero; without the mask they must not.
        let t = 4, heads = 1, headDim = 3, d = heads * headDim
        let qkv = OpTestSupport.values(t * 3 * d, seed: 21)
        var dOut = [Float](repeating: 0, count: t * d)
        for e in 0..<d { dOut[e] = 1 }
        let causal = analytic(qkv, dOut, t: t, heads: heads, headDim: headDim, causal: true)
        XCTAssertTrue(causal[(3 * d)...].allSatisfy { $0 == 0 }, "later tokens must get no gradient")
        XCTAssertTrue(causal[0..<(3 * d)].contains { $0 != 0 })
        let full = analytic(qkv, dOut, t: t, heads: heads, headDim: headDim, causal: false)
        XCTAssertTrue(full[(3 * d)...].contains { $0 != 0 })
    }

    func testHandWorkedUniformAttention() {
        // Zero queries make every score 0, so P = 1/T everywhere. Then by hand:
        //   dV_j = Σ_i P_ij dO_i = mean of dO;
        //   dS_ij = P_ij (dP_ij − Σ_k P_ik dP_ik) = (1/T) dO_i·(V_j − V̄), scaled by 1/√dₕ;
        //   dQ_i = Σ_j dS_ij K_j;   dK_j = Σ_i dS_ij Q_i = 0 since Q = 0.
        let t = 3, headDim = 2, d = headDim
        var qkv = OpTestSupport.values(t * 3 * d, seed: 30)
        for i in 0..<t { for e in 0..<d { qkv[i * 3 * d + e] = 0 } }         // Q = 0
        let dOut: [Float] = [1, 2, 3, 4, 5, 6]
        let g = analytic(qkv, dOut, t: t, heads: 1, headDim: headDim, causal: false)
        let k = (0..<t).map { j in (0..<d).map { Double(qkv[j * 3 * d + d + $0]) } }
        let v = (0..<t).map { j in (0..<d).map { Double(qkv[j * 3 * d + 2 * d + $0]) } }
        let vBar = (0..<d).map { e in v.map { $0[e] }.reduce(0, +) / Double(t) }
        let scale = 1 / Double(headDim).squareRoot()
        for i in 0..<t {
            let dO = (0..<d).map { Double(dOut[i * d + $0]) }
            for e in 0..<d {
                var dq = 0.0
                for j in 0..<t {
                    let dS = scale / Double(t) * zip(dO, zip(v[j], vBar).map { $0 - $1 }).map { $0 * $1 }.reduce(0, +)
                    dq += dS * k[j][e]
                }
                XCTAssertEqual(Double(g[i * 3 * d + e]), dq, accuracy: 1e-6, "dQ[\(i)][\(e)]")
            }
        }
        for j in 0..<t {
            XCTAssertEqual(g[j * 3 * d + 2 * d], 3, accuracy: 1e-6)          // (1+3+5)/3
            XCTAssertEqual(g[j * 3 * d + 2 * d + 1], 4, accuracy: 1e-6)      // (2+4+6)/3
            XCTAssertEqual(g[j * 3 * d + d], 0)
            XCTAssertEqual(g[j * 3 * d + d + 1], 0)
        }
    }
}
