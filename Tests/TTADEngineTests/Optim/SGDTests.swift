import Foundation
import XCTest
@testable import TTADEngine

final class SGDTests: XCTestCase {
    /// Steps a single scalar parameter through constant or given gradients; returns p after each.
    private func trajectory(_ opt: SGD, _ p: FloatBuffer, _ g: FloatBuffer, grads: [Float]) -> [Float] {
        grads.map { gv in
            g.fill(gv)
            opt.step()
            return p.array[0]
        }
    }

    func testPlainSGD() {
        let p = FloatBuffer([1, -1]), g = FloatBuffer([0.5, 0.25])
        let opt = SGD(parameters: [p], gradients: [g], learningRate: 0.1)
        opt.step()
        XCTAssertEqual(p.array, [0.95, -1.025])
        XCTAssertEqual(g.array, [0.5, 0.25], "gradients are only read")
        XCTAssertTrue(opt.momentumBuffers.isEmpty)
        XCTAssertTrue(opt.snapshot().tensors.isEmpty)
    }

    func testMomentumSequenceByHand() {
        // μ = 0.9, lr = 0.1, g = 1 each step: b = 1, 1.9, 2.71 (first step b = g, undamped),
        // so p = −0.1, −0.29, −0.561.
        let p = FloatBuffer([0]), g = FloatBuffer(count: 1)
        let opt = SGD(parameters: [p], gradients: [g], learningRate: 0.1, momentum: 0.9)
        let ps = trajectory(opt, p, g, grads: [1, 1, 1])
        XCTAssertEqual(ps[0], -0.1, accuracy: 1e-7)
        XCTAssertEqual(ps[1], -0.29, accuracy: 1e-7)
        XCTAssertEqual(ps[2], -0.561, accuracy: 1e-6)
        XCTAssertEqual(opt.momentumBuffers[0].array[0], 2.71, accuracy: 1e-6)
    }

    func testDampeningSkipsTheFirstStep() {
        // τ = 0.5: b₁ = g₁ = 2 (no dampening on the first step), b₂ = 0.9·2 + 0.5·4 = 3.8.
        let p = FloatBuffer([0]), g = FloatBuffer(count: 1)
        let opt = SGD(parameters: [p], gradients: [g], learningRate: 1, momentum: 0.9, dampening: 0.5)
        let ps = trajectory(opt, p, g, grads: [2, 4])
        XCTAssertEqual(ps[0], -2, accuracy: 1e-6)
        XCTAssertEqual(ps[1], -5.8, accuracy: 1e-6)
    }

    func testNesterov() {
        // d = g + μ·b: step 1 b = 1, d = 1.9; step 2 b = 1.9, d = 1 + 1.71 = 2.71.
        let p = FloatBuffer([0]), g = FloatBuffer(count: 1)
        let opt = SGD(parameters: [p], gradients: [g], learningRate: 0.1, momentum: 0.9, nesterov: true)
        let ps = trajectory(opt, p, g, grads: [1, 1])
        XCTAssertEqual(ps[0], -0.19, accuracy: 1e-7)
        XCTAssertEqual(ps[1], -0.19 - 0.271, accuracy: 1e-6)
    }

    func testCoupledWeightDecayEntersTheMomentum() {
        // λ = 0.1, p₀ = 2, g = 0: d₁ = 0.2, b₁ = 0.2, p₁ = 2 − 0.1·0.2 = 1.98;
        // d₂ = 0.198, b₂ = 0.9·0.2 + 0.198 = 0.378, p₂ = 1.98 − 0.0378 = 1.9422.
        let p = FloatBuffer([2]), g = FloatBuffer(count: 1)
        let opt = SGD(parameters: [p], gradients: [g], learningRate: 0.1, momentum: 0.9, weightDecay: 0.1)
        let ps = trajectory(opt, p, g, grads: [0, 0])
        XCTAssertEqual(ps[0], 1.98, accuracy: 1e-6)
        XCTAssertEqual(ps[1], 1.9422, accuracy: 1e-6)
    }

    func testVectorBodyAndTailAgreeAndMatchScalarRecurrence() {
        let n = 19
        let p = FloatBuffer([Float](repeating: 0.25, count: n)), g = FloatBuffer(count: n)
        let opt = SGD(parameters: [p], gradients: [g], learningRate: 0.05, momentum: 0.9, dampening: 0.1, weightDecay: 0.01)
        var ref = 0.25, buf = 0.0
        for (t, gv) in [0.3, -0.1, 0.7].enumerated() {
            g.fill(Float(gv))
            opt.step()
            let d = gv + 0.01 * ref
            buf = t == 0 ? d : 0.9 * buf + 0.9 * d
            ref -= 0.05 * buf
        }
        XCTAssertTrue(p.array.allSatisfy { $0 == p.array[0] })
        XCTAssertEqual(Double(p.array[0]), ref, accuracy: 1e-6)
    }

    func testSnapshotBeforeAndAfterFirstStep() throws {
        let p = FloatBuffer([1, 2]), g = FloatBuffer([0.5, -0.5])
        let opt = SGD(parameters: [p], gradients: [g], learningRate: 0.1, momentum: 0.9)
        let empty = opt.snapshot()
        XCTAssertTrue(empty.tensors.isEmpty, "no momentum buffer before the first step, as in PyTorch")
        opt.step(); opt.step()
        let snap = opt.snapshot()
        XCTAssertEqual(snap.tensors.keys.sorted(), ["momentum_buffer.0"])
        let saved = p.array
        opt.step()
        let continued = p.array

        let p2 = FloatBuffer(saved)
        let other = SGD(parameters: [p2], gradients: [g], learningRate: 0.1, momentum: 0.9)
        try other.restore(from: snap)
        XCTAssertTrue(other.hasMomentumBuffers)
        other.step()
        XCTAssertEqual(p2.array, continued)

        // Restoring the pre-step snapshot makes the next step a first step again (b = g).
        try other.restore(from: empty)
        XCTAssertFalse(other.hasMomentumBuffers)
        let before = p2.array
        other.step()
        XCTAssertEqual(p2.array[0], before[0] - 0.1 * 0.5, accuracy: 1e-7)
    }

    func testPartialMomentumStateIsRejected() {
        let a = FloatBuffer([1]), b = FloatBuffer([2]), ga = FloatBuffer([1]), gb = FloatBuffer([1])
        let opt = SGD(parameters: [a, b], gradients: [ga, gb], learningRate: 0.1, momentum: 0.9)
        opt.step()
        var snap = opt.snapshot()
        snap.tensors["momentum_buffer.1"] = nil
        XCTAssertThrowsError(try opt.restore(from: snap)) {
            XCTAssertEqual($0 as? OptimizerStateError, .partialState("momentum_buffer"))
        }
        XCTAssertThrowsError(try opt.restore(from: AdamW(parameters: [a, b], gradients: [ga, gb]).snapshot()))
    }
}
