import Foundation
import XCTest
@testable import TTADEngine

final class FastMathTests: XCTestCase {
    private func lanes(_ f: (SIMD8<Float>) -> SIMD8<Float>, _ x: [Float]) -> [Float] {
        var out: [Float] = []
        var i = 0
        while i < x.count {
            var v = SIMD8<Float>(repeating: 1)
            for j in 0..<min(8, x.count - i) { v[j] = x[i + j] }
            let r = f(v)
            for j in 0..<min(8, x.count - i) { out.append(r[j]) }
            i += 8
        }
        return out
    }

    func testExpRelativeErrorAcrossRange() {
        let xs = stride(from: Float(-87.0), through: 88.0, by: 0.0137).map { $0 }
        let ys = lanes(FastMath.exp, xs)
        var worst = 0.0
        for (x, y) in zip(xs, ys) {
            let ref = Foundation.exp(Double(x))
            worst = max(worst, abs(Double(y) - ref) / ref)
        }
        XCTAssertLessThan(worst, 3.6e-7, "≈ 3 ulp")          // Float ulp at 1 is 1.19e-7
        XCTAssertEqual(lanes(FastMath.exp, [0])[0], 1)
    }

    func testExpSpecialValues() {
        let r = lanes(FastMath.exp, [-.infinity, -1000, -87.5, 88.5, .infinity, .nan, -0.0])
        XCTAssertEqual(r[0], 0)
        XCTAssertEqual(r[1], 0)
        XCTAssertEqual(r[2], 0)
        XCTAssertEqual(r[3], .infinity)
        XCTAssertEqual(r[4], .infinity)
        XCTAssertTrue(r[5].isNaN)
        XCTAssertEqual(r[6], 1)
    }

    func testLogRelativeErrorAcrossRange() {
        var xs: [Float] = []
        var x: Float = 1e-38
        while x < 1e38 { xs.append(x); x *= 1.0173 }
        xs += [0.5, 1, 2, 0.999_999, 1.000_001, Float.leastNonzeroMagnitude, Float.leastNormalMagnitude / 1000, Float.greatestFiniteMagnitude]
        let ys = lanes(FastMath.log, xs)
        for (x, y) in zip(xs, ys) {
            let ref = Foundation.log(Double(x))
            // Absolute near log(x) ≈ 0, relative elsewhere.
            XCTAssertEqual(Double(y), ref, accuracy: max(3.6e-7 * abs(ref), 2e-7), "x=\(x)")
        }
    }

    func testLogSpecialValues() {
        let r = lanes(FastMath.log, [0, -0.0, -1, .infinity, .nan, 1])
        XCTAssertEqual(r[0], -.infinity)
        XCTAssertEqual(r[1], -.infinity)
        XCTAssertTrue(r[2].isNaN)
        XCTAssertEqual(r[3], .infinity)
        XCTAssertTrue(r[4].isNaN)
        XCTAssertEqual(r[5], 0)
    }
}
