import Foundation
import XCTest
@testable import TTADEngine

final class AdamWTests: XCTestCase {
    func testTwoStepsByHand() {
        let p = FloatBuffer([1.0, -2.0, 0.5]), g = FloatBuffer(count: 3)
        let opt = AdamW(parameters: [p], gradients: [g], learningRate: 0.1, betas: (0.9, 0.999), eps: 1e-8, weightDecay: 0.01)

        // Step 1: m = 0.1g, v = 0.001g²; the bias corrections (0.1, 0.001) undo those factors, so
        // p ← 0.999·p − 0.1·g/(|g| + 1e-8).
        let g1: [Double] = [0.1, -0.2, 0.3]
        g.copy(from: FloatBuffer(g1.map { Float($0) }))
        opt.step()
        XCTAssertEqual(opt.stepCount, 1)
        XCTAssertEqual(p.array[0], 0.899_000_01, accuracy: 1e-7)     // 0.999 − 0.1·0.1/0.10000001
        XCTAssertEqual(p.array[1], -1.898_000_005, accuracy: 2e-7)   // −1.998 + 0.1·0.2/0.20000001
        XCTAssertEqual(p.array[2], 0.399_500_003, accuracy: 1e-7)    // 0.4995 − 0.1·0.3/0.30000001

        // Step 2 from the formulas: m = 0.9·m₁ + 0.1·g₂, v = 0.999·v₁ + 0.001·g₂²,
        // p ← 0.999·p − (0.1/(1 − 0.9²))·m / (√v/√(1 − 0.999²) + 1e-8).
        let g2: [Double] = [-0.05, 0.4, 0]
        let p1 = p.array.map(Double.init)
        g.copy(from: FloatBuffer(g2.map { Float($0) }))
        opt.step()
        for i in 0..<3 {
            let m = 0.9 * (0.1 * g1[i]) + 0.1 * g2[i]
            let v = 0.999 * (0.001 * g1[i] * g1[i]) + 0.001 * g2[i] * g2[i]
            let expected = 0.999 * p1[i] - (0.1 / (1 - 0.81)) * m / (v.squareRoot() / (1 - 0.998001).squareRoot() + 1e-8)
            XCTAssertEqual(Double(p.array[i]), expected, accuracy: 1e-6, "element \(i)")
            XCTAssertEqual(Double(opt.expAvg[0].array[i]), m, accuracy: 1e-8)
            XCTAssertEqual(Double(opt.expAvgSq[0].array[i]), v, accuracy: 1e-10)
        }
        // Element 2 saw a zero gradient at step 2 and still moved: momentum from step 1.
        XCTAssertLessThan(p.array[2], Float(p1[2]) * 0.999 - 0.05)
    }

    func testManyElementsAcrossParametersMatchDoubleFormulas() {
        // Two parameters (19 = 16 + 3 and 8 elements), three steps, a learning-rate change in
        // between (as a scheduler would make), compared element by element with the formulas.
        let sizes = [19, 8]
        let params = sizes.enumerated().map { FloatBuffer(OpTestSupport.values($0.element, seed: UInt64($0.offset))) }
        let grads = sizes.map { FloatBuffer(count: $0) }
        let opt = AdamW(parameters: params, gradients: grads, learningRate: 5e-3)   // TPT's setting
        var ref = params.map { $0.array.map(Double.init) }
        var m = sizes.map { [Double](repeating: 0, count: $0) }, v = m
        for t in 1...3 {
            if t == 3 { opt.learningRate = 1e-3 }
            let lr = opt.learningRate
            for (k, gb) in grads.enumerated() {
                gb.copy(from: FloatBuffer(OpTestSupport.values(sizes[k], seed: UInt64(10 * t + k), scale: 0.1)))
                for i in 0..<sizes[k] {
                    let gi = Double(gb.array[i])
                    ref[k][i] *= 1 - lr * 0.01
                    m[k][i] = 0.9 * m[k][i] + 0.1 * gi
                    v[k][i] = 0.999 * v[k][i] + 0.001 * gi * gi
                    let denom = v[k][i].squareRoot() / (1 - Foundation.pow(0.999, Double(t))).squareRoot() + 1e-8
                    ref[k][i] -= lr / (1 - Foundation.pow(0.9, Double(t))) * m[k][i] / denom
                }
            }
            opt.step()
            for k in sizes.indices {
                for i in 0..<sizes[k] {
                    XCTAssertEqual(Double(params[k].array[i]), ref[k][i], accuracy: 2e-6, "t=\(t) param \(k)[\(i)]")
                }
            }
        }
    }

    func testWeightDecayIsDecoupled() {
        // Zero gradient: the Adam part is 0/(0 + ε) = 0, so only p·(1 − lr·λ) remains. (Adam
        // with L2 would instead feed λp through the moments and move by ≈ lr.)
        let p = FloatBuffer([2, -4]), g = FloatBuffer(count: 2)
        let opt = AdamW(parameters: [p], gradients: [g], learningRate: 0.1, weightDecay: 0.5)
        opt.step()
        XCTAssertEqual(p.array, [2 * 0.95, -4 * 0.95])
    }

    func testVectorBodyAndTailAgreeExactly() {
        let n = 13
        let p = FloatBuffer([Float](repeating: 0.7, count: n)), g = FloatBuffer([Float](repeating: -0.3, count: n))
        let opt = AdamW(parameters: [p], gradients: [g], learningRate: 0.01)
        for _ in 0..<3 { opt.step() }
        XCTAssertTrue(p.array.allSatisfy { $0 == p.array[0] }, "\(p.array)")
    }

    func testSnapshotRestoreContinuesBitExactly() throws {
        let p = FloatBuffer(OpTestSupport.values(10, seed: 1)), g = FloatBuffer(OpTestSupport.values(10, seed: 2))
        let opt = AdamW(parameters: [p], gradients: [g], learningRate: 0.02)
        opt.step(); opt.step()
        let snap = opt.snapshot()
        XCTAssertEqual(snap.kind, "adamw")
        XCTAssertEqual(snap.scalars["step"], 2)
        XCTAssertEqual(snap.scalars["lr"], 0.02)
        XCTAssertEqual(snap.tensors.keys.sorted(), ["exp_avg.0", "exp_avg_sq.0"])
        let savedParams = p.array
        opt.step()
        let continued = p.array

        // A new optimizer (as after a daemon restart) through a JSON round trip of the snapshot.
        let decoded = try JSONDecoder().decode(OptimizerSnapshot.self, from: JSONEncoder().encode(snap))
        XCTAssertEqual(decoded, snap)
        let p2 = FloatBuffer(savedParams)
        let fresh = AdamW(parameters: [p2], gradients: [g], learningRate: 0.5)
        try fresh.restore(from: decoded)
        XCTAssertEqual(fresh.stepCount, 2)
        XCTAssertEqual(fresh.learningRate, 0.02)
        fresh.step()
        XCTAssertEqual(p2.array, continued)
    }

    func testRestoreRejectsBadSnapshotsWithoutChangingState() {
        let p = FloatBuffer([1, 2, 3]), g = FloatBuffer([0.1, 0.2, 0.3])
        let opt = AdamW(parameters: [p], gradients: [g])
        opt.step()
        let good = opt.snapshot()
        var wrongKind = good; wrongKind.kind = "sgd"
        var short = good; short.tensors["exp_avg.0"] = [1, 2]
        var missing = good; missing.tensors["exp_avg_sq.0"] = nil
        var badStep = good; badStep.scalars["step"] = 1.5
        var badLR = good; badLR.scalars["lr"] = -.infinity
        var noStep = good; noStep.scalars["step"] = nil
        let cases: [(OptimizerSnapshot, OptimizerStateError)] = [
            (wrongKind, .wrongKind(expected: "adamw", found: "sgd")),
            (short, .sizeMismatch(key: "exp_avg.0", expected: 3, found: 2)),
            (missing, .missingTensor("exp_avg_sq.0")),
            (badStep, .invalidScalar(key: "step", value: 1.5)),
            (badLR, .invalidScalar(key: "lr", value: -.infinity)),
            (noStep, .missingScalar("step")),
        ]
        for (snap, expected) in cases {
            XCTAssertThrowsError(try opt.restore(from: snap)) { XCTAssertEqual($0 as? OptimizerStateError, expected) }
            XCTAssertEqual(opt.snapshot(), good, "state must be untouched after \(expected)")
        }
    }

    func testResetStartsOverLikeAFreshOptimizer() {
        let p = FloatBuffer([0.5, -0.5]), g = FloatBuffer([0.2, 0.1])
        let opt = AdamW(parameters: [p], gradients: [g], learningRate: 0.05)
        opt.step(); opt.step()
        opt.reset()
        XCTAssertEqual(opt.stepCount, 0)
        let before = p.array
        opt.step()
        let other = FloatBuffer(before)
        AdamW(parameters: [other], gradients: [g], learningRate: 0.05).step()
        XCTAssertEqual(p.array, other.array)
    }
}
