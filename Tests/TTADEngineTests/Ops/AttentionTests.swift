import Foundation
import XCTest
@testable import TTADEngine

final class AttentionTests: XCTestCase {
    /// Naive per-head attention in Double from the fused [T, 3D] layout.
    private func reference(_ qkv: [Float], t: Int, heads: Int, headDim: Int, causal: Bool) -> [Float] {
        let d = heads * headDim
        var out = [Float](repeating: 0, count: t * d)
        let scale = 1 / Double(headDim).squareRoot()
        for h in 0..<heads {
            for i in 0..<t {
                var scores = [Double](repeating: -.infinity, count: t)
                for j in 0..<t where !causal || j <= i {
                    var s = 0.0
                    for e in 0..<headDim {
                        s += Double(qkv[i * 3 * d + h * headDim + e]) * Double(qkv[j * 3 * d + d + h * headDim + e])
                    }
                    scores[j] = s * scale
                }
                let m = scores.max()!
                let ex = scores.map { Foundation.exp($0 - m) }
                let z = ex.reduce(0, +)
                for e in 0..<headDim {
                    var acc = 0.0
                    for j in 0..<t { acc += ex[j] / z * Double(qkv[j * 3 * d + 2 * d + h * headDim + e]) }
                    out[i * d + h * headDim + e] = Float(acc)
                }
            }
        }
        return out
    }

    func testMatchesNaiveAttentionWithAndWithoutCausalMask() {
        for (t, heads, headDim) in [(1, 1, 4), (5, 2, 8), (17, 3, 16)] {
            for causal in [false, true] {
                let d = heads * headDim
                let qkv = OpTestSupport.values(t * 3 * d, seed: UInt64(t * 31 + heads), scale: 2)
                let q = FloatBuffer(qkv), probs = FloatBuffer(count: heads * t * t), out = FloatBuffer(count: t * d)
                Attention.forward(qkv: q.pointer, seqLen: t, heads: heads, headDim: headDim, causal: causal,
                                  probs: probs.pointer, out: out.pointer)
                let expected = reference(qkv, t: t, heads: heads, headDim: headDim, causal: causal)
                XCTAssertLessThan(OpTestSupport.maxAbsDiff(out.array, expected), 1e-5, "t=\(t) heads=\(heads) causal=\(causal)")
                // Probabilities: rows sum to one, masked entries exactly zero.
                for h in 0..<heads {
                    for i in 0..<t {
                        let row = Array(probs.array[(h * t * t + i * t)..<(h * t * t + (i + 1) * t)])
                        XCTAssertEqual(row.reduce(0, +), 1, accuracy: 1e-5)
                        if causal { XCTAssertTrue(row[(i + 1)...].allSatisfy { $0 == 0 }) }
                    }
                }
            }
        }
    }

    func testCausalPrefixIsIndependentOfLaterTokens() {
        // The property the text tower's end-of-text truncation relies on.
        let t = 9, heads = 2, headDim = 4, d = heads * headDim, keep = 5
        var qkv = OpTestSupport.values(t * 3 * d, seed: 77)
        let run = { (input: [Float], length: Int) -> [Float] in
            let q = FloatBuffer(input), p = FloatBuffer(count: heads * length * length), o = FloatBuffer(count: length * d)
            Attention.forward(qkv: q.pointer, seqLen: length, heads: heads, headDim: headDim, causal: true, probs: p.pointer, out: o.pointer)
            return o.array
        }
        let full = run(qkv, t)
        for i in (keep * 3 * d)..<qkv.count { qkv[i] = 1000 }   // garbage after the prefix
        let prefix = run(Array(qkv[0..<(keep * 3 * d)]), keep)
        XCTAssertLessThan(OpTestSupport.maxAbsDiff(Array(full[0..<(keep * d)]), prefix), 1e-6)
    }
}
