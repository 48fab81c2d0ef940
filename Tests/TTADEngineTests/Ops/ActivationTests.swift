import Foundation
import XCTest
@testable import TTADEngine

final class ActivationTests: XCTestCase {
    /// Points across the range that matters, including the erf approximation's hard region
    /// around |x| ≈ 1–3 and values large enough to saturate.
    private let points: [Float] = stride(from: -12.0, through: 12.0, by: 0.0137).map { Float($0) } + [0, -0, 1e-7, -1e-7]

    func testGELUMatchesExactErfForm() {
        let y = run(.gelu, points)
        for (x, v) in zip(points, y) {
            let ref = 0.5 * Double(x) * (1 + Foundation.erf(Double(x) / 2.0.squareRoot()))
            XCTAssertEqual(Double(v), ref, accuracy: 4e-7 * max(1, abs(Double(x))), "gelu(\(x))")
        }
    }

    func testQuickGELUMatchesSigmoidForm() {
        let y = run(.quickGELU, points)
        for (x, v) in zip(points, y) {
            let ref = Double(x) / (1 + Foundation.exp(-1.702 * Double(x)))
            XCTAssertEqual(Double(v), ref, accuracy: 1e-6 * max(1, abs(Double(x))), "quick_gelu(\(x))")
        }
    }

    func testTailElementsGetTheSameArithmeticAsVectorBody() {
        for act in Activation.allCases {
            let x: [Float] = (0..<13).map { Float($0) * 0.37 - 2 }
            let whole = run(act, x)
            let singles = x.map { run(act, [$0])[0] }
            XCTAssertEqual(whole, singles, "\(act)")
        }
    }

    func testNaNPropagatesAndInfinitiesSaturate() {
        for act in Activation.allCases {
            let y = run(act, [.nan, .infinity, 100, -100])
            XCTAssertTrue(y[0].isNaN, "\(act)")
            XCTAssertEqual(y[1], .infinity, "\(act)")
            XCTAssertEqual(y[2], 100, accuracy: 1e-4)
            XCTAssertEqual(y[3], 0, accuracy: 1e-4)
        }
    }

    func testConfigNamesMapToActivations() {
        XCTAssertEqual(Activation(rawValue: "gelu"), .gelu)
        XCTAssertEqual(Activation(rawValue: "quick_gelu"), .quickGELU)
        XCTAssertNil(Activation(rawValue: "relu"))
    }

    private func run(_ act: Activation, _ x: [Float]) -> [Float] {
        let xb = FloatBuffer(x), yb = FloatBuffer(count: x.count)
        act.forward(x: xb.pointer, y: yb.pointer, count: x.count)
        return yb.array
    }
}
