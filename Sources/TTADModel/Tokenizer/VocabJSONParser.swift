/// A small, strict parser for `vocab.json`: one JSON object whose values are integers.
///
/// Foundation's JSON parsers take ~0.3 s on CLIP's 49,408-entry file; this one reads the UTF-8
/// bytes directly and reports errors with a line and column. It accepts exactly RFC 8259 JSON of
/// that shape (string escapes including surrogate pairs; a lone surrogate escape is rejected).
/// Values must be integers in Int32 range; a duplicated key keeps its last value, as Python's
/// `json.load` does.
struct VocabJSONParser {
    struct Failure: Error {
        var message: String
    }

    private let bytes: [UInt8]
    private var i = 0

    private init(_ bytes: [UInt8]) { self.bytes = bytes }

    static func parse(_ bytes: [UInt8]) throws(Failure) -> [String: Int32] {
        var parser = VocabJSONParser(bytes)
        return try parser.object()
    }

    // MARK: Grammar

    private mutating func object() throws(Failure) -> [String: Int32] {
        var result: [String: Int32] = [:]
        result.reserveCapacity(bytes.count / 16)
        skipWhitespace()
        try expect(UInt8(ascii: "{"), "expected \"{\" (vocab.json must be one object of token -> id)")
        skipWhitespace()
        if peek == UInt8(ascii: "}") {
            i += 1
        } else {
            while true {
                skipWhitespace()
                guard peek == UInt8(ascii: "\"") else { throw failure("expected a token string") }
                let key = try string()
                skipWhitespace()
                try expect(UInt8(ascii: ":"), "expected \":\"")
                skipWhitespace()
                result[key] = try integer(for: key)
                skipWhitespace()
                if peek == UInt8(ascii: ",") { i += 1; continue }
                try expect(UInt8(ascii: "}"), "expected \",\" or \"}\"")
                break
            }
        }
        skipWhitespace()
        if i < bytes.count { throw failure("unexpected data after the object") }
        return result
    }

    private mutating func string() throws(Failure) -> String {
        let start = i
        i += 1  // opening quote
        let contentStart = i
        var hasEscape = false
        while true {
            guard i < bytes.count else { throw failure("unterminated string", at: start) }
            let b = bytes[i]
            if b == UInt8(ascii: "\"") { break }
            if b < 0x20 { throw failure("control character in string") }
            if b == UInt8(ascii: "\\") { hasEscape = true; i += 1 }
            i += 1
        }
        let content = bytes[contentStart..<i]
        i += 1  // closing quote
        if !hasEscape {
            guard let s = String(validating: content, as: UTF8.self) else {
                throw failure("string is not valid UTF-8", at: start)
            }
            return s
        }
        return try unescape(content, at: contentStart)
    }

    private func unescape(_ content: ArraySlice<UInt8>, at offset: Int) throws(Failure) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(content.count)
        var j = content.startIndex
        func hex4(_ at: Int) throws(Failure) -> UInt32 {
            guard at + 4 <= content.endIndex else { throw failure("truncated \\u escape", at: at) }
            var v: UInt32 = 0
            for k in at..<(at + 4) {
                let c = content[k]
                let d: UInt32
                switch c {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(c - UInt8(ascii: "0"))
                case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(c - UInt8(ascii: "a") + 10)
                case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(c - UInt8(ascii: "A") + 10)
                default: throw failure("bad \\u escape", at: k)
                }
                v = v << 4 | d
            }
            return v
        }
        while j < content.endIndex {
            let b = content[j]
            guard b == UInt8(ascii: "\\") else { out.append(b); j += 1; continue }
            let e = content[j + 1]
            switch e {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var v = try hex4(j + 2)
                if (0xD800...0xDBFF).contains(v) {
                    guard j + 7 < content.endIndex, content[j + 6] == UInt8(ascii: "\\"), content[j + 7] == UInt8(ascii: "u")
                    else { throw failure("unpaired surrogate escape", at: j) }
                    let low = try hex4(j + 8)
                    guard (0xDC00...0xDFFF).contains(low) else { throw failure("unpaired surrogate escape", at: j) }
                    v = 0x10000 + (v - 0xD800) << 10 + (low - 0xDC00)
                    j += 6
                } else if (0xDC00...0xDFFF).contains(v) {
                    throw failure("unpaired surrogate escape", at: j)
                }
                out.append(contentsOf: UTF8.encode(Unicode.Scalar(v)!)!)
                j += 4
            default:
                throw failure("bad escape", at: j)
            }
            j += 2
        }
        guard let s = String(validating: out, as: UTF8.self) else {
            throw failure("string is not valid UTF-8", at: offset)
        }
        return s
    }

    private mutating func integer(for key: String) throws(Failure) -> Int32 {
        let start = i
        if peek == UInt8(ascii: "-") { i += 1 }
        let digitsStart = i
        while i < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[i]) { i += 1 }
        var valid = i > digitsStart && !(bytes[digitsStart] == UInt8(ascii: "0") && i - digitsStart > 1)
        // Fractions and exponents are valid JSON but not ids.
        if i < bytes.count, [UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E")].contains(bytes[i]) { valid = false }
        if !valid {
            while i < bytes.count, ![UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: " "), 0x0A, 0x0D, 0x09].contains(bytes[i]) {
                i += 1
            }
        }
        let text = String(decoding: bytes[start..<i], as: UTF8.self)
        guard valid, let value = Int32(text) else {
            throw failure("id of token \(key.debugDescription) is not an integer: \(text.isEmpty ? "nothing" : text)", at: start)
        }
        return value
    }

    // MARK: Helpers

    private var peek: UInt8? { i < bytes.count ? bytes[i] : nil }

    private mutating func skipWhitespace() {
        while i < bytes.count {
            switch bytes[i] {
            case 0x20, 0x0A, 0x0D, 0x09: i += 1
            default: return
            }
        }
    }

    private mutating func expect(_ byte: UInt8, _ message: String) throws(Failure) {
        guard peek == byte else { throw failure(message) }
        i += 1
    }

    private func failure(_ message: String, at offset: Int? = nil) -> Failure {
        let at = min(offset ?? i, bytes.count)
        var line = 1
        var lineStart = 0
        for k in 0..<at where bytes[k] == 0x0A {
            line += 1
            lineStart = k + 1
        }
        return Failure(message: "line \(line), column \(at - lineStart + 1): \(message)")
    }
}
