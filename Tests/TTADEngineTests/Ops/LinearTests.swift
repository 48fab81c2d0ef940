import XCTest
@testable import TTADEngine

final class LinearTests: XCTestCase {
    private func reference(_ x: [Float], rows: Int, inDim: Int, _ w: [Float], _ b: [Float]?, outDim: Int) -> [Float] {
        var y = [Float](repeating: 0, count: rows * outDim)
        for r in 0..<rows {
            for o in 0..<outDim {
                var acc = Double(b?[o] ?? 0)
                for i in 0..<inDim { acc += Double(x[r * inDim + i]) * Double(w[o * inDim + i]) }
                y[r * outDim + o] = Float(acc)
            }
        }
        return y
    }

    func testForwardUsesPyTorchWeightLayoutWithAndWithoutBias() {
        let rows = 5, inDim = 13, outDim = 7
        let x = OpTestSupport.values(rows * inDim, seed: 1), w = OpTestSupport.values(outDim * inDim, seed: 2)
        let b = OpTestSupport.values(outDim, seed: 3)
        for bias in [b, nil] as [[Float]?] {
            let xb = FloatBuffer(x), wb = FloatBuffer(w), bb = bias.map(FloatBuffer.init), y = FloatBuffer(count: rows * outDim)
            y.fill(.nan)   // beta = 0 must ignore prior contents
            Linear.forward(x: xb.pointer, rows: rows, inDim: inDim, weight: wb.pointer, bias: bb?.pointer, outDim: outDim, y: y.pointer)
            XCTAssertLessThan(OpTestSupport.maxAbsDiff(y.array, reference(x, rows: rows, inDim: inDim, w, bias, outDim: outDim)), 1e-5)
        }
    }

    func testAccumulatingAddsToTheResidual() {
        let rows = 3, inDim = 9, outDim = 4
        let x = OpTestSupport.values(rows * inDim, seed: 4), w = OpTestSupport.values(outDim * inDim, seed: 5)
        let b = OpTestSupport.values(outDim, seed: 6), residual = OpTestSupport.values(rows * outDim, seed: 7)
        let y = FloatBuffer(residual), xb = FloatBuffer(x), wb = FloatBuffer(w), bb = FloatBuffer(b)
        Linear.forwardAccumulating(x: xb.pointer, rows: rows, inDim: inDim, weight: wb.pointer, bias: bb.pointer, outDim: outDim, into: y.pointer)
        let expected = zip(reference(x, rows: rows, inDim: inDim, w, b, outDim: outDim), residual).map { $0 + $1 }
        XCTAssertLessThan(OpTestSupport.maxAbsDiff(y.array, expected), 1e-5)
    }

    /// Skinny products may run transposed through the scratch buffer; the result must not change.
    func testTransposedSmallRowPathMatchesTheDirectProduct() {
        for rows in [2, 7, 64, 65] {
            let inDim = 24, outDim = 40
            let x = OpTestSupport.values(rows * inDim, seed: 8), w = OpTestSupport.values(outDim * inDim, seed: 9)
            let b = OpTestSupport.values(outDim, seed: 10), residual = OpTestSupport.values(rows * outDim, seed: 11)
            let xb = FloatBuffer(x), wb = FloatBuffer(w), bb = FloatBuffer(b)
            let scratch = FloatBuffer(count: Linear.transposedRowLimit * outDim)
            let direct = FloatBuffer(count: rows * outDim), viaScratch = FloatBuffer(count: rows * outDim)
            viaScratch.fill(.nan)
            Linear.forward(x: xb.pointer, rows: rows, inDim: inDim, weight: wb.pointer, bias: bb.pointer, outDim: outDim, y: direct.pointer)
            Linear.forward(x: xb.pointer, rows: rows, inDim: inDim, weight: wb.pointer, bias: bb.pointer, outDim: outDim,
                           y: viaScratch.pointer, transposeScratch: scratch.pointer)
            XCTAssertLessThan(OpTestSupport.maxAbsDiff(direct.array, viaScratch.array), 1e-5, "rows \(rows)")
            let acc1 = FloatBuffer(residual), acc2 = FloatBuffer(residual)
            Linear.forwardAccumulating(x: xb.pointer, rows: rows, inDim: inDim, weight: wb.pointer, bias: bb.pointer, outDim: outDim, into: acc1.pointer)
            Linear.forwardAccumulating(x: xb.pointer, rows: rows, inDim: inDim, weight: wb.pointer, bias: bb.pointer, outDim: outDim,
                                       into: acc2.pointer, transposeScratch: scratch.pointer)
            XCTAssertLessThan(OpTestSupport.maxAbsDiff(acc1.array, acc2.array), 1e-5, "rows \(rows), accumulating")
        }
    }
}
