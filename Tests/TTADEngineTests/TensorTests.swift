import XCTest
@testable import TTADEngine

final class TensorTests: XCTestCase {
    func testShapeCountStridesAndIndexing() {
        var t = Tensor(shape: [2, 3, 4], repeating: 0)
        XCTAssertEqual(t.count, 24)
        XCTAssertEqual(t.rank, 3)
        XCTAssertEqual(t.strides, [12, 4, 1])
        t[1, 2, 3] = 7
        XCTAssertEqual(t.storage[23], 7)
        XCTAssertEqual(t[1, 2, 3], 7)
        let r = t.reshaped([6, 4])
        XCTAssertEqual(r[5, 3], 7)
    }

    func testScalarAndEmpty() {
        let s = Tensor(shape: [], storage: [3])
        XCTAssertEqual(s.count, 1)
        XCTAssertEqual(s.strides, [])
        let e = Tensor(shape: [0, 5], storage: [])
        XCTAssertEqual(e.count, 0)
    }

    func testElementCountValidation() {
        XCTAssertEqual(Tensor.elementCount(of: [3, 4]), 12)
        XCTAssertEqual(Tensor.elementCount(of: []), 1)
        XCTAssertNil(Tensor.elementCount(of: [-1, 4]))
        XCTAssertNil(Tensor.elementCount(of: [Int.max, 2]))
    }

    func testValueSemantics() {
        let a = Tensor(shape: [2], storage: [1, 2])
        var b = a
        b.storage[0] = 9
        XCTAssertEqual(a.storage, [1, 2])
        XCTAssertNotEqual(a, b)
    }
}
