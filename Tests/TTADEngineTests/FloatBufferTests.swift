import XCTest
@testable import TTADEngine

final class FloatBufferTests: XCTestCase {
    func testZeroFilledAlignedAndCopies() {
        let b = FloatBuffer(count: 37)
        XCTAssertEqual(b.array, [Float](repeating: 0, count: 37))
        XCTAssertEqual(Int(bitPattern: b.pointer) % 64, 0)
        let c = FloatBuffer((0..<37).map(Float.init))
        b.copy(from: c)
        XCTAssertEqual(b.array, c.array)
        b.fill(2)
        XCTAssertEqual(Set(b.array), [2])
    }

    func testScratchGrowsAndKeepsItsStorageWhenLargeEnough() {
        let s = ScratchBuffer()
        let p1 = s.pointer(atLeast: 100)
        XCTAssertGreaterThanOrEqual(s.storage.count, 100)
        XCTAssertEqual(s.pointer(atLeast: 50), p1)
        _ = s.pointer(atLeast: 1000)
        XCTAssertGreaterThanOrEqual(s.storage.count, 1000)
    }
}
