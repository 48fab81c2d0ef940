import Foundation

/// Errors from reading or writing `.npy` files; every case names the file.
public enum NPYError: Error, Equatable, CustomStringConvertible {
    case io(file: String, detail: String)
    case truncated(file: String, detail: String)
    case badMagic(file: String)
    case unsupportedVersion(file: String, major: Int, minor: Int)
    case badHeader(file: String, detail: String)
    case unsupportedDType(file: String, descr: String)
    case fortranOrder(file: String)

    public var description: String {
        switch self {
        case let .io(f, d): return "\(f): \(d)"
        case let .truncated(f, d): return "\(f): truncated .npy file: \(d)"
        case let .badMagic(f): return "\(f): not a .npy file (missing \\x93NUMPY magic)"
        case let .unsupportedVersion(f, ma, mi): return "\(f): unsupported .npy format version \(ma).\(mi) (supported: 1.0, 2.0, 3.0)"
        case let .badHeader(f, d): return "\(f): invalid .npy header: \(d)"
        case let .unsupportedDType(f, d): return "\(f): unsupported .npy dtype '\(d)' (supported: float16/32/64, e.g. '<f4')"
        case let .fortranOrder(f): return "\(f): array is stored in Fortran (column-major) order; re-save it with np.ascontiguousarray"
        }
    }
}

/// Reader and writer for NumPy's `.npy` format (versions 1.0–3.0), float arrays only.
///
/// Layout: `\x93NUMPY`, major, minor, header length (u16 LE for v1, u32 LE for v2/v3), then an
/// ASCII (v3: UTF-8) Python dict literal such as
/// `{'descr': '<f4', 'fortran_order': False, 'shape': (10, 16), }` padded with spaces and a
/// newline, then the raw C-order data. Float16/32/64 of either byte order are converted to
/// Float32. The dict is parsed by a small literal parser rather than anything eval-like.
public enum NPY {
    /// Storage type for `write`.
    public enum WriteDType: Sendable { case f32, f16 }

    public static func read(path: String) throws(NPYError) -> Tensor {
        let file: MappedFile
        do { file = try MappedFile(path: path) } catch { throw .io(file: path, detail: error.description) }
        return try decode(file.bytes, path: path)
    }

    /// Parses an in-memory .npy image (`path` is only used in error messages).
    public static func decode(_ bytes: UnsafeRawBufferPointer, path: String) throws(NPYError) -> Tensor {
        let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]   // \x93NUMPY
        guard bytes.count >= 8 else {
            if bytes.count < 6 && !bytes.elementsEqual(magic.prefix(bytes.count)) { throw .badMagic(file: path) }
            throw .truncated(file: path, detail: "file is \(bytes.count) bytes, shorter than the preamble")
        }
        guard bytes.prefix(6).elementsEqual(magic) else { throw .badMagic(file: path) }
        let major = Int(bytes[6]), minor = Int(bytes[7])
        let lengthBytes: Int
        switch major {
        case 1: lengthBytes = 2
        case 2, 3: lengthBytes = 4
        default: throw .unsupportedVersion(file: path, major: major, minor: minor)
        }
        guard bytes.count >= 8 + lengthBytes else {
            throw .truncated(file: path, detail: "file ends inside the header length field")
        }
        let headerLength = lengthBytes == 2
            ? Int(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt16.self)))
            : Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt32.self)))
        let headerStart = 8 + lengthBytes
        guard headerLength <= bytes.count - headerStart else {
            throw .truncated(file: path, detail: "header length \(headerLength) exceeds the \(bytes.count - headerStart) bytes remaining")
        }
        let dataStart = headerStart + headerLength
        guard let headerText = String(bytes: bytes[headerStart..<dataStart], encoding: major == 3 ? .utf8 : .ascii) else {
            throw .badHeader(file: path, detail: "header is not \(major == 3 ? "UTF-8" : "ASCII") text")
        }
        let dict: [String: HeaderValue]
        do {
            var parser = HeaderParser(text: headerText)
            dict = try parser.parseDict()
        } catch {
            throw .badHeader(file: path, detail: error.message)
        }

        guard case let .string(descr)? = dict["descr"] else {
            if dict["descr"] != nil { throw .unsupportedDType(file: path, descr: "structured/non-string descr") }
            throw .badHeader(file: path, detail: "missing 'descr'")
        }
        guard case let .bool(fortran)? = dict["fortran_order"] else {
            throw .badHeader(file: path, detail: "missing or non-boolean 'fortran_order'")
        }
        guard case let .tuple(shape)? = dict["shape"] else {
            throw .badHeader(file: path, detail: "missing or non-tuple 'shape'")
        }
        if fortran { throw .fortranOrder(file: path) }

        guard descr.count == 3, let order = descr.first, "<>=|".contains(order),
              descr.dropFirst().first == "f", let itemSize = Int(descr.suffix(1)), [2, 4, 8].contains(itemSize) else {
            throw .unsupportedDType(file: path, descr: descr)
        }
        let bigEndian = order == ">"
        guard let count = Tensor.elementCount(of: shape),
              case let (byteCount, overflow) = count.multipliedReportingOverflow(by: itemSize), !overflow else {
            throw .badHeader(file: path, detail: "shape \(shape) is invalid or too large")
        }
        let available = bytes.count - dataStart
        guard byteCount <= available else {
            throw .truncated(file: path, detail: "shape \(shape) of '\(descr)' needs \(byteCount) data bytes, file has \(available)")
        }
        guard byteCount == available else {
            throw .badHeader(file: path, detail: "\(available - byteCount) unexpected trailing bytes after the data")
        }
        if count == 0 { return Tensor(shape: shape, storage: []) }

        let src = bytes.baseAddress! + dataStart
        let values = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            let out = buffer.baseAddress!
            switch (itemSize, bigEndian) {
            case (4, false):
                UnsafeMutableRawPointer(out).copyMemory(from: src, byteCount: byteCount)
            case (2, false):
                Float16Conversion.halfToFloat(src, count: count, into: out)
            case (2, true):
                for i in 0..<count {
                    out[i] = Float(Float16(bitPattern: UInt16(bigEndian: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))))
                }
            case (4, true):
                for i in 0..<count {
                    out[i] = Float(bitPattern: UInt32(bigEndian: src.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
                }
            default: // 8 bytes
                for i in 0..<count {
                    var bits = src.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)
                    bits = bigEndian ? UInt64(bigEndian: bits) : UInt64(littleEndian: bits)
                    out[i] = Float(Double(bitPattern: bits))
                }
            }
            initialized = count
        }
        return Tensor(shape: shape, storage: values)
    }

    // MARK: Writing

    /// Writes `tensor` as a C-order .npy (version 1.0, or 2.0 if the header needs it).
    public static func write(path: String, tensor: Tensor, dtype: WriteDType = .f32) throws(NPYError) {
        do {
            try encode(tensor, dtype: dtype).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw .io(file: path, detail: "write failed: \(error.localizedDescription)")
        }
    }

    /// The complete file as bytes (exposed so tests can corrupt it surgically).
    public static func encode(_ tensor: Tensor, dtype: WriteDType = .f32) -> Data {
        let shapeText: String
        switch tensor.shape.count {
        case 0: shapeText = "()"
        case 1: shapeText = "(\(tensor.shape[0]),)"
        default: shapeText = "(" + tensor.shape.map(String.init).joined(separator: ", ") + ")"
        }
        let descr = dtype == .f32 ? "<f4" : "<f2"
        let dict = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }"
        // numpy pads with spaces so that the data starts on a 64-byte boundary and the header
        // ends in '\n'. Version 1.0 has a u16 length; fall back to 2.0 (u32) if that overflows.
        func padded(preamble: Int) -> String {
            let total = preamble + dict.utf8.count + 1
            return dict + String(repeating: " ", count: (64 - total % 64) % 64) + "\n"
        }
        var header = padded(preamble: 10)
        let v1 = header.utf8.count <= Int(UInt16.max)
        if !v1 { header = padded(preamble: 12) }

        var out = Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, v1 ? 1 : 2, 0])
        if v1 {
            withUnsafeBytes(of: UInt16(header.utf8.count).littleEndian) { out.append(contentsOf: $0) }
        } else {
            withUnsafeBytes(of: UInt32(header.utf8.count).littleEndian) { out.append(contentsOf: $0) }
        }
        out.append(contentsOf: Array(header.utf8))
        switch dtype {
        case .f32: tensor.storage.withUnsafeBytes { out.append(contentsOf: $0) }
        case .f16: Float16Conversion.floatToHalfBits(tensor.storage).withUnsafeBytes { out.append(contentsOf: $0) }
        }
        return out
    }

    // MARK: Header literal parser

    enum HeaderValue: Equatable { case string(String), bool(Bool), tuple([Int]), other }

    struct HeaderParseError: Error { let message: String }

    /// Parses the restricted Python literal numpy writes: a dict with string keys whose values
    /// are strings, True/False, or tuples of non-negative integers. Anything else (e.g. the list
    /// descr of a structured dtype) is recorded as `.other` and rejected by the caller.
    struct HeaderParser {
        let chars: [Character]
        var i = 0
        init(text: String) { chars = Array(text) }

        mutating func parseDict() throws(HeaderParseError) -> [String: HeaderValue] {
            try expect("{")
            var result: [String: HeaderValue] = [:]
            while true {
                skipSpace()
                if peek() == "}" { i += 1; break }
                let key = try parseString()
                try expect(":")
                result[key] = try parseValue()
                skipSpace()
                if peek() == "," { i += 1; continue }
                try expect("}")
                break
            }
            skipSpace()
            guard i == chars.count else { throw HeaderParseError(message: "unexpected text after the dict") }
            return result
        }

        private mutating func parseValue() throws(HeaderParseError) -> HeaderValue {
            skipSpace()
            switch peek() {
            case "'", "\"": return .string(try parseString())
            case "(": return .tuple(try parseTuple())
            case "T": try keyword("True"); return .bool(true)
            case "F": try keyword("False"); return .bool(false)
            case "[":
                // Structured dtype descr: skip the balanced brackets, report as unsupported.
                var depth = 0
                repeat {
                    guard let c = peek() else { throw HeaderParseError(message: "unterminated list") }
                    if c == "[" { depth += 1 } else if c == "]" { depth -= 1 }
                    i += 1
                } while depth > 0
                return .other
            default: throw HeaderParseError(message: "unexpected value at offset \(i)")
            }
        }

        private mutating func parseString() throws(HeaderParseError) -> String {
            skipSpace()
            guard let quote = peek(), quote == "'" || quote == "\"" else {
                throw HeaderParseError(message: "expected a quoted string at offset \(i)")
            }
            i += 1
            var s = ""
            while let c = peek(), c != quote { s.append(c); i += 1 }
            guard peek() == quote else { throw HeaderParseError(message: "unterminated string") }
            i += 1
            return s
        }

        private mutating func parseTuple() throws(HeaderParseError) -> [Int] {
            try expect("(")
            var dims: [Int] = []
            while true {
                skipSpace()
                if peek() == ")" { i += 1; return dims }
                var digits = ""
                while let c = peek(), c.isASCII, c.isNumber { digits.append(c); i += 1 }
                if peek() == "L" { i += 1 }                      // Python 2 long suffix
                guard let d = Int(digits) else { throw HeaderParseError(message: "shape contains a non-integer at offset \(i)") }
                dims.append(d)
                skipSpace()
                if peek() == "," { i += 1; continue }
                try expect(")")
                return dims
            }
        }

        private mutating func keyword(_ word: String) throws(HeaderParseError) {
            for c in word {
                guard peek() == c else { throw HeaderParseError(message: "expected \(word) at offset \(i)") }
                i += 1
            }
        }

        private mutating func expect(_ c: Character) throws(HeaderParseError) {
            skipSpace()
            guard peek() == c else { throw HeaderParseError(message: "expected '\(c)' at offset \(i)") }
            i += 1
        }

        private mutating func skipSpace() { while let c = peek(), c.isWhitespace { i += 1 } }
        private func peek() -> Character? { i < chars.count ? chars[i] : nil }
    }
}
