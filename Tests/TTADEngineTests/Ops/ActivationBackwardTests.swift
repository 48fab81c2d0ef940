import Foundation
import XCTest
@testable import TTADEngine

final class ActivationBackwardTests: XCTestCase {
    private func reference(_ act: Activation, _ x: Double) -> Double {
        switch act {
        case .gelu: return 0.5 * x * (1 + Foundation.erf(x / 2.0.squareRoot()))
        case .quickGELU: return x / (1 + Foundation.exp(-1.702 * x))
        }
    }

    private func runBackward(_ act: Activation, _ x: [Float], _ dy: [Float]) -> [Float] {
        let xb = FloatBuffer(x), dyb = FloatBuffer(dy), dxb = FloatBuffer(count: x.count)
        dxb.fill(.nan)                                      // overwritten, so stale contents don't matter
        act.backward(x: xb.pointer, dy: dyb.pointer, dx: dxb.pointer, count: x.count)
        return dxb.array
    }

    func testDerivativeMatchesFiniteDifferencesOfTheExactFunction() {
        // Dense over the region where the curvature is, including the erf approximation's
        // hardest stretch (|x| ≈ 1–3) and the saturating tails; count 403 leaves a tail of 3.
        let x: [Float] = stride(from: -8.0, through: 8.0, by: 0.04).map { Float($0) }
        let dy = OpTestSupport.values(x.count, seed: 3).map { $0 + 1.5 }   // non-trivial upstream
        for act in Activation.allCases {
            let dx = runBackward(act, x, dy)
            var numeric = [Double](repeating: 0, count: x.count)
            for i in x.indices {
                let h = 1e-5, xi = Double(x[i])
                numeric[i] = Double(dy[i]) * (reference(act, xi + h) - reference(act, xi - h)) / (2 * h)
            }
            let e = GradientCheck.relativeError(dx, numeric)
            GradientCheck.report("\(act.rawValue)′", e)
            XCTAssertLessThan(e, 1e-5, "\(act)")
            for i in x.indices {
                XCTAssertEqual(Double(dx[i]), numeric[i], accuracy: 1e-6 * max(1, abs(numeric[i])), "\(act)′(\(x[i]))")
            }
        }
    }

    func testDerivativeMatchesTheFloatForwardItself() {
        // The backward must be the derivative of what `forward` computes (not just of the ideal
        // function): a coarse central difference of the Float forward agrees to its own accuracy.
        let x: [Float] = [-3.1, -1.2, -0.4, 0, 0.3, 0.9, 1.7, 2.6, 4.2]
        for act in Activation.allCases {
            let dx = runBackward(act, x, [Float](repeating: 1, count: x.count))
            let h: Float = 1e-2
            let up = FloatBuffer(x.map { $0 + h }), down = FloatBuffer(x.map { $0 - h })
            let yUp = FloatBuffer(count: x.count), yDown = FloatBuffer(count: x.count)
            act.forward(x: up.pointer, y: yUp.pointer, count: x.count)
            act.forward(x: down.pointer, y: yDown.pointer, count: x.count)
            for i in x.indices {
                let fd = (yUp.array[i] - yDown.array[i]) / (2 * h)
                XCTAssertEqual(dx[i], fd, accuracy: 2e-4, "\(act)′(\(x[i]))")
            }
        }
    }

    func testKnownValues() {
        // gelu′(0) = Φ(0) = ½; quick_gelu′(0) = σ(0) = ½; gelu′(1) = Φ(1) + φ(1).
        let gelu1 = 0.5 * (1 + Foundation.erf(1 / 2.0.squareRoot())) + Foundation.exp(-0.5) / (2 * Double.pi).squareRoot()
        let g = runBackward(.gelu, [0, 1], [1, 1])
        XCTAssertEqual(g[0], 0.5, accuracy: 1e-7)
        XCTAssertEqual(Double(g[1]), gelu1, accuracy: 1e-6)
        let q = runBackward(.quickGELU, [0, 1], [1, 2])
        XCTAssertEqual(q[0], 0.5, accuracy: 1e-7)
        let s = 1 / (1 + Foundation.exp(-1.702))
        XCTAssertEqual(Double(q[1]), 2 * (s + 1.702 * s * (1 - s)), accuracy: 2e-6)
    }

    func testInPlaceAndTailGiveTheSameResults() {
        let x: [Float] = (0..<21).map { Float($0) * 0.41 - 4 }
        let dy = OpTestSupport.values(x.count, seed: 8)
        for act in Activation.allCases {
            let outOfPlace = runBackward(act, x, dy)
            let xb = FloatBuffer(x), buf = FloatBuffer(dy)
            act.backward(x: xb.pointer, dy: buf.pointer, dx: buf.pointer, count: x.count)
            XCTAssertEqual(buf.array, outOfPlace, "\(act) in place")
            let singles = x.indices.map { runBackward(act, [x[$0]], [dy[$0]])[0] }
            XCTAssertEqual(singles, outOfPlace, "\(act) tail vs body")
        }
    }

    func testInfinitiesTakeTheLimitAndNaNPropagates() {
        for act in Activation.allCases {
            let d = runBackward(act, [.infinity, -.infinity, 1e30, -1e30, .nan], [1, 1, 1, 1, 1])
            XCTAssertEqual(d[0], 1, "\(act)")
            XCTAssertEqual(d[1], 0, "\(act)")
            XCTAssertEqual(d[2], 1, "\(act)")
            XCTAssertEqual(d[3], 0, "\(act)")
            XCTAssertTrue(d[4].isNaN, "\(act)")
        }
    }
}
