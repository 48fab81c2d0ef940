import XCTest
@testable import TTADEngine

final class LayerNormTests: XCTestCase {
    func testMatchesDoublePrecisionReferenceAndRecordsStatistics() {
        for dim in [1, 7, 8, 33, 768] {
            let rows = 3
            // A large per-row offset checks the two-pass variance (the one-pass form loses it).
            let x = OpTestSupport.values(rows * dim, seed: UInt64(dim)).enumerated().map { $0.element + Float($0.offset / dim) * 100 }
            let w = OpTestSupport.values(dim, seed: 11).map { 1 + $0 / 2 }
            let b = OpTestSupport.values(dim, seed: 12)
            let expected = OpTestSupport.layerNorm(x, rows: rows, dim: dim, weight: w, bias: b, eps: 1e-5)
            let xb = FloatBuffer(x), yb = FloatBuffer(count: x.count), wb = FloatBuffer(w), bb = FloatBuffer(b)
            let mean = FloatBuffer(count: rows), rstd = FloatBuffer(count: rows)
            LayerNorm.forward(x: xb.pointer, y: yb.pointer, rows: rows, dim: dim, weight: wb.pointer, bias: bb.pointer,
                              eps: 1e-5, mean: mean.pointer, rstd: rstd.pointer)
            XCTAssertLessThan(OpTestSupport.maxAbsDiff(yb.array, expected), 2e-5, "dim \(dim)")
            for r in 0..<rows {
                let row = x[(r * dim)..<((r + 1) * dim)]
                let mu = row.reduce(0, +) / Float(dim)
                XCTAssertEqual(mean.pointer[r], mu, accuracy: 1e-3 * max(1, abs(mu)))
            }
            XCTAssertTrue(rstd.array.allSatisfy { $0 > 0 && $0.isFinite })
        }
    }

    func testInPlaceGivesTheSameResult() {
        let dim = 40, rows = 2
        let x = OpTestSupport.values(rows * dim, seed: 3)
        let w = OpTestSupport.values(dim, seed: 4), b = OpTestSupport.values(dim, seed: 5)
        let a = FloatBuffer(x), out = FloatBuffer(count: x.count), wb = FloatBuffer(w), bb = FloatBuffer(b)
        LayerNorm.forward(x: a.pointer, y: out.pointer, rows: rows, dim: dim, weight: wb.pointer, bias: bb.pointer, eps: 1e-5)
        LayerNorm.forward(x: a.pointer, y: a.pointer, rows: rows, dim: dim, weight: wb.pointer, bias: bb.pointer, eps: 1e-5)
        XCTAssertEqual(a.array, out.array)
    }

    func testConstantRowGivesBias() {
        let dim = 16
        let x = FloatBuffer([Float](repeating: 3, count: dim)), y = FloatBuffer(count: dim)
        let w = FloatBuffer([Float](repeating: 2, count: dim)), b = FloatBuffer(OpTestSupport.values(dim, seed: 9))
        LayerNorm.forward(x: x.pointer, y: y.pointer, rows: 1, dim: dim, weight: w.pointer, bias: b.pointer, eps: 1e-5)
        XCTAssertEqual(y.array, b.array)
    }
}
