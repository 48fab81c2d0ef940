import XCTest
@testable import TTADScenario

final class GzipTests: XCTestCase {
    static func bytes(_ hex: String) -> [UInt8] {
        var out = [UInt8]()
        var i = hex.startIndex
        while i < hex.endIndex {
            let j = hex.index(i, offsetBy: 2)
            out.append(UInt8(hex[i..<j], radix: 16)!)
            i = j
        }
        return out
    }

    /// Python's gzip.compress(b'hello hello hello world\n' * 3, mtime=0): a fixed-Huffman block.
    func testFixedHuffmanBlock() throws {
        let gz = Self.bytes("1f8b0800000000000203cb48cdc9c957c84022cbf38b7252b83248140700b7fba4a548000000")
        let out = try Gzip.decompress(gz)
        XCTAssertEqual(String(decoding: out, as: UTF8.self), String(repeating: "hello hello hello world\n", count: 3))
    }

    /// Python's gzip.compress of " ".join(f"word{i*i%97}" for i in range(120)): a dynamic block.
    func testDynamicHuffmanBlock() throws {
        let gz = Self.bytes("1f8b0800000000000203cd924d0e82210c44afe211043e4ab98f7b13375e5fc37b26700337342d9dcef4e7fd7c3deeb7f7f72debbdd63b89c432b52fd3f02efe82c404d54824768d6546254802798137ad086cc8cf5f273865538fe2fc23d8c125952959e14e829dc44ae554b9920114bc842e6405dec01519e04642821e941c7aed30478a00e1b1179646522528a81c62956e23b66593b6ec001c47ee83726cbf219663c0b10fdf55b818d7e4d2e25868dd57ede23d83b61f88e7e2f1b4e3b03cb3b9dd1fa0ffbccb0f03d63d2932030000")
        let out = try Gzip.decompress(gz)
        let expected = (0..<120).map { "word\($0 * $0 % 97)" }.joined(separator: " ")
        XCTAssertEqual(String(decoding: out, as: UTF8.self), expected)
        XCTAssertEqual(Gzip.crc32(out[...]), 691_918_339)
    }

    func testRejectsGarbageAndTruncation() {
        XCTAssertThrowsError(try Gzip.decompress([UInt8](repeating: 0, count: 30))) { XCTAssertEqual($0 as? GzipError, .notGzip) }
        let gz = Self.bytes("1f8b0800000000000203cb48cdc9c957c84022cbf38b7252b83248140700b7fba4a548000000")
        XCTAssertThrowsError(try Gzip.decompress(Array(gz.prefix(25)))) { XCTAssertEqual($0 as? GzipError, .truncated) }
        XCTAssertThrowsError(try Gzip.decompress(Array(gz.dropLast(1)))) { XCTAssertEqual($0 as? GzipError, .truncated) }
    }

    func testConcatenatedMembers() throws {
        let a = FashionMNISTTests.storedGzip([1, 2, 3]), b = FashionMNISTTests.storedGzip([4, 5])
        XCTAssertEqual(try Gzip.decompress(a + b), [1, 2, 3, 4, 5])
    }
}
