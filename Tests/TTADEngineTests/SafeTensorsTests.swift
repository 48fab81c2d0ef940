import Foundation
import XCTest
@testable import TTADEngine

final class SafeTensorsTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("ttad-st-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    private func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// Writes a hand-made file: length prefix (or an override), header text, data bytes.
    private func craft(_ name: String = "crafted.safetensors", header: String, data: [UInt8] = [],
                       lengthOverride: UInt64? = nil) -> String {
        var bytes = Data()
        let h = Data(header.utf8)
        withUnsafeBytes(of: (lengthOverride ?? UInt64(h.count)).littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(h)
        bytes.append(contentsOf: data)
        let p = path(name)
        _ = FileManager.default.createFile(atPath: p, contents: bytes)
        return p
    }

    private func open(_ p: String) -> Result<SafeTensorsFile, SafeTensorsError> {
        do { return .success(try SafeTensorsFile(path: p)) } catch { return .failure(error) }
    }

    private func assertOpenFails(_ p: String, file: StaticString = #filePath, line: UInt = #line,
                                 _ check: (SafeTensorsError) -> Bool) {
        switch open(p) {
        case .success: XCTFail("opened an invalid file", file: file, line: line)
        case .failure(let e):
            XCTAssertTrue(check(e), "unexpected error: \(e)", file: file, line: line)
            XCTAssertTrue(e.description.contains(p), "error does not name the file: \(e)", file: file, line: line)
        }
    }

    // MARK: Round trip

    func testRoundTripF32F16BF16WithMetadata() throws {
        let a = BLASTests.values(12, seed: 1)
        let b: [Float] = [1, -2, 0.5, 65504, 1e-7, 3]
        let c: [Float] = [1, 2, 3.140625]
        let p = path("rt.safetensors")
        try SafeTensorsWriter.write(path: p, tensors: [
            .init(name: "a", shape: [3, 4], values: a),
            .init(name: "b.weight", shape: [2, 3], values: b, dtype: .f16),
            .init(name: "c", shape: [3], values: c, dtype: .bf16),
            .init(name: "scalar", shape: [], values: [42]),
            .init(name: "empty", shape: [0, 4], values: []),
        ], metadata: ["format": "pt", "class_names": "[\"x\"]"])

        let f = try SafeTensorsFile(path: p)
        XCTAssertEqual(f.tensorNames, ["a", "b.weight", "c", "scalar", "empty"])   // data-offset order
        XCTAssertEqual(Set(f.tensorNames), ["a", "b.weight", "c", "scalar", "empty"])
        XCTAssertEqual(f.metadata, ["format": "pt", "class_names": "[\"x\"]"])
        XCTAssertEqual(try f.info("a").dtype, .f32)
        XCTAssertEqual(try f.info("a").shape, [3, 4])
        XCTAssertEqual(try f.info("b.weight").dtype, .f16)
        XCTAssertEqual(try f.floats("a"), a)                                   // F32 is exact
        let expectedB = Float16Conversion.halfToFloat(Float16Conversion.floatToHalfBits(b))
        XCTAssertEqual(try f.floats("b.weight"), expectedB)
        XCTAssertEqual(try f.floats("b.weight")[3], 65504)
        XCTAssertEqual(try f.floats("c"), c)                                   // bf16-exact values
        XCTAssertEqual(try f.tensor("scalar").storage, [42])
        XCTAssertEqual(try f.tensor("empty", expectedShape: [0, 4]).count, 0)
        let t = try f.tensor("a", expectedShape: [3, 4])
        XCTAssertEqual(t.shape, [3, 4])
        XCTAssertEqual(t.storage, a)
        try f.withRawBytes("a") { XCTAssertEqual($0.count, 48) }
    }

    func testWriterOutputIsAlignedAndDeterministic() throws {
        let entries: [SafeTensorsWriter.Entry] = [.init(name: "x", shape: [3], values: [1, 2, 3], dtype: .f16)]
        let d1 = try SafeTensorsWriter.encode(tensors: entries, metadata: ["k": "v"])
        let d2 = try SafeTensorsWriter.encode(tensors: entries, metadata: ["k": "v"])
        XCTAssertEqual(d1, d2)
        let n = d1.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
        XCTAssertEqual((8 + Int(n)) % 8, 0)
    }

    func testWriterRejectsInconsistentInput() {
        XCTAssertThrowsError(try SafeTensorsWriter.encode(tensors: [.init(name: "x", shape: [2, 2], values: [1])]))
        XCTAssertThrowsError(try SafeTensorsWriter.encode(tensors: [.init(name: "x", shape: [1], values: [1]),
                                                                    .init(name: "x", shape: [1], values: [1])]))
        XCTAssertThrowsError(try SafeTensorsWriter.encode(tensors: [.init(name: "x", shape: [1], values: [1],
                                                                          dtype: SafeTensorsDType(rawValue: "I32"))]))
    }

    // MARK: Lookup errors

    func testMissingTensorShapeMismatchAndUnsupportedDTypes() throws {
        let header = #"{"i":{"dtype":"I32","shape":[2],"data_offsets":[0,8]},"# +
            #""q":{"dtype":"F4_FUTURE","shape":[2],"data_offsets":[8,9]},"# +
            #""f":{"dtype":"F32","shape":[1,2],"data_offsets":[9,17]}}"#
        let p = craft(header: header, data: [UInt8](repeating: 0, count: 17))
        let f = try SafeTensorsFile(path: p)
        XCTAssertEqual(try f.info("q").dtype.rawValue, "F4_FUTURE")             // unknown dtype still opens
        XCTAssertThrowsError(try f.floats("i")) {
            XCTAssertEqual($0 as? SafeTensorsError, .unsupportedDType(file: p, name: "i", dtype: "I32"))
        }
        XCTAssertThrowsError(try f.floats("q")) {
            XCTAssertEqual($0 as? SafeTensorsError, .unsupportedDType(file: p, name: "q", dtype: "F4_FUTURE"))
        }
        XCTAssertThrowsError(try f.floats("nope")) {
            XCTAssertEqual($0 as? SafeTensorsError, .missingTensor(file: p, name: "nope"))
            XCTAssertTrue("\($0)".contains("nope") && "\($0)".contains(p))
        }
        XCTAssertThrowsError(try f.tensor("f", expectedShape: [2, 1])) {
            XCTAssertEqual($0 as? SafeTensorsError, .shapeMismatch(file: p, name: "f", expected: [2, 1], got: [1, 2]))
        }
        XCTAssertEqual(try f.floats("f"), [0, 0])                               // unaligned F32 data (offset 9)
    }

    // MARK: Crafted corrupt files

    func testTruncatedAtSeveralPoints() throws {
        let good = try SafeTensorsWriter.encode(tensors: [.init(name: "w", shape: [4, 4], values: BLASTests.values(16, seed: 3))])
        let headerEnd = 8 + Int(good.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        for cut in [0, 3, 7, 8, 9, headerEnd / 2, headerEnd - 1, headerEnd, headerEnd + 1, good.count - 1] {
            let p = path("cut\(cut).safetensors")
            _ = FileManager.default.createFile(atPath: p, contents: good.prefix(cut))
            assertOpenFails(p) { if case .truncated = $0 { return true } else { return false } }
        }
    }

    func testHeaderLengthProblems() {
        assertOpenFails(craft(header: "{}", lengthOverride: 1 << 40)) {
            if case .truncated = $0 { return true } else { return false }
        }
        assertOpenFails(craft(header: "", lengthOverride: 0)) {
            if case .badHeader = $0 { return true } else { return false }
        }
        // A claimed header beyond the 100 MiB limit but inside the file.
        let p = path("huge.safetensors")
        var big = Data()
        withUnsafeBytes(of: UInt64((100 << 20) + 1).littleEndian) { big.append(contentsOf: $0) }
        big.append(Data(count: (100 << 20) + 1))
        _ = FileManager.default.createFile(atPath: p, contents: big)
        assertOpenFails(p) { if case .badHeader = $0 { return true } else { return false } }
    }

    func testBadJSON() {
        for (i, header) in [#"{"a": "#, "not json", "[1,2]", #"{"a":1}"#, #"{"__metadata__":{"k":1}}"#,
                            #"{"__metadata__":[]}"#].enumerated() {
            assertOpenFails(craft("bad\(i).safetensors", header: header)) {
                switch $0 {
                case .badHeader, .badTensorEntry: return true
                default: return false
                }
            }
        }
    }

    func testBadTensorEntries() {
        let cases: [(String, Int)] = [
            (#"{"t":{"shape":[1],"data_offsets":[0,4]}}"#, 4),                          // no dtype
            (#"{"t":{"dtype":"F32","data_offsets":[0,4]}}"#, 4),                         // no shape
            (#"{"t":{"dtype":"F32","shape":[1]}}"#, 4),                                  // no offsets
            (#"{"t":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, 4),            // negative dim
            (#"{"t":{"dtype":"F32","shape":[true],"data_offsets":[0,4]}}"#, 4),          // bool dim
            (#"{"t":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}"#, 4),           // fractional dim
            (#"{"t":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}"#, 4),             // begin > end
            (#"{"t":{"dtype":"F32","shape":[1],"data_offsets":[0]}}"#, 4),               // one offset
            (#"{"t":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}"#, 4),             // shape×dtype ≠ bytes
            (#"{"t":{"dtype":"F16","shape":[3],"data_offsets":[0,4]}}"#, 4),             // shape×dtype ≠ bytes
            (#"{"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"u":{"dtype":"F32","shape":[1],"data_offsets":[2,6]}}"#, 8), // overlap
            (#"{"t":{"dtype":"F32","shape":[4611686018427387904, 4],"data_offsets":[0,4]}}"#, 4), // overflow
        ]
        for (i, (header, dataCount)) in cases.enumerated() {
            let p = craft("entry\(i).safetensors", header: header, data: [UInt8](repeating: 0, count: dataCount))
            assertOpenFails(p) {
                if case let .badTensorEntry(_, name, _) = $0 { return ["t", "u"].contains(name) }
                return false
            }
        }
    }

    func testOffsetsBeyondDataSection() {
        let p = craft(header: #"{"t":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#, data: [UInt8](repeating: 0, count: 12))
        assertOpenFails(p) {
            if case let .truncated(_, detail) = $0 { return detail.contains("'t'") }
            return false
        }
    }

    func testMissingFileAndEmptyFile() {
        assertOpenFails(path("does-not-exist.safetensors")) { if case .io = $0 { return true } else { return false } }
        let p = path("empty.safetensors")
        _ = FileManager.default.createFile(atPath: p, contents: Data())
        assertOpenFails(p) { if case .truncated = $0 { return true } else { return false } }
    }
}
