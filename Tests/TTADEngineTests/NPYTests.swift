import Foundation
import XCTest
@testable import TTADEngine

final class NPYTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("ttad-npy-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    private func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// A .npy image with an arbitrary header dict and data bytes.
    private func craft(dict: String, data: [UInt8], major: UInt8 = 1) -> Data {
        let pre = major == 1 ? 10 : 12
        let header = dict + String(repeating: " ", count: (64 - (pre + dict.utf8.count + 1) % 64) % 64) + "\n"
        var out = Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, major, 0])
        if major == 1 {
            withUnsafeBytes(of: UInt16(header.utf8.count).littleEndian) { out.append(contentsOf: $0) }
        } else {
            withUnsafeBytes(of: UInt32(header.utf8.count).littleEndian) { out.append(contentsOf: $0) }
        }
        out.append(contentsOf: Array(header.utf8))
        out.append(contentsOf: data)
        return out
    }

    private func decode(_ data: Data) -> Result<Tensor, NPYError> {
        data.withUnsafeBytes { raw in
            do throws(NPYError) { return .success(try NPY.decode(raw, path: "mem.npy")) } catch { return .failure(error) }
        }
    }

    private func bytes<T>(_ values: [T]) -> [UInt8] { values.withUnsafeBytes { Array($0) } }

    // MARK: Round trip

    func testRoundTripShapesAndDTypes() throws {
        for shape in [[3, 4], [5], [], [0, 3], [2, 1, 3]] {
            let n = Tensor.elementCount(of: shape)!
            let t = Tensor(shape: shape, storage: BLASTests.values(n, seed: UInt64(n) + 1))
            let p32 = path("t32.npy"), p16 = path("t16.npy")
            try NPY.write(path: p32, tensor: t)
            try NPY.write(path: p16, tensor: t, dtype: .f16)
            XCTAssertEqual(try NPY.read(path: p32), t)
            let r16 = try NPY.read(path: p16)
            XCTAssertEqual(r16.shape, shape)
            XCTAssertEqual(r16.storage, Float16Conversion.halfToFloat(Float16Conversion.floatToHalfBits(t.storage)))
            // numpy's alignment convention: data starts on a 64-byte boundary.
            let raw = NPY.encode(t)
            let headerLength = Int(raw[8]) | Int(raw[9]) << 8
            XCTAssertEqual((10 + headerLength) % 64, 0)
            XCTAssertEqual(raw[10 + headerLength - 1], 0x0A)
        }
    }

    func testReadsOtherVersionsAndByteOrders() throws {
        let values: [Float] = [1, -2.5, 3e-3, 65504]
        // v2 and v3 headers (u32 length).
        for major: UInt8 in [2, 3] {
            let d = craft(dict: "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }", data: bytes(values), major: major)
            XCTAssertEqual(try decode(d).get(), Tensor(shape: [2, 2], storage: values))
        }
        // Big-endian float32.
        let be = values.flatMap { v in withUnsafeBytes(of: v.bitPattern.bigEndian) { Array($0) } }
        XCTAssertEqual(try decode(craft(dict: "{'descr': '>f4', 'fortran_order': False, 'shape': (4,), }", data: be)).get().storage, values)
        // float64, converted.
        let doubles = values.map(Double.init)
        XCTAssertEqual(try decode(craft(dict: "{'descr': '<f8', 'fortran_order': False, 'shape': (4,), }", data: bytes(doubles))).get().storage, values)
        // float16, double-quoted keys, Python-2 long suffix, odd spacing.
        let halves = Float16Conversion.floatToHalfBits(values)
        let t = try decode(craft(dict: "{\"descr\":\"<f2\",\"shape\":(2L,2L),\"fortran_order\":False}", data: bytes(halves))).get()
        XCTAssertEqual(t.shape, [2, 2])
        XCTAssertEqual(t.storage, Float16Conversion.halfToFloat(halves))
    }

    // MARK: Errors

    private func assertFails(_ data: Data, file: StaticString = #filePath, line: UInt = #line, _ check: (NPYError) -> Bool) {
        switch decode(data) {
        case .success: XCTFail("decoded an invalid file", file: file, line: line)
        case .failure(let e):
            XCTAssertTrue(check(e), "unexpected error \(e)", file: file, line: line)
            XCTAssertTrue(e.description.contains("mem.npy"), file: file, line: line)
        }
    }

    func testTruncationAtSeveralPoints() {
        let good = NPY.encode(Tensor(shape: [4, 4], storage: BLASTests.values(16, seed: 9)))
        for cut in [7, 8, 9, 30, 63, 64, 65, good.count - 1] {
            assertFails(good.prefix(cut)) { if case .truncated = $0 { return true } else { return false } }
        }
        assertFails(good + Data([0])) { if case .badHeader = $0 { return true } else { return false } }   // trailing byte
    }

    func testBadMagicAndVersion() {
        assertFails(Data("PK\u{3}\u{4}not numpy at all".utf8)) { $0 == .badMagic(file: "mem.npy") }
        assertFails(Data([0x01])) { $0 == .badMagic(file: "mem.npy") }
        var d = NPY.encode(Tensor(shape: [1], storage: [1]))
        d[6] = 9
        assertFails(d) { $0 == .unsupportedVersion(file: "mem.npy", major: 9, minor: 0) }
    }

    func testUnsupportedDTypesAndFortranOrder() {
        for descr in ["<i4", "<u1", "<c8", "|b1", "<f16"] {
            assertFails(craft(dict: "{'descr': '\(descr)', 'fortran_order': False, 'shape': (1,), }", data: [0, 0, 0, 0])) {
                $0 == .unsupportedDType(file: "mem.npy", descr: descr)
            }
        }
        assertFails(craft(dict: "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", data: [0, 0, 0, 0])) {
            if case .unsupportedDType = $0 { return true } else { return false }
        }
        assertFails(craft(dict: "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", data: [UInt8](repeating: 0, count: 16))) {
            $0 == .fortranOrder(file: "mem.npy")
        }
    }

    func testMalformedHeaders() {
        for dict in ["{'descr': '<f4', 'shape': (1,), }",                      // no fortran_order
                     "{'descr': '<f4', 'fortran_order': False, }",              // no shape
                     "{'descr': '<f4', 'fortran_order': False, 'shape': (a,), }",
                     "{'descr': '<f4', 'fortran_order': Maybe, 'shape': (1,), }",
                     "['descr']",
                     "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), } extra",
                     "{'descr: '<f4'"] {
            assertFails(craft(dict: dict, data: [0, 0, 0, 0])) { if case .badHeader = $0 { return true } else { return false } }
        }
    }

    func testMissingFile() {
        XCTAssertThrowsError(try NPY.read(path: path("missing.npy"))) {
            guard case .io(let f, _)? = $0 as? NPYError else { return XCTFail("\($0)") }
            XCTAssertEqual(f, self.path("missing.npy"))
        }
    }
}
