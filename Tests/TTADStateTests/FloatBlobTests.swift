import XCTest
@testable import TTADState

final class FloatBlobTests: XCTestCase {
    func testLittleEndianLayout() {
        XCTAssertEqual(FloatBlob.encode([1.0, -2.0]), [0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0xC0])
        XCTAssertEqual(FloatBlob.encode([-0.0]), [0, 0, 0, 0x80])
        XCTAssertEqual(FloatBlob.encode([]), [])
    }

    func testRoundTripIsBitwise() throws {
        let decoded = try FloatBlob.decode(FloatBlob.encode(trickyFloats))
        XCTAssertEqual(bits(decoded), bits(trickyFloats))
        let many = (0..<10_000).map { Float(bitPattern: UInt32(truncatingIfNeeded: $0 &* 2_654_435_761)) }
        XCTAssertEqual(bits(try FloatBlob.decode(FloatBlob.encode(many))), bits(many))
    }

    func testDecodeFromUnalignedMemory() throws {
        let bytes: [UInt8] = [0xAA] + FloatBlob.encode([3.5, -0.0])
        let decoded = try bytes.withUnsafeBytes { try FloatBlob.decode(UnsafeRawBufferPointer(rebasing: $0.dropFirst())) }
        XCTAssertEqual(bits(decoded), bits([3.5, -0.0]))
    }

    func testDecodeRejectsPartialElements() {
        XCTAssertThrowsError(try FloatBlob.decode([1, 2, 3, 4, 5]))
    }

    func testCRC32KnownVectors() {
        XCTAssertEqual(CRC32.checksum(Array("123456789".utf8)), 0xCBF4_3926)
        XCTAssertEqual(CRC32.checksum([]), 0)
        XCTAssertEqual(CRC32.checksum(Array("The quick brown fox jumps over the lazy dog".utf8)), 0x414F_A339)
    }
}
