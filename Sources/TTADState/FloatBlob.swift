import Foundation

/// Encoding of float tensors and integrity checksums for the blobs stored in the state database.
///
/// Prompt tensors are stored as raw little-endian IEEE-754 binary32, 4 bytes per element, with no
/// header: the shape and name live in their own columns. Raw bit patterns (not a text or JSON
/// encoding) are used so that a restore is *bitwise* identical — negative zero, subnormals and NaN
/// payloads all survive — and so the file is portable between little- and big-endian hosts.
///
/// Every blob also carries a CRC-32 (IEEE 802.3 polynomial). SQLite checksums neither pages nor
/// values, and a service that runs for months on commodity disks should notice a flipped bit in a
/// checkpoint instead of silently resuming from it.
public enum FloatBlob {
    /// Error raised when a stored blob cannot be decoded.
    public struct DecodingError: Error, CustomStringConvertible, Sendable {
        public let byteCount: Int
        public var description: String {
            "float32 blob of \(byteCount) bytes is not a multiple of 4 bytes"
        }
    }

    /// Encodes `values` as little-endian float32 bytes.
    public static func encode(_ values: [Float]) -> [UInt8] {
        let byteCount = values.count * MemoryLayout<UInt32>.size
        if isLittleEndianHost {
            // Fast path: the in-memory representation already is the on-disk one.
            return values.withUnsafeBytes { Array($0) }
        }
        var out = [UInt8](repeating: 0, count: byteCount)
        out.withUnsafeMutableBytes { raw in
            for (i, v) in values.enumerated() {
                raw.storeBytes(of: v.bitPattern.littleEndian, toByteOffset: i * 4, as: UInt32.self)
            }
        }
        return out
    }

    /// Decodes little-endian float32 bytes. Throws if the byte count is not a multiple of 4.
    public static func decode(_ bytes: [UInt8]) throws -> [Float] {
        try bytes.withUnsafeBytes { try decode(UnsafeRawBufferPointer($0)) }
    }

    /// Decodes little-endian float32 bytes from raw memory.
    public static func decode(_ raw: UnsafeRawBufferPointer) throws -> [Float] {
        guard raw.count % 4 == 0 else { throw DecodingError(byteCount: raw.count) }
        let count = raw.count / 4
        return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            for i in 0..<count {
                // loadUnaligned: SQLite blob memory carries no alignment guarantee.
                let bits = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self))
                buffer[i] = Float(bitPattern: bits)
            }
            initialized = count
        }
    }

    private static let isLittleEndianHost: Bool = UInt32(1).littleEndian == 1
}

/// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), the same checksum as zlib's `crc32`.
///
/// Table-driven, one byte per step: fast enough for checkpoint-sized blobs (hundreds of MB/s in
/// release builds) and dependency-free.
public enum CRC32 {
    private static let table: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 {
            c = (c & 1) != 0 ? (0xEDB8_8320 ^ (c >> 1)) : (c >> 1)
        }
        return c
    }

    /// The CRC-32 of `bytes`.
    public static func checksum(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { checksum(UnsafeRawBufferPointer($0)) }
    }

    /// The CRC-32 of the bytes in `raw`.
    public static func checksum(_ raw: UnsafeRawBufferPointer) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        table.withUnsafeBufferPointer { t in
            for byte in raw {
                crc = t[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8)
            }
        }
        return crc ^ 0xFFFF_FFFF
    }
}
