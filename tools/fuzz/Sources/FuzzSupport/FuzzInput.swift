/// Reads a fuzzer's byte string as a sequence of fields, so one input can carry several frames.
///
/// Layout, chosen so that libFuzzer's mutations of the length bytes stay meaningful: a field is
/// a little-endian 16-bit length followed by that many bytes (clamped to what is left); the last
/// field takes the rest. Short inputs give empty fields rather than failing, so every byte
/// string is a valid input.
public struct FuzzInput {
    private let bytes: UnsafeBufferPointer<UInt8>
    private var offset = 0

    public init(_ data: UnsafePointer<UInt8>?, _ size: Int) {
        bytes = UnsafeBufferPointer(start: size > 0 ? data : nil, count: size)
    }

    public var remaining: Int { bytes.count - offset }

    /// One byte, or 0 when the input is exhausted.
    public mutating func byte() -> UInt8 {
        guard offset < bytes.count else { return 0 }
        defer { offset += 1 }
        return bytes[offset]
    }

    /// A length-prefixed field.
    public mutating func field() -> [UInt8] {
        let n = Int(byte()) | Int(byte()) << 8
        return take(n)
    }

    /// Up to `n` bytes.
    public mutating func take(_ n: Int) -> [UInt8] {
        let k = min(n, remaining)
        defer { offset += k }
        return Array(bytes[offset..<(offset + k)])
    }

    /// Everything that is left.
    public mutating func rest() -> [UInt8] { take(remaining) }

    /// Encodes fields in this layout (for seed corpora): every field but the last is prefixed.
    public static func encode(_ fields: [[UInt8]]) -> [UInt8] {
        var out: [UInt8] = []
        for (i, f) in fields.enumerated() {
            if i < fields.count - 1 {
                precondition(f.count <= 0xFFFF, "field longer than 65535 bytes")
                out.append(UInt8(f.count & 0xFF))
                out.append(UInt8(f.count >> 8))
            }
            out += f
        }
        return out
    }
}

/// Stops the fuzzer with the property that failed (libFuzzer records the input as a crash).
public func fuzzCheck(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
                      file: StaticString = #fileID, line: UInt = #line) {
    if !condition() { fatalError("fuzz property violated: \(message())", file: file, line: line) }
}
