import Foundation

/// Element type of a safetensors tensor, by its header name ("F32", "BF16", ...).
///
/// A struct rather than a closed enum so that a file using a dtype this code has never heard of
/// (the format keeps adding FP8/FP4 variants) still opens; only *reading* such a tensor fails.
public struct SafeTensorsDType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    public static let f64 = SafeTensorsDType(rawValue: "F64")
    public static let f32 = SafeTensorsDType(rawValue: "F32")
    public static let f16 = SafeTensorsDType(rawValue: "F16")
    public static let bf16 = SafeTensorsDType(rawValue: "BF16")

    /// Bytes per element for every dtype the format defines; nil if unknown to this build.
    public var byteSize: Int? {
        switch rawValue {
        case "F64", "I64", "U64": return 8
        case "F32", "I32", "U32": return 4
        case "F16", "BF16", "I16", "U16": return 2
        case "I8", "U8", "BOOL", "F8_E4M3", "F8_E5M2": return 1
        default: return nil
        }
    }

    /// Whether `floats(_:)` can convert this dtype to Float32.
    public var isConvertibleToFloat: Bool { self == .f32 || self == .f16 || self == .bf16 || self == .f64 }

    public var description: String { rawValue }
}

/// Everything that can go wrong reading or writing a safetensors file. Every case names the
/// file, and the tensor where one is involved, because the daemon logs these verbatim at
/// startup and an operator must be able to act on them.
public enum SafeTensorsError: Error, Equatable, CustomStringConvertible {
    /// The file could not be opened, mapped or written.
    case io(file: String, detail: String)
    /// The file ends before the header or a tensor's data does.
    case truncated(file: String, detail: String)
    /// The header is not valid safetensors JSON.
    case badHeader(file: String, detail: String)
    /// One tensor's header entry is inconsistent (offsets, shape, byte count, overlap).
    case badTensorEntry(file: String, name: String, detail: String)
    case missingTensor(file: String, name: String)
    case unsupportedDType(file: String, name: String, dtype: String)
    case shapeMismatch(file: String, name: String, expected: [Int], got: [Int])
    /// Writer given inconsistent input.
    case invalidInput(file: String, detail: String)

    public var description: String {
        switch self {
        case let .io(f, d): return "\(f): \(d)"
        case let .truncated(f, d): return "\(f): truncated safetensors file: \(d)"
        case let .badHeader(f, d): return "\(f): invalid safetensors header: \(d)"
        case let .badTensorEntry(f, n, d): return "\(f): tensor '\(n)': \(d)"
        case let .missingTensor(f, n): return "\(f): no tensor named '\(n)'"
        case let .unsupportedDType(f, n, t): return "\(f): tensor '\(n)' has dtype \(t), which cannot be read as Float32 (supported: F32, F16, BF16, F64)"
        case let .shapeMismatch(f, n, e, g): return "\(f): tensor '\(n)' has shape \(g), expected \(e)"
        case let .invalidInput(f, d): return "\(f): cannot write safetensors: \(d)"
        }
    }
}

/// A safetensors file, memory-mapped and fully validated at open.
///
/// Format: 8-byte little-endian header length N, N bytes of UTF-8 JSON
/// `{"name": {"dtype": "F16", "shape": [..], "data_offsets": [begin, end]}, ...,
/// "__metadata__": {"key": "value"}}`, then the data section; offsets are relative to it.
///
/// Validation at open (so that later reads cannot fault or silently misread): header length
/// within the file and ≤ 100 MiB, JSON shape of every entry, non-negative shape and offsets,
/// `begin ≤ end ≤ data size`, `end − begin == elements × dtype size` for known dtypes, and no two
/// tensors overlapping. Gaps between tensors are tolerated.
///
/// Immutable after init, so it may be shared between threads.
public final class SafeTensorsFile: Sendable {
    public struct Entry: Sendable, Equatable {
        public let dtype: SafeTensorsDType
        public let shape: [Int]
        /// Byte range inside the data section.
        public let begin: Int
        public let end: Int
    }

    /// Maximum header size accepted (the reference implementation uses the same bound); guards
    /// against a corrupt length making us parse gigabytes of "JSON".
    public static let maxHeaderBytes = 100 << 20

    public let path: String
    /// String-to-string metadata from `__metadata__` (empty if absent).
    public let metadata: [String: String]
    /// Tensor names in data-offset order.
    public let tensorNames: [String]
    private let entries: [String: Entry]
    private let file: MappedFile
    private let dataStart: Int

    public init(path: String) throws(SafeTensorsError) {
        self.path = path
        do { file = try MappedFile(path: path) } catch { throw .io(file: path, detail: error.description) }
        let bytes = file.bytes
        guard bytes.count >= 8 else {
            throw .truncated(file: path, detail: "file is \(bytes.count) bytes, shorter than the 8-byte header length")
        }
        let headerLength64 = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
        guard headerLength64 <= UInt64(bytes.count - 8) else {
            throw .truncated(file: path, detail: "header length \(headerLength64) exceeds the \(bytes.count - 8) bytes after the length field")
        }
        let headerLength = Int(headerLength64)
        guard headerLength <= Self.maxHeaderBytes else {
            throw .badHeader(file: path, detail: "header length \(headerLength) exceeds the \(Self.maxHeaderBytes)-byte limit")
        }
        guard headerLength >= 2 else { throw .badHeader(file: path, detail: "header length \(headerLength) is too small for a JSON object") }
        dataStart = 8 + headerLength
        let dataSize = bytes.count - dataStart

        let headerData = Data(bytes[8..<dataStart])
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: headerData, options: [])
        } catch {
            throw .badHeader(file: path, detail: "not valid JSON (\(error.localizedDescription))")
        }
        guard let root = json as? [String: Any] else {
            throw .badHeader(file: path, detail: "top level is not a JSON object")
        }

        var metadata: [String: String] = [:]
        var entries: [String: Entry] = [:]
        for (name, value) in root {
            if name == "__metadata__" {
                guard let dict = value as? [String: Any] else {
                    throw .badHeader(file: path, detail: "__metadata__ is not an object")
                }
                for (k, v) in dict {
                    guard let s = v as? String else {
                        throw .badHeader(file: path, detail: "__metadata__ value for '\(k)' is not a string")
                    }
                    metadata[k] = s
                }
                continue
            }
            entries[name] = try Self.parseEntry(name: name, value: value, dataSize: dataSize, path: path)
        }

        // Overlap check over non-empty ranges, in offset order (which is also the natural
        // listing order for `tensorNames`).
        let ordered = entries.sorted { ($0.value.begin, $0.value.end, $0.key) < ($1.value.begin, $1.value.end, $1.key) }
        var previous: (name: String, end: Int)? = nil
        for (name, e) in ordered where e.end > e.begin {
            if let p = previous, e.begin < p.end {
                throw .badTensorEntry(file: path, name: name, detail: "data [\(e.begin), \(e.end)) overlaps tensor '\(p.name)' ending at \(p.end)")
            }
            previous = (name, e.end)
        }
        self.metadata = metadata
        self.entries = entries
        self.tensorNames = ordered.map(\.key)
    }

    /// dtype and shape of a tensor.
    public func info(_ name: String) throws(SafeTensorsError) -> (dtype: SafeTensorsDType, shape: [Int]) {
        let e = try entry(name)
        return (e.dtype, e.shape)
    }

    /// A tensor's elements converted to Float32 (from F32, F16, BF16 or F64), row-major.
    public func floats(_ name: String) throws(SafeTensorsError) -> [Float] {
        let e = try entry(name)
        guard e.dtype.isConvertibleToFloat else {
            throw .unsupportedDType(file: path, name: name, dtype: e.dtype.rawValue)
        }
        let count = (e.end - e.begin) / e.dtype.byteSize!
        if count == 0 { return [] }
        let source = file.bytes.baseAddress! + dataStart + e.begin
        let dtype = e.dtype
        return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            let out = buffer.baseAddress!
            switch dtype {
            case .f32:
                // Little-endian host (asserted in Float16Conversion.swift): a byte copy suffices,
                // and memcpy does not care that the source may be unaligned.
                UnsafeMutableRawPointer(out).copyMemory(from: source, byteCount: count * 4)
            case .f16:
                Float16Conversion.halfToFloat(source, count: count, into: out)
            case .bf16:
                Float16Conversion.bfloat16ToFloat(source, count: count, into: out)
            default: // .f64
                for i in 0..<count {
                    out[i] = Float(source.loadUnaligned(fromByteOffset: 8 * i, as: Double.self))
                }
            }
            initialized = count
        }
    }

    /// A tensor as a `Tensor`, optionally checking its shape first (before any conversion work).
    public func tensor(_ name: String, expectedShape: [Int]? = nil) throws(SafeTensorsError) -> Tensor {
        let e = try entry(name)
        if let expectedShape, expectedShape != e.shape {
            throw .shapeMismatch(file: path, name: name, expected: expectedShape, got: e.shape)
        }
        return Tensor(shape: e.shape, storage: try floats(name))
    }

    /// Zero-copy access to a tensor's raw bytes (valid only inside `body`).
    public func withRawBytes<R>(_ name: String, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        let e = try entry(name)
        let start = file.bytes.baseAddress.map { $0 + dataStart + e.begin }
        return try body(UnsafeRawBufferPointer(start: start, count: e.end - e.begin))
    }

    public func contains(_ name: String) -> Bool { entries[name] != nil }

    private func entry(_ name: String) throws(SafeTensorsError) -> Entry {
        guard let e = entries[name] else { throw .missingTensor(file: path, name: name) }
        return e
    }

    // MARK: Header parsing

    private static func parseEntry(name: String, value: Any, dataSize: Int, path: String) throws(SafeTensorsError) -> Entry {
        func bad(_ detail: String) -> SafeTensorsError { .badTensorEntry(file: path, name: name, detail: detail) }
        guard let dict = value as? [String: Any] else { throw bad("header entry is not an object") }
        guard let dtypeName = dict["dtype"] as? String else { throw bad("missing or non-string 'dtype'") }
        guard let shapeAny = dict["shape"] as? [Any] else { throw bad("missing or non-array 'shape'") }
        guard let offsetsAny = dict["data_offsets"] as? [Any] else { throw bad("missing or non-array 'data_offsets'") }
        var shape: [Int] = []
        for d in shapeAny {
            guard let v = jsonInteger(d), v >= 0 else { throw bad("shape \(shapeAny) has a non-integer or negative dimension") }
            shape.append(v)
        }
        guard offsetsAny.count == 2, let begin = jsonInteger(offsetsAny[0]), let end = jsonInteger(offsetsAny[1]) else {
            throw bad("'data_offsets' must be two integers, got \(offsetsAny)")
        }
        guard begin >= 0, begin <= end else { throw bad("data_offsets [\(begin), \(end)] are not ordered non-negative integers") }
        guard end <= dataSize else {
            throw .truncated(file: path, detail: "tensor '\(name)' data ends at byte \(end) of the data section, which holds only \(dataSize) bytes")
        }
        let dtype = SafeTensorsDType(rawValue: dtypeName)
        if let size = dtype.byteSize {
            guard let count = Tensor.elementCount(of: shape),
                  case let (bytes, overflow) = count.multipliedReportingOverflow(by: size), !overflow else {
                throw bad("shape \(shape) is too large")
            }
            guard bytes == end - begin else {
                throw bad("shape \(shape) × \(dtypeName) (\(size) bytes) needs \(bytes) bytes but data_offsets span \(end - begin)")
            }
        }
        return Entry(dtype: dtype, shape: shape, begin: begin, end: end)
    }

    /// JSONSerialization yields NSNumber for every JSON number *and* boolean, and `as? Int` /
    /// `is Bool` bridge between them (0 and 1 are "Bool"s). The objCType tells them apart:
    /// "c" is a boolean. Integral doubles (`4.0`) are accepted; fractions are not.
    static func jsonInteger(_ value: Any) -> Int? {
        guard let n = value as? NSNumber else { return nil }
        if String(cString: n.objCType) == "c" { return nil }
        let d = n.doubleValue
        guard d.rounded() == d, abs(d) < 9.0e15 else { return nil }
        return n.intValue
    }
}
