import Foundation
import XCTest
@testable import TTADEngine

/// The one checkpoint format: round trips bit for bit, reads the JSON sections of before, and
/// refuses damaged archives with an error instead of misreading them.
final class StateArchiveTests: XCTestCase {
    struct Inner: Codable, Equatable {
        var weights: [Float]
        var label: Int
        var note: String?
    }

    struct Sample: Codable, Equatable {
        var tensor: [Float]
        var sums: [Double]
        var blob: Data
        var scale: Float
        var mean: Double
        var count: Int64
        var big: UInt64
        var flags: [Bool]
        var ring: [Int]
        var byName: [String: Inner]
        var byClass: [Int: [Float]]
        var rows: [[Float]]
        var missing: Int?
    }

    /// Values whose bits a text encoding could lose: negative zero, a subnormal, a NaN payload.
    static let awkward: [Float] = [0, -0.0, .leastNonzeroMagnitude, .greatestFiniteMagnitude, Float(bitPattern: 0x7FC0_1234), .infinity, 0.1]

    static func sample() -> Sample {
        Sample(tensor: awkward, sums: [1e-300, -2.5, .pi], blob: Data([0, 1, 255, 7]), scale: 0.1, mean: 1.0 / 3.0,
               count: .min, big: .max, flags: [true, false], ring: [.min, -1, 0, 2048, .max],
               byName: ["a": Inner(weights: [1, 2], label: 3, note: nil), "b": Inner(weights: [], label: -1, note: "x")],
               byClass: [0: [4, 5], 7: []], rows: [[1], [2, 3]], missing: nil)
    }

    func testRoundTripIsBitwise() throws {
        let s = Self.sample()
        let bytes = try StateArchive.encode(s)
        XCTAssertTrue(StateArchive.isArchive(bytes))
        let back = try StateArchive.decode(Sample.self, from: bytes)
        XCTAssertEqual(back.tensor.map(\.bitPattern), s.tensor.map(\.bitPattern))
        XCTAssertEqual(back.sums.map(\.bitPattern), s.sums.map(\.bitPattern))
        XCTAssertEqual(back.scale.bitPattern, s.scale.bitPattern)
        XCTAssertEqual(back.mean.bitPattern, s.mean.bitPattern)
        var a = back, b = s
        a.tensor = []; b.tensor = []  // NaN != NaN; compared by bits above
        XCTAssertEqual(a, b)
    }

    func testTensorsAreRawNotText() throws {
        let values = (0..<1000).map { Float($0) * 0.001 }
        let bytes = try StateArchive.encode(Inner(weights: values, label: 1, note: nil))
        // 4 bytes a float plus a header that does not grow with the tensor.
        XCTAssertLessThan(bytes.count, values.count * 4 + 200)
    }

    func testReadsPreArchiveJSON() throws {
        let s = Inner(weights: [0.1, -0.0, 3], label: 2, note: "old")
        let json = try JSONEncoder().encode(s)
        XCTAssertFalse(StateArchive.isArchive(json))
        XCTAssertEqual(try StateArchive.decodeSection(Inner.self, from: json), s)
        XCTAssertEqual(try StateArchive.decodeSection(Inner.self, from: try StateArchive.encode(s)), s)
    }

    func testEveryTruncationIsRefused() throws {
        let bytes = try StateArchive.encode(Self.sample())
        for n in 0..<bytes.count {
            XCTAssertThrowsError(try StateArchive.decode(Sample.self, from: bytes.prefix(n)), "prefix of \(n) bytes")
        }
        XCTAssertThrowsError(try StateArchive.decode(Sample.self, from: bytes + [0])) { error in
            XCTAssertEqual(error as? StateArchiveError, .corrupt("1 bytes after the last blob"))
        }
    }

    func testEveryFlippedByteIsRefusedOrDecodes() throws {
        // A flipped bit in the data part is a different (valid) tensor, which the store's CRC-32
        // catches; anywhere else it must either decode or throw, never trap.
        let bytes = try StateArchive.encode(Self.sample())
        var refused = 0
        for i in 0..<bytes.count {
            var b = bytes
            b[i] ^= 0x5A
            if (try? StateArchive.decode(Sample.self, from: b)) == nil { refused += 1 }
        }
        XCTAssertGreaterThan(refused, 0)
    }

    func testHugeHeaderLengthIsRefused() throws {
        var bytes = try StateArchive.encode(Inner(weights: [1], label: 0, note: nil))
        bytes.replaceSubrange(8..<16, with: withUnsafeBytes(of: UInt64.max.littleEndian) { Array($0) })
        XCTAssertThrowsError(try StateArchive.decode(Inner.self, from: bytes)) { error in
            guard case .truncated? = error as? StateArchiveError else { return XCTFail("\(error)") }
        }
    }

    func testMisShapedValuesAreRefused() throws {
        struct Floats: Codable { var weights: Float; var label: Int; var note: String? }
        struct Wide: Codable { var weights: [Double]; var label: Int; var note: String? }
        struct Narrow: Codable { var weights: [Float]; var label: Int8; var note: String? }
        let bytes = try StateArchive.encode(Inner(weights: [1, 2], label: 300, note: nil))
        XCTAssertThrowsError(try StateArchive.decode(Floats.self, from: bytes)) { error in
            XCTAssertEqual(error as? StateArchiveError, .mismatch(path: "weights", detail: "expected a Float, found a tensor"))
        }
        XCTAssertThrowsError(try StateArchive.decode(Wide.self, from: bytes)) { error in
            XCTAssertEqual(error as? StateArchiveError, .mismatch(path: "weights", detail: "tensor 0 is F32, not the Array<Double> expected"))
        }
        XCTAssertThrowsError(try StateArchive.decode(Narrow.self, from: bytes)) { error in
            XCTAssertEqual(error as? StateArchiveError, .mismatch(path: "label", detail: "expected an integer fitting Int8, found an integer"))
        }
        XCTAssertThrowsError(try StateArchive.decode([Inner].self, from: bytes))
    }

    func testTensorTypesAlsoReadAnArray() throws {
        // A type may encode another collection (an array in the archive) and decode an Array.
        struct Contiguous: Encodable { var weights: ContiguousArray<Float>; var label: Int }
        let bytes = try StateArchive.encode(Contiguous(weights: [2, 3], label: 4))
        XCTAssertEqual(try StateArchive.decode(Inner.self, from: bytes), Inner(weights: [2, 3], label: 4, note: nil))
    }

    func testBlobIndexOutOfRangeIsRefused() throws {
        // A hand-made archive whose value names a blob the directory does not have.
        let header = Array(#"{"blobs":[],"value":{"weights":{"@blob":3},"label":1}}"#.utf8)
        let bytes = StateArchive.magic + withUnsafeBytes(of: UInt64(header.count).littleEndian) { Array($0) } + header
        XCTAssertThrowsError(try StateArchive.decode(Inner.self, from: bytes)) { error in
            XCTAssertEqual(error as? StateArchiveError, .mismatch(path: "weights", detail: "tensor 3 of 0"))
        }
    }
}
