import Foundation
import XCTest
@testable import TTADScenario

final class FashionMNISTTests: XCTestCase {
    var dir: String = ""

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "fmnist-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    static func be32(_ v: Int) -> [UInt8] { [UInt8(v >> 24 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }

    static func imagesIDX(count: Int, rows: Int, cols: Int) -> [UInt8] {
        var b: [UInt8] = [0, 0, 8, 3] + be32(count) + be32(rows) + be32(cols)
        b += (0..<(count * rows * cols)).map { UInt8($0 % 256) }
        return b
    }

    static func labelsIDX(_ labels: [UInt8]) -> [UInt8] { [0, 0, 8, 1] + be32(labels.count) + labels }

    /// A gzip member holding `data` in one stored (uncompressed) deflate block.
    static func storedGzip(_ data: [UInt8]) -> [UInt8] {
        var b: [UInt8] = [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 3, 1]
        let n = data.count
        b += [UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8((~n >> 8) & 0xFF)] + data
        let crc = Gzip.crc32(data[...])
        b += (0..<4).map { UInt8(crc >> (8 * UInt32($0)) & 0xFF) } + (0..<4).map { UInt8(n >> (8 * $0) & 0xFF) }
        return b
    }

    func write(_ name: String, _ bytes: [UInt8]) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: dir + "/" + name))
    }

    func testReadsUncompressedSplit() throws {
        try write("t10k-images-idx3-ubyte", Self.imagesIDX(count: 3, rows: 2, cols: 2))
        try write("t10k-labels-idx1-ubyte", Self.labelsIDX([0, 9, 4]))
        let set = try FashionMNIST.load(.test, directory: dir)
        XCTAssertEqual(set.count, 3)
        XCTAssertEqual(set.rows, 2)
        XCTAssertEqual(set.columns, 2)
        XCTAssertEqual(set.labels, [0, 9, 4])
        XCTAssertEqual(Array(set.grey(1)), [4, 5, 6, 7])
        XCTAssertEqual(set.rgb(1).pixels, [4, 4, 4, 5, 5, 5, 6, 6, 6, 7, 7, 7])
    }

    func testReadsGzippedSplit() throws {
        try write("train-images-idx3-ubyte.gz", Self.storedGzip(Self.imagesIDX(count: 2, rows: 3, cols: 3)))
        try write("train-labels-idx1-ubyte.gz", Self.storedGzip(Self.labelsIDX([1, 8])))
        let set = try FashionMNIST.load(.train, directory: dir)
        XCTAssertEqual(set.labels, [1, 8])
        XCTAssertEqual(Array(set.grey(1)), (9..<18).map { UInt8($0) })
    }

    func testClassNamesInLabelOrder() {
        XCTAssertEqual(FashionMNIST.classNames.count, 10)
        XCTAssertEqual(FashionMNIST.classNames[0], "T-shirt/top")
        XCTAssertEqual(FashionMNIST.classNames[8], "bag")
        XCTAssertEqual(FashionMNIST.classNames[9], "ankle boot")
        XCTAssertEqual(FashionMNIST.outlierLabels.map { FashionMNIST.classNames[$0] }, ["bag", "ankle boot"])
    }

    func testMissingFile() throws {
        try write("t10k-images-idx3-ubyte", Self.imagesIDX(count: 1, rows: 2, cols: 2))
        XCTAssertThrowsError(try FashionMNIST.load(.test, directory: dir)) { e in
            guard case IDXError.missingFile(let p) = e else { return XCTFail("\(e)") }
            XCTAssertTrue(p.contains("t10k-labels-idx1-ubyte"))
        }
    }

    func testTruncatedFile() throws {
        try write("t10k-images-idx3-ubyte", Array(Self.imagesIDX(count: 3, rows: 2, cols: 2).dropLast(1)))
        try write("t10k-labels-idx1-ubyte", Self.labelsIDX([0, 1, 2]))
        XCTAssertThrowsError(try FashionMNIST.load(.test, directory: dir)) { e in
            XCTAssertEqual(e as? IDXError, .truncated(path: self.dir + "/t10k-images-idx3-ubyte", expectedBytes: 28, actualBytes: 27))
        }
        XCTAssertThrowsError(try IDX.parse([0, 0, 8, 3, 0], magic: IDX.imagesMagic, path: "x")) { e in
            XCTAssertEqual(e as? IDXError, .truncated(path: "x", expectedBytes: 16, actualBytes: 5))
        }
    }

    func testBadMagic() throws {
        // Swapped files: labels where images are expected.
        try write("t10k-images-idx3-ubyte", Self.labelsIDX([0, 1]))
        try write("t10k-labels-idx1-ubyte", Self.labelsIDX([0, 1]))
        XCTAssertThrowsError(try FashionMNIST.load(.test, directory: dir)) { e in
            guard case IDXError.badMagic(_, let found, let expected) = e else { return XCTFail("\(e)") }
            XCTAssertEqual(found, 0x801)
            XCTAssertEqual(expected, 0x803)
            XCTAssertTrue("\(e)".contains("bad IDX magic"))
        }
    }

    func testCountMismatchAndBadLabel() throws {
        try write("t10k-images-idx3-ubyte", Self.imagesIDX(count: 2, rows: 2, cols: 2))
        try write("t10k-labels-idx1-ubyte", Self.labelsIDX([0, 1, 2]))
        XCTAssertThrowsError(try FashionMNIST.load(.test, directory: dir)) { e in
            XCTAssertEqual(e as? IDXError, .countMismatch(images: 2, labels: 3))
        }
        try write("t10k-labels-idx1-ubyte", Self.labelsIDX([0, 12]))
        XCTAssertThrowsError(try FashionMNIST.load(.test, directory: dir)) { e in
            guard case IDXError.labelOutOfRange(_, 1, 12) = e else { return XCTFail("\(e)") }
        }
    }

    func testCorruptGzipIsReported() throws {
        var gz = Self.storedGzip(Self.labelsIDX([0, 1]))
        gz[gz.count - 8] ^= 0xFF  // break the CRC
        try write("t10k-images-idx3-ubyte", Self.imagesIDX(count: 2, rows: 2, cols: 2))
        try write("t10k-labels-idx1-ubyte.gz", gz)
        XCTAssertThrowsError(try FashionMNIST.load(.test, directory: dir)) { e in
            guard case IDXError.gzip(_, let reason) = e else { return XCTFail("\(e)") }
            XCTAssertTrue(reason.contains("CRC"))
        }
    }

    /// The Debian package's real test split, when installed.
    func testDebianTestSplit() throws {
        guard FileManager.default.fileExists(atPath: FashionMNIST.defaultDirectory + "/t10k-labels-idx1-ubyte.gz") else {
            throw XCTSkip("dataset-fashion-mnist not installed")
        }
        let set = try FashionMNIST.load(.test)
        XCTAssertEqual(set.count, 10_000)
        XCTAssertEqual(set.rows, 28)
        XCTAssertEqual(set.columns, 28)
        var perClass = [Int](repeating: 0, count: 10)
        for l in set.labels { perClass[Int(l)] += 1 }
        XCTAssertEqual(perClass, [Int](repeating: 1000, count: 10))
        XCTAssertEqual(set.labels.prefix(5), [9, 2, 1, 1, 6])  // first test labels of Fashion-MNIST
    }
}
