import CZMQ

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// CURVE key helpers and Z85 (ZeroMQ RFC 32) text encoding.
///
/// A CURVE key is 32 bytes; its Z85 text form is 40 characters. libzmq's C API writes Z85 keys
/// as 41-byte NUL-terminated strings, which is why the buffers below are 41 bytes; the Swift
/// API only ever exposes the 40-character `String`.
public enum ZMQCurve {
    /// Length of a raw CURVE key.
    public static let keyByteCount = 32
    /// Length of a Z85-encoded CURVE key.
    public static let keyZ85Count = 40

    /// `zmq_curve_keypair`: a new long-term key pair, both Z85.
    public static func generateKeyPair() throws -> (publicKey: String, secretKey: String) {
        var publicBuffer = [CChar](repeating: 0, count: keyZ85Count + 1)
        var secretBuffer = [CChar](repeating: 0, count: keyZ85Count + 1)
        guard zmq_curve_keypair(&publicBuffer, &secretBuffer) == 0 else {
            throw ZMQError.last("zmq_curve_keypair")
        }
        defer {
            // Do not leave the secret in a freed heap buffer longer than needed.
            for index in secretBuffer.indices { secretBuffer[index] = 0 }
        }
        return (string(fromZ85Buffer: publicBuffer), string(fromZ85Buffer: secretBuffer))
    }

    /// `zmq_curve_public`: the Z85 public key belonging to a Z85 secret key.
    public static func publicKey(fromSecret secretKey: String) throws -> String {
        _ = try z85KeyBytes(secretKey, what: "CURVE secret key")
        var publicBuffer = [CChar](repeating: 0, count: keyZ85Count + 1)
        guard zmq_curve_public(&publicBuffer, secretKey) == 0 else {
            throw ZMQError.last("zmq_curve_public")
        }
        return string(fromZ85Buffer: publicBuffer)
    }

    /// Decodes Z85 text. The length must be a multiple of 5 (40 characters → 32 bytes); returns
    /// `nil` for a bad length, a character outside the Z85 alphabet, or a 5-character group whose
    /// value exceeds 32 bits.
    public static func z85Decode(_ string: String) -> [UInt8]? {
        let characters = Array(string.utf8)
        guard characters.count % 5 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(characters.count / 5 * 4)
        var index = 0
        while index < characters.count {
            var value: UInt64 = 0
            for offset in 0..<5 {
                let digit = decodeTable[Int(characters[index + offset])]
                guard digit != 0xFF else { return nil }
                value = value * 85 + UInt64(digit)
            }
            guard value <= UInt64(UInt32.max) else { return nil }
            bytes.append(UInt8(truncatingIfNeeded: value >> 24))
            bytes.append(UInt8(truncatingIfNeeded: value >> 16))
            bytes.append(UInt8(truncatingIfNeeded: value >> 8))
            bytes.append(UInt8(truncatingIfNeeded: value))
            index += 5
        }
        return bytes
    }

    /// Encodes bytes as Z85. The length must be a multiple of 4 (32 bytes → 40 characters);
    /// returns `nil` otherwise.
    public static func z85Encode(_ bytes: [UInt8]) -> String? {
        guard bytes.count % 4 == 0 else { return nil }
        var characters: [UInt8] = []
        characters.reserveCapacity(bytes.count / 4 * 5)
        var index = 0
        while index < bytes.count {
            var value = UInt32(bytes[index]) << 24 | UInt32(bytes[index + 1]) << 16
                | UInt32(bytes[index + 2]) << 8 | UInt32(bytes[index + 3])
            var group = [UInt8](repeating: 0, count: 5)
            for offset in stride(from: 4, through: 0, by: -1) {
                group[offset] = alphabet[Int(value % 85)]
                value /= 85
            }
            characters.append(contentsOf: group)
            index += 4
        }
        return String(decoding: characters, as: UTF8.self)
    }

    /// Decodes a Z85 CURVE key to its 32 raw bytes, or throws `EINVAL` naming `what`.
    static func z85KeyBytes(_ key: String, what: String) throws -> [UInt8] {
        guard key.utf8.count == keyZ85Count, let bytes = z85Decode(key) else {
            throw ZMQError(code: EINVAL,
                           operation: "\(what): expected \(keyZ85Count) Z85 characters")
        }
        return bytes
    }

    /// Whether `key` is a well-formed 40-character Z85 CURVE key.
    public static func isValidKey(_ key: String) -> Bool {
        key.utf8.count == keyZ85Count && z85Decode(key) != nil
    }

    private static func string(fromZ85Buffer buffer: [CChar]) -> String {
        let bytes = buffer.prefix(keyZ85Count).map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The 85 characters of the Z85 alphabet, in digit order (RFC 32).
    private static let alphabet: [UInt8] = Array(
        "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#".utf8)

    /// Byte → digit value, 0xFF for bytes outside the alphabet.
    private static let decodeTable: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (digit, character) in alphabet.enumerated() { table[Int(character)] = UInt8(digit) }
        return table
    }()
}
