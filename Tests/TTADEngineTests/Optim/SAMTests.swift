import Foundation
import XCTest
@testable import TTADEngine

final class SAMTests: XCTestCase {
    private func norm(_ values: [[Double]]) -> Double {
        values.flatMap { $0 }.map { $0 * $0 }.reduce(0, +).squareRoot()
    }

    func testPerturbationHasNormRhoAcrossAllParametersAlongTheGradient() {
        // Two parameters (11 and 3 elements): the norm is joint, not per parameter.
        let p = [FloatBuffer(OpTestSupport.values(11, seed: 1)), FloatBuffer(OpTestSupport.values(3, seed: 2))]
        let g = [FloatBuffer(OpTestSupport.values(11, seed: 3)), FloatBuffer(OpTestSupport.values(3, seed: 4, scale: 5))]
        let before = p.map { $0.array }, grads = g.map { $0.array.map(Double.init) }
        let sam = SAM(base: SGD(parameters: p, gradients: g, learningRate: 0.1), rho: 0.05)
        let gNorm = sam.firstStep(zeroGradients: false)
        XCTAssertEqual(gNorm, norm(grads), accuracy: 1e-6 * norm(grads))
        XCTAssertTrue(sam.isPerturbed)
        let e = zip(p, before).map { pb, b in zip(pb.array, b).map { Double($0) - Double($1) } }
        XCTAssertEqual(norm(e), 0.05, accuracy: 1e-6)
        for k in 0..<2 {
            for i in e[k].indices { XCTAssertEqual(e[k][i], 0.05 * grads[k][i] / gNorm, accuracy: 2e-7) }
        }
    }

    func testAdaptivePerturbationHasNormRhoInTheRescaledSpace() {
        // ASAM: ê = ρ·w²⊙g/‖|w|⊙g‖, so ‖ê/|w|‖ = ρ.
        // 13 elements: the vector body and the tail of the norm and of the update.
        let start = OpTestSupport.values(13, seed: 9).map { $0 + ($0 >= 0 ? 0.5 : -0.5) }
        let p = FloatBuffer(start), g = FloatBuffer(OpTestSupport.values(13, seed: 10))
        let w = start.map(Double.init), grad = g.array.map(Double.init)
        let sam = SAM(base: SGD(parameters: [p], gradients: [g]), rho: 0.1, adaptive: true)
        let n = sam.firstStep(zeroGradients: false)
        XCTAssertEqual(n, norm([zip(w, grad).map { abs($0) * $1 }]), accuracy: 1e-6 * n)
        let scaled = zip(p.array, w).map { (Double($0) - $1) / abs($1) }
        XCTAssertEqual(norm([scaled]), 0.1, accuracy: 1e-5)
        for i in w.indices { XCTAssertEqual(Double(p.array[i]) - w[i], 0.1 * w[i] * w[i] * grad[i] / n, accuracy: 1e-7) }
    }

    func testSecondStepRestoresExactlyThenStepsWithTheNewGradient() {
        let start: [Float] = [0.3, -0.7, 1.1]
        let p = FloatBuffer(start), g = FloatBuffer([0.2, 0.4, -0.1])
        let sam = SAM(base: SGD(parameters: [p], gradients: [g], learningRate: 0.5), rho: 0.05)
        sam.firstStep(zeroGradients: true)
        XCTAssertEqual(g.array, [0, 0, 0], "first_step(zero_grad=True)")
        XCTAssertNotEqual(p.array, start)
        let newGrad: [Float] = [1, -1, 0.5]
        g.copy(from: FloatBuffer(newGrad))
        sam.secondStep(zeroGradients: false)
        XCTAssertFalse(sam.isPerturbed)
        // Exactly w − lr·g_new: the weights were restored bit for bit, not by subtracting ê.
        XCTAssertEqual(p.array, zip(start, newGrad).map { $0 + Float(-0.5) * $1 })
    }

    func testFullStepOnAQuadraticByHand() {
        // f(w) = ½ Σ aᵢwᵢ², ∇f = a⊙w. SAM: ŵ = w + ρ∇f/‖∇f‖; w ← w − lr·a⊙ŵ.
        let a: [Double] = [1, 4, 0.5]
        let w0: [Double] = [1, -0.5, 2]
        let p = FloatBuffer(w0.map { Float($0) }), g = FloatBuffer(count: 3)
        let sam = SAM(base: SGD(parameters: [p], gradients: [g], learningRate: 0.1), rho: 0.2)
        func gradient() { for i in 0..<3 { g.pointer[i] += Float(a[i]) * p.pointer[i] } }   // accumulates
        gradient()
        var seenAt: [Float] = []
        sam.step { seenAt = p.array; gradient() }
        let g0 = zip(a, w0).map { $0 * $1 }
        let n = norm([g0])
        let wHat = zip(w0, g0).map { $0 + 0.2 * $1 / n }
        for i in 0..<3 {
            XCTAssertEqual(Double(seenAt[i]), wHat[i], accuracy: 1e-6, "gradient evaluated at the perturbed point")
            XCTAssertEqual(Double(p.array[i]), w0[i] - 0.1 * a[i] * wHat[i], accuracy: 1e-6)
        }
    }

    func testZeroGradientGivesNoPerturbation() {
        let p = FloatBuffer([1, 2]), g = FloatBuffer(count: 2)
        let sam = SAM(base: SGD(parameters: [p], gradients: [g], learningRate: 0.1))
        XCTAssertEqual(sam.firstStep(zeroGradients: false), 0)
        XCTAssertEqual(p.array, [1, 2])
    }

    func testCancelAndThrowingRecomputeLeaveTheBaseUntouched() {
        struct Boom: Error {}
        let start: [Float] = [0.3, -0.7]
        let p = FloatBuffer(start), g = FloatBuffer([0.2, 0.4])
        let base = AdamW(parameters: [p], gradients: [g], learningRate: 0.1)
        let sam = SAM(base: base)
        XCTAssertThrowsError(try sam.step { throw Boom() })
        XCTAssertEqual(p.array, start)
        XCTAssertFalse(sam.isPerturbed)
        XCTAssertEqual(base.stepCount, 0)
        g.copy(from: FloatBuffer([0.2, 0.4]))
        sam.firstStep(zeroGradients: false)
        sam.cancel()
        XCTAssertEqual(p.array, start)
        XCTAssertEqual(base.stepCount, 0)
    }

    func testSnapshotDelegatesToTheBaseOptimizer() throws {
        let p = FloatBuffer([0.3, -0.7]), g = FloatBuffer([0.2, 0.4])
        let sam = SAM(base: SGD(parameters: [p], gradients: [g], learningRate: 0.1, momentum: 0.9))
        sam.firstStep(zeroGradients: false)
        sam.secondStep(zeroGradients: false)
        let snap = sam.snapshot()
        XCTAssertEqual(snap.kind, SGD.kind)
        XCTAssertEqual(snap.scalars["step"], 1)
        sam.reset()
        XCTAssertEqual(sam.base.stepCount, 0)
        try sam.restore(from: snap)
        XCTAssertEqual(sam.base.stepCount, 1)
    }
}
