import Foundation

/// The one format of checkpointed state: any `Codable` value, its float tensors (`[Float]`,
/// `[Double]`), integer arrays (`[Int]`) and byte strings (`Data`) as raw little-endian binary, everything else (scalars,
/// names, structure) as a small JSON part. State types say *what* they save by being `Codable`;
/// this says *how*, the same for every preset and every checkpoint section.
///
/// Layout (all integers little-endian):
///
///     "TTADSTA1"            8 bytes, magic and format version
///     header length H       UInt64
///     header                H bytes of JSON: {"blobs": [[dtype, count], …], "value": …}
///     data                  the blobs back to back: F32 4 bytes, F64 and I64 8 bytes, U8 1 byte each
///
/// In `value` a blob is `{"@blob": index}` and a float scalar is the string of its shortest
/// round-trip text, so every float comes back with the bits it was saved with. The data part must
/// be exactly as long as the directory says: a truncated, padded or garbled archive is refused
/// with a `StateArchiveError`, never half-read.
public enum StateArchive {
    static let magic: [UInt8] = Array("TTADSTA1".utf8)
    /// Upper bound on the JSON part (the tensors are not in it).
    public static let maxHeaderBytes = 64 << 20

    /// Whether `bytes` start like an archive (anything else is a pre-archive JSON section).
    public static func isArchive(_ bytes: some Collection<UInt8>) -> Bool {
        bytes.count >= magic.count && zip(bytes.prefix(magic.count), magic).allSatisfy { $0 == $1 }
    }

    public static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        let sink = ArchiveBlobSink()
        let node = try ArchiveTreeEncoder.encode(value, blobs: sink)
        let enc = JSONEncoder()
        enc.outputFormatting = .sortedKeys
        let header = Array(try enc.encode(ArchiveHeader(blobs: sink.blobs.map { ArchiveHeader.Entry(dtype: $0.dtype, count: $0.count) },
                                                        value: node)))
        var out = magic
        out.reserveCapacity(16 + header.count + sink.byteCount)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: header)
        for b in sink.blobs { b.append(to: &out) }
        return out
    }

    public static func decode<T: Decodable>(_ type: T.Type, from bytes: some Collection<UInt8>) throws -> T {
        let (node, blobs) = try parse(Array(bytes))
        return try ArchiveTreeDecoder.decode(type, from: node, blobs: blobs)
    }

    /// Reads a checkpoint section in either format: an archive, or the JSON every section was
    /// before archives (so a daemon upgraded across the change continues its state; its next
    /// checkpoint is written as an archive).
    public static func decodeSection<T: Decodable>(_ type: T.Type, from bytes: some Collection<UInt8>) throws -> T {
        if isArchive(bytes) { return try decode(type, from: bytes) }
        return try JSONDecoder().decode(type, from: Data(bytes))
    }

    static func parse(_ bytes: [UInt8]) throws -> (ArchiveNode, [ArchiveBlob]) {
        guard isArchive(bytes) else { throw StateArchiveError.notAnArchive }
        guard bytes.count >= 16 else { throw StateArchiveError.truncated("\(bytes.count) bytes, shorter than the 16-byte preamble") }
        let h64 = bytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: 8, as: UInt64.self)) }
        guard h64 <= UInt64(bytes.count - 16) else {
            throw StateArchiveError.truncated("header of \(h64) bytes, but only \(bytes.count - 16) follow the preamble")
        }
        let h = Int(h64)
        guard h <= maxHeaderBytes else { throw StateArchiveError.corrupt("header of \(h) bytes exceeds the \(maxHeaderBytes)-byte limit") }
        let header = try ArchiveHeader(json: Data(bytes[16..<(16 + h)]))
        var offset = 16 + h
        var blobs: [ArchiveBlob] = []
        blobs.reserveCapacity(header.blobs.count)
        try bytes.withUnsafeBytes { raw in
            for (i, e) in header.blobs.enumerated() {
                guard let size = ArchiveBlob.elementSize(e.dtype) else { throw StateArchiveError.corrupt("blob \(i) has unknown dtype \(e.dtype)") }
                let left = raw.count - offset
                guard e.count >= 0, e.count <= left / size else {
                    throw StateArchiveError.truncated("blob \(i) needs \(e.count) × \(size) bytes, \(left) are left")
                }
                let n = e.count * size
                blobs.append(ArchiveBlob.read(e.dtype, count: e.count, from: UnsafeRawBufferPointer(rebasing: raw[offset..<(offset + n)])))
                offset += n
            }
        }
        guard offset == bytes.count else { throw StateArchiveError.corrupt("\(bytes.count - offset) bytes after the last blob") }
        return (header.value, blobs)
    }
}

/// The JSON part of an archive.
struct ArchiveHeader: Encodable {
    struct Entry: Encodable {
        var dtype: String
        var count: Int

        init(dtype: String, count: Int) {
            self.dtype = dtype
            self.count = count
        }

        // [dtype, count]: a compact directory.
        func encode(to encoder: Encoder) throws {
            var c = encoder.unkeyedContainer()
            try c.encode(dtype)
            try c.encode(count)
        }
    }

    var blobs: [Entry]
    var value: ArchiveNode

    init(blobs: [Entry], value: ArchiveNode) {
        self.blobs = blobs
        self.value = value
    }

    init(json: Data) throws {
        let parsed: Any
        do { parsed = try JSONSerialization.jsonObject(with: json) } catch {
            throw StateArchiveError.corrupt("header is not JSON: \(error)")
        }
        guard let top = parsed as? [String: Any], let list = top["blobs"] as? [Any], let value = top["value"] else {
            throw StateArchiveError.corrupt("header is not {\"blobs\": […], \"value\": …}")
        }
        blobs = try list.map { e in
            guard let pair = e as? [Any], pair.count == 2, let dtype = pair[0] as? String,
                  case .int(let count) = try ArchiveNode(parsed: pair[1]) else {
                throw StateArchiveError.corrupt("blob directory entry \(e) is not [dtype, count]")
            }
            guard let c = Int(exactly: count) else { throw StateArchiveError.corrupt("blob count \(count)") }
            return Entry(dtype: dtype, count: c)
        }
        self.value = try ArchiveNode(parsed: value)
    }
}

/// Why an archive cannot be read.
public enum StateArchiveError: Error, CustomStringConvertible, Equatable {
    case notAnArchive
    case truncated(String)
    case corrupt(String)
    /// The archive is well formed but does not hold the type asked for (a field missing or of
    /// another kind, a tensor where a number belongs, a blob index out of range).
    case mismatch(path: String, detail: String)

    public var description: String {
        switch self {
        case .notAnArchive: return "state archive: does not start with the TTADSTA1 magic"
        case .truncated(let d): return "state archive truncated: \(d)"
        case .corrupt(let d): return "state archive corrupt: \(d)"
        case .mismatch(let p, let d): return "state archive does not fit at \(p.isEmpty ? "the top" : p): \(d)"
        }
    }
}
