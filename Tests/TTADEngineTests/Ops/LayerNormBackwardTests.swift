import Foundation
import XCTest
@testable import TTADEngine

final class LayerNormBackwardTests: XCTestCase {
    private let eps = 1e-5

    /// L = Σ dy ⊙ LayerNorm(x; γ, β) in Double.
    private func loss(_ x: [Double], _ w: [Double], _ b: [Double], _ dy: [Float], rows: Int, dim: Int) -> Double {
        var total = 0.0
        for r in 0..<rows {
            let row = Array(x[(r * dim)..<((r + 1) * dim)])
            let mean = row.reduce(0, +) / Double(dim)
            let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(dim)
            let rs = 1 / (variance + eps).squareRoot()
            for i in 0..<dim { total += Double(dy[r * dim + i]) * ((row[i] - mean) * rs * w[i] + b[i]) }
        }
        return total
    }

    private struct Case {
        var x: [Float], w: [Float], b: [Float], dy: [Float]
    }

    private func makeCase(rows: Int, dim: Int, seed: UInt64) -> Case {
        // A row offset like a residual stream's, and γ away from 1 so dx ≠ dβ-shaped.
        let x = OpTestSupport.values(rows * dim, seed: seed, scale: 2).enumerated().map { $0.element + Float($0.offset / dim) * 3 }
        let w = OpTestSupport.values(dim, seed: seed + 1).map { 1 + 0.5 * $0 }
        let b = OpTestSupport.values(dim, seed: seed + 2, scale: 0.3)
        let dy = OpTestSupport.values(rows * dim, seed: seed + 3)
        return Case(x: x, w: w, b: b, dy: dy)
    }

    /// Runs forward (for mean/rstd) and backward into zeroed gradients.
    private func analytic(_ c: Case, rows: Int, dim: Int) -> (dx: [Float], dw: [Float], db: [Float]) {
        let x = FloatBuffer(c.x), w = FloatBuffer(c.w), b = FloatBuffer(c.b), dy = FloatBuffer(c.dy)
        let y = FloatBuffer(count: rows * dim), mean = FloatBuffer(count: rows), rstd = FloatBuffer(count: rows)
        LayerNorm.forward(x: x.pointer, y: y.pointer, rows: rows, dim: dim, weight: w.pointer, bias: b.pointer,
                          eps: Float(eps), mean: mean.pointer, rstd: rstd.pointer)
        let dx = FloatBuffer(count: rows * dim), dw = FloatBuffer(count: dim), db = FloatBuffer(count: dim)
        LayerNorm.backward(dy: dy.pointer, x: x.pointer, mean: mean.pointer, rstd: rstd.pointer, weight: w.pointer,
                           rows: rows, dim: dim, dx: dx.pointer, dWeight: dw.pointer, dBias: db.pointer)
        return (dx.array, dw.array, db.array)
    }

    func testGradientsMatchFiniteDifferences() {
        // dim 5 is all tail, 19 = 16 + 3 exercises both vector loops and the tail, 40 = 2·16 + 8.
        var worst = 0.0
        for (rows, dim) in [(2, 5), (3, 19), (2, 40)] {
            let c = makeCase(rows: rows, dim: dim, seed: UInt64(dim))
            let (dx, dw, db) = analytic(c, rows: rows, dim: dim)
            let x = c.x.map(Double.init), w = c.w.map(Double.init), b = c.b.map(Double.init)
            let nx = GradientCheck.numericGradient(at: x) { loss($0, w, b, c.dy, rows: rows, dim: dim) }
            let nw = GradientCheck.numericGradient(at: w) { loss(x, $0, b, c.dy, rows: rows, dim: dim) }
            let nb = GradientCheck.numericGradient(at: b) { loss(x, w, $0, c.dy, rows: rows, dim: dim) }
            for (name, a, n) in [("dx", dx, nx), ("dγ", dw, nw), ("dβ", db, nb)] {
                let e = GradientCheck.relativeError(a, n)
                worst = max(worst, e)
                XCTAssertLessThan(e, 1e-4, "\(name) rows=\(rows) dim=\(dim)")
            }
        }
        GradientCheck.report("LayerNorm (dx, dγ, dβ)", worst)
    }

    func testAccumulatesIntoExistingGradientsAndAcceptsFrozenAffine() {
        let rows = 2, dim = 11
        let c = makeCase(rows: rows, dim: dim, seed: 5)
        let fresh = analytic(c, rows: rows, dim: dim)

        let x = FloatBuffer(c.x), w = FloatBuffer(c.w), b = FloatBuffer(c.b), dy = FloatBuffer(c.dy)
        let y = FloatBuffer(count: rows * dim), mean = FloatBuffer(count: rows), rstd = FloatBuffer(count: rows)
        LayerNorm.forward(x: x.pointer, y: y.pointer, rows: rows, dim: dim, weight: w.pointer, bias: b.pointer,
                          eps: Float(eps), mean: mean.pointer, rstd: rstd.pointer)
        // Residual-stream gradient already present: dx must come out as prior + LN's part.
        let prior = OpTestSupport.values(rows * dim, seed: 99)
        let dx = FloatBuffer(prior), dw = FloatBuffer(count: dim), db = FloatBuffer(count: dim)
        dw.fill(1); db.fill(-1)
        LayerNorm.backward(dy: dy.pointer, x: x.pointer, mean: mean.pointer, rstd: rstd.pointer, weight: w.pointer,
                           rows: rows, dim: dim, dx: dx.pointer, dWeight: dw.pointer, dBias: db.pointer)
        XCTAssertLessThan(OpTestSupport.maxAbsDiff(dx.array, zip(prior, fresh.dx).map { $0 + $1 }), 1e-6)
        XCTAssertLessThan(OpTestSupport.maxAbsDiff(dw.array, fresh.dw.map { $0 + 1 }), 1e-6)
        XCTAssertLessThan(OpTestSupport.maxAbsDiff(db.array, fresh.db.map { $0 - 1 }), 1e-6)

        // Frozen affine: no parameter gradients asked for, dx unchanged.
        let dxFrozen = FloatBuffer(count: rows * dim)
        LayerNorm.backward(dy: dy.pointer, x: x.pointer, mean: mean.pointer, rstd: rstd.pointer, weight: w.pointer,
                           rows: rows, dim: dim, dx: dxFrozen.pointer, dWeight: nil, dBias: nil)
        XCTAssertEqual(dxFrozen.array, fresh.dx)
    }

    func testInputGradientSumsToZeroPerRow() {
        // LayerNorm's output is invariant to x → x + c·1, so every row of dx sums to 0 whatever
        // dy and γ are: a structural check independent of the finite differences.
        let rows = 1, dim = 24
        let c = makeCase(rows: rows, dim: dim, seed: 17)
        let (dx, _, db) = analytic(c, rows: rows, dim: dim)
        XCTAssertEqual(Double(dx.reduce(0, +)), 0, accuracy: 1e-5, "Σ dx must vanish (shift invariance)")
        XCTAssertEqual(db, c.dy, "dβ is Σ_rows dy")
    }
}
