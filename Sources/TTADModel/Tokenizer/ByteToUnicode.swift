/// GPT-2/CLIP's reversible map from the 256 byte values to printable Unicode scalars.
///
/// Printable Latin-1 bytes ("!"..."~", "¡"..."¬", "®"..."ÿ") map to themselves; the remaining 68
/// bytes (controls, space, DEL, NBSP, soft hyphen) map, in byte order, to U+0100, U+0101, ….
/// BPE symbols are strings over this alphabet, so no vocabulary entry contains whitespace.
enum ByteToUnicode {
    /// `scalars[b]` is the scalar that stands for byte `b`.
    static let scalars: [Unicode.Scalar] = {
        func printable(_ b: Int) -> Bool {
            (0x21...0x7E).contains(b) || (0xA1...0xAC).contains(b) || (0xAE...0xFF).contains(b)
        }
        var table = [Unicode.Scalar](repeating: " ", count: 256)
        var shifted: UInt32 = 256
        for b in 0..<256 {
            if printable(b) {
                table[b] = Unicode.Scalar(UInt8(b))
            } else {
                table[b] = Unicode.Scalar(shifted)!
                shifted += 1
            }
        }
        return table
    }()

    /// The inverse map: scalar value -> byte.
    static let bytes: [UInt32: UInt8] = {
        var inverse: [UInt32: UInt8] = [:]
        for (b, s) in scalars.enumerated() { inverse[s.value] = UInt8(b) }
        return inverse
    }()

    /// The vocabulary spelling of one byte (a one-scalar string).
    static func symbol(forByte byte: UInt8) -> String {
        String(Character(scalars[Int(byte)]))
    }

    /// Bytes spelled by a vocabulary token. Scalars outside the alphabet (not produced by this
    /// tokenizer) contribute their own UTF-8 encoding.
    static func appendBytes(of token: String, to out: inout [UInt8]) {
        for s in token.unicodeScalars {
            if let b = bytes[s.value] {
                out.append(b)
            } else {
                out.append(contentsOf: Array(String(Character(s)).utf8))
            }
        }
    }
}
