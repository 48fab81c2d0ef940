import Foundation
import XCTest
@testable import TTADEngine

final class LinearBackwardTests: XCTestCase {
    /// L = Σ dy ⊙ (x·Wᵀ + b) in Double, W stored [out, in].
    private func loss(_ x: [Double], _ w: [Double], _ b: [Double], _ dy: [Float], rows: Int, inDim: Int, outDim: Int) -> Double {
        var total = 0.0
        for r in 0..<rows {
            for o in 0..<outDim {
                var acc = b[o]
                for i in 0..<inDim { acc += x[r * inDim + i] * w[o * inDim + i] }
                total += Double(dy[r * outDim + o]) * acc
            }
        }
        return total
    }

    func testGradientsMatchFiniteDifferences() {
        var worst = 0.0
        for (rows, inDim, outDim) in [(1, 3, 2), (3, 5, 4), (4, 9, 11)] {
            let seed = UInt64(rows * 100 + inDim)
            let x = OpTestSupport.values(rows * inDim, seed: seed)
            let w = OpTestSupport.values(outDim * inDim, seed: seed + 1)
            let b = OpTestSupport.values(outDim, seed: seed + 2)
            let dy = OpTestSupport.values(rows * outDim, seed: seed + 3)
            let xb = FloatBuffer(x), wb = FloatBuffer(w), dyb = FloatBuffer(dy)
            let dx = FloatBuffer(count: rows * inDim), dw = FloatBuffer(count: outDim * inDim), db = FloatBuffer(count: outDim)
            Linear.backwardInput(dy: dyb.pointer, rows: rows, outDim: outDim, weight: wb.pointer, inDim: inDim,
                                 dx: dx.pointer, accumulate: false)
            Linear.backwardWeight(dy: dyb.pointer, rows: rows, outDim: outDim, x: xb.pointer, inDim: inDim,
                                  dWeight: dw.pointer, dBias: db.pointer)
            let xd = x.map(Double.init), wd = w.map(Double.init), bd = b.map(Double.init)
            let nx = GradientCheck.numericGradient(at: xd) { loss($0, wd, bd, dy, rows: rows, inDim: inDim, outDim: outDim) }
            let nw = GradientCheck.numericGradient(at: wd) { loss(xd, $0, bd, dy, rows: rows, inDim: inDim, outDim: outDim) }
            let nb = GradientCheck.numericGradient(at: bd) { loss(xd, wd, $0, dy, rows: rows, inDim: inDim, outDim: outDim) }
            for (name, a, n) in [("dx", dx.array, nx), ("dW", dw.array, nw), ("db", db.array, nb)] {
                let e = GradientCheck.relativeError(a, n)
                worst = max(worst, e)
                XCTAssertLessThan(e, 1e-5, "\(name) \(rows)×\(inDim)→\(outDim)")
            }
        }
        GradientCheck.report("Linear (dx, dW, db)", worst)
    }

    func testHandWorkedExample() {
        // W = [[1, 2], [3, 4], [5, 6]] (out 3, in 2), one row x = [1, -1], dy = [1, 0, -1]:
        // dx = dy·W = [1−5, 2−6] = [−4, −4]; dW = dyᵀ·x = [[1, −1], [0, 0], [−1, 1]]; db = dy.
        let w = FloatBuffer([1, 2, 3, 4, 5, 6]), x = FloatBuffer([1, -1]), dy = FloatBuffer([1, 0, -1])
        let dx = FloatBuffer(count: 2), dw = FloatBuffer(count: 6), db = FloatBuffer(count: 3)
        Linear.backwardInput(dy: dy.pointer, rows: 1, outDim: 3, weight: w.pointer, inDim: 2, dx: dx.pointer, accumulate: false)
        Linear.backwardWeight(dy: dy.pointer, rows: 1, outDim: 3, x: x.pointer, inDim: 2, dWeight: dw.pointer, dBias: db.pointer)
        XCTAssertEqual(dx.array, [-4, -4])
        XCTAssertEqual(dw.array, [1, -1, 0, 0, -1, 1])
        XCTAssertEqual(db.array, [1, 0, -1])
    }

    func testAccumulateFlagAndParameterGradientsAccumulate() {
        let w = FloatBuffer([1, 2, 3, 4, 5, 6]), x = FloatBuffer([1, -1]), dy = FloatBuffer([1, 0, -1])
        let dx = FloatBuffer([10, 20])
        Linear.backwardInput(dy: dy.pointer, rows: 1, outDim: 3, weight: w.pointer, inDim: 2, dx: dx.pointer, accumulate: true)
        XCTAssertEqual(dx.array, [6, 16])
        dx.fill(.nan)                                       // β = 0: stale NaN must not leak through
        Linear.backwardInput(dy: dy.pointer, rows: 1, outDim: 3, weight: w.pointer, inDim: 2, dx: dx.pointer, accumulate: false)
        XCTAssertEqual(dx.array, [-4, -4])

        let dw = FloatBuffer(count: 6), db = FloatBuffer(count: 3)
        for _ in 0..<2 {
            Linear.backwardWeight(dy: dy.pointer, rows: 1, outDim: 3, x: x.pointer, inDim: 2, dWeight: dw.pointer, dBias: db.pointer)
        }
        XCTAssertEqual(dw.array, [2, -2, 0, 0, -2, 2])
        XCTAssertEqual(db.array, [2, 0, -2])
    }

    func testStridedGradientsMatchDense() {
        // dy read from a wider buffer (e.g. one third of a fused projection), dx written into one.
        let rows = 3, inDim = 4, outDim = 5, ldDy = 9, ldDx = 7
        let dense = OpTestSupport.values(rows * outDim, seed: 41)
        var wide = [Float](repeating: 99, count: rows * ldDy)
        for r in 0..<rows { for o in 0..<outDim { wide[r * ldDy + o] = dense[r * outDim + o] } }
        let x = OpTestSupport.values(rows * ldDx, seed: 42), w = FloatBuffer(OpTestSupport.values(outDim * inDim, seed: 43))
        let dyDense = FloatBuffer(dense), dyWide = FloatBuffer(wide)

        let dxDense = FloatBuffer(count: rows * inDim), dxWide = FloatBuffer([Float](repeating: 7, count: rows * ldDx))
        Linear.backwardInput(dy: dyDense.pointer, rows: rows, outDim: outDim, weight: w.pointer, inDim: inDim,
                             dx: dxDense.pointer, accumulate: false)
        Linear.backwardInput(dy: dyWide.pointer, rows: rows, outDim: outDim, ldDy: ldDy, weight: w.pointer, inDim: inDim,
                             dx: dxWide.pointer, ldDx: ldDx, accumulate: false)
        for r in 0..<rows {
            XCTAssertEqual(Array(dxWide.array[(r * ldDx)..<(r * ldDx + inDim)]), Array(dxDense.array[(r * inDim)..<((r + 1) * inDim)]))
            XCTAssertTrue(dxWide.array[(r * ldDx + inDim)..<((r + 1) * ldDx)].allSatisfy { $0 == 7 }, "padding untouched")
        }

        let xDense = FloatBuffer((0..<rows).flatMap { r in x[(r * ldDx)..<(r * ldDx + inDim)] })
        let xWide = FloatBuffer(x)
        let dw1 = FloatBuffer(count: outDim * inDim), dw2 = FloatBuffer(count: outDim * inDim)
        let db1 = FloatBuffer(count: outDim), db2 = FloatBuffer(count: outDim)
        Linear.backwardWeight(dy: dyDense.pointer, rows: rows, outDim: outDim, x: xDense.pointer, inDim: inDim,
                              dWeight: dw1.pointer, dBias: db1.pointer)
        Linear.backwardWeight(dy: dyWide.pointer, rows: rows, outDim: outDim, ldDy: ldDy, x: xWide.pointer, inDim: inDim,
                              ldx: ldDx, dWeight: dw2.pointer, dBias: db2.pointer)
        XCTAssertEqual(dw1.array, dw2.array)
        XCTAssertEqual(db1.array, db2.array)
    }
}
