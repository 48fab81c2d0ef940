import XCTest
@testable import TTADEngine

final class ElementwiseTests: XCTestCase {
    func testAddAndSumCoverTheTail() {
        let a = (0..<19).map(Float.init), b = (0..<19).map { Float($0) * 10 }
        // Buffers held in named constants: a temporary's pointer dies with the temporary.
        let ab = FloatBuffer(a), bb = FloatBuffer(b)
        let y = FloatBuffer(b), s = FloatBuffer(count: 19)
        Elementwise.add(ab.pointer, into: y.pointer, count: 19)
        XCTAssertEqual(y.array, zip(a, b).map { $0 + $1 })
        Elementwise.sum(ab.pointer, bb.pointer, into: s.pointer, count: 19)
        XCTAssertEqual(s.array, y.array)
    }

    func testTransposeWritesAndAccumulatesWithARowStride() {
        let rows = 11, cols = 13, ldy = 15
        let a = (0..<(rows * cols)).map(Float.init)
        let ab = FloatBuffer(a), y = FloatBuffer(count: cols * ldy)
        y.fill(-1)
        Elementwise.transpose(ab.pointer, rows: rows, columns: cols, into: y.pointer, ldy: ldy, accumulate: false)
        for c in 0..<cols {
            for r in 0..<rows { XCTAssertEqual(y.pointer[c * ldy + r], a[r * cols + c]) }
            for r in rows..<ldy { XCTAssertEqual(y.pointer[c * ldy + r], -1, "padding untouched") }
        }
        Elementwise.transpose(ab.pointer, rows: rows, columns: cols, into: y.pointer, ldy: ldy, accumulate: true)
        XCTAssertEqual(y.pointer[3 * ldy + 5], 2 * a[5 * cols + 3])
    }
}
