import Foundation

/// The binary part of a state archive: float tensors, integer arrays and byte strings, in the order the encoder
/// met them, stored raw (little-endian IEEE-754), so a restore is bitwise what was saved.
enum ArchiveBlob: Equatable {
    case f32([Float])
    case f64([Double])
    case i64([Int])
    case bytes([UInt8])

    /// The dtype name in the archive's directory.
    var dtype: String {
        switch self {
        case .f32: return "F32"
        case .f64: return "F64"
        case .i64: return "I64"
        case .bytes: return "U8"
        }
    }

    /// Elements (floats, doubles or bytes).
    var count: Int {
        switch self {
        case .f32(let v): return v.count
        case .f64(let v): return v.count
        case .i64(let v): return v.count
        case .bytes(let v): return v.count
        }
    }

    static func elementSize(_ dtype: String) -> Int? {
        switch dtype {
        case "F32": return 4
        case "F64", "I64": return 8
        case "U8": return 1
        default: return nil
        }
    }

    func append(to out: inout [UInt8]) {
        switch self {
        case .f32(let v):
            if isLittleEndianHost { v.withUnsafeBytes { out.append(contentsOf: $0) } } else {
                for x in v { withUnsafeBytes(of: x.bitPattern.littleEndian) { out.append(contentsOf: $0) } }
            }
        case .f64(let v):
            if isLittleEndianHost { v.withUnsafeBytes { out.append(contentsOf: $0) } } else {
                for x in v { withUnsafeBytes(of: x.bitPattern.littleEndian) { out.append(contentsOf: $0) } }
            }
        case .i64(let v):
            for x in v { withUnsafeBytes(of: Int64(x).littleEndian) { out.append(contentsOf: $0) } }
        case .bytes(let v):
            out.append(contentsOf: v)
        }
    }

    /// Reads `count` elements of `dtype` from `raw` (whose length the caller has checked).
    static func read(_ dtype: String, count: Int, from raw: UnsafeRawBufferPointer) -> ArchiveBlob {
        switch dtype {
        case "F32":
            return .f32([Float](unsafeUninitializedCapacity: count) { b, n in
                // loadUnaligned: the data part carries no alignment guarantee.
                for i in 0..<count { b[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self))) }
                n = count
            })
        case "F64":
            return .f64([Double](unsafeUninitializedCapacity: count) { b, n in
                for i in 0..<count { b[i] = Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self))) }
                n = count
            })
        case "I64":
            // Int is 64-bit on every platform ttad builds for; a value that does not fit is
            // clamped rather than trapping (the state's own validation then refuses it).
            return .i64((0..<count).map { i in
                let v = Int64(littleEndian: raw.loadUnaligned(fromByteOffset: i * 8, as: Int64.self))
                return Int(clamping: v)
            })
        default:
            return .bytes(Array(raw.prefix(count)))
        }
    }
}

private let isLittleEndianHost: Bool = UInt32(1).littleEndian == 1
