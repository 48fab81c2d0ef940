// A small, strict RFC 8259 JSON reader over UTF-8 bytes.
//
// Strictness (all rejected): invalid UTF-8 (overlong forms, UTF-8-encoded surrogates, > U+10FFFF,
// truncated sequences), raw control characters in strings, lone or mis-ordered UTF-16 surrogate
// escapes, invalid escapes, leading zeros, `+1`, `.5`, `1.`, `NaN`/`Infinity` and other bare words,
// numbers that overflow a double, trailing commas, duplicate object keys (compared after
// unescaping), a byte-order mark, anything after the top-level value except whitespace, and
// nesting deeper than `maxDepth` (a scalar at top level is depth 0, `[]` is depth 1).

/// A JSON syntax error with the byte offset where it was detected.
public struct JSONError: Error, Sendable, Equatable, CustomStringConvertible {
    public var offset: Int
    public var message: String

    public init(offset: Int, message: String) {
        self.offset = offset
        self.message = message
    }

    public var description: String { "\(message) at byte \(offset)" }
}

/// Generic strict JSON reader producing `JSONValue`. Used for output messages and tools; the
/// sample-header hot path uses the same scanner through `SampleDecoder` without building values.
public struct JSONReader: Sendable {
    /// Maximum container nesting depth.
    public var maxDepth: Int
    /// Maximum input size in bytes.
    public var maxBytes: Int

    public init(maxDepth: Int = 64, maxBytes: Int = 1 << 20) {
        self.maxDepth = maxDepth
        self.maxBytes = maxBytes
    }

    public func parse(_ bytes: [UInt8]) throws(JSONError) -> JSONValue {
        let r: Result<JSONValue, JSONError> = bytes.withUnsafeBytes { raw in
            do throws(JSONError) { return .success(try parse(raw)) } catch { return .failure(error) }
        }
        return try r.get()
    }

    public func parse(_ text: String) throws(JSONError) -> JSONValue {
        try parse(Array(text.utf8))
    }

    public func parse(_ raw: UnsafeRawBufferPointer) throws(JSONError) -> JSONValue {
        guard raw.count <= maxBytes else { throw JSONError(offset: maxBytes, message: "input larger than \(maxBytes) bytes") }
        guard let base = raw.baseAddress, raw.count > 0 else { throw JSONError(offset: 0, message: "empty input") }
        var s = JSONScanner(base: base.assumingMemoryBound(to: UInt8.self), count: raw.count, maxDepth: maxDepth)
        s.skipWhitespace()
        let v = try s.parseValue(depth: 0)
        try s.expectEnd()
        return v
    }
}

// MARK: - Scanner core

struct JSONStringToken {
    /// Content range (without the quotes).
    var start: Int
    var end: Int
    var hasEscapes: Bool
}

struct JSONNumberToken {
    var start: Int
    var end: Int
    /// No fraction and no exponent part.
    var isInteger: Bool
    var negative: Bool
}

private let asciiQuote: UInt8 = 0x22
private let asciiBackslash: UInt8 = 0x5C

/// Cursor over a UTF-8 byte buffer. Only valid inside the `withUnsafe...` scope that created it.
struct JSONScanner {
    let base: UnsafePointer<UInt8>
    let end: Int
    var pos: Int = 0
    let maxDepth: Int

    init(base: UnsafePointer<UInt8>, count: Int, maxDepth: Int) {
        self.base = base
        self.end = count
        self.maxDepth = maxDepth
    }

    @inline(__always)
    func error(_ message: String) -> JSONError { JSONError(offset: pos, message: message) }

    @inline(__always)
    mutating func skipWhitespace() {
        while pos < end {
            let b = base[pos]
            if b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 { pos += 1 } else { return }
        }
    }

    @inline(__always)
    var atEnd: Bool { pos >= end }

    @inline(__always)
    func peek() -> UInt8? { pos < end ? base[pos] : nil }

    mutating func expectEnd() throws(JSONError) {
        skipWhitespace()
        if pos != end { throw error("unexpected trailing characters") }
    }

    @inline(__always)
    mutating func expect(_ byte: UInt8, _ what: String) throws(JSONError) {
        guard pos < end else { throw error("unexpected end of input, expected \(what)") }
        guard base[pos] == byte else { throw error("expected \(what)") }
        pos += 1
    }

    // MARK: Strings

    /// Scans and validates a string starting at the opening quote; leaves `pos` after the
    /// closing quote.
    mutating func scanString() throws(JSONError) -> JSONStringToken {
        pos += 1
        let start = pos
        var escapes = false
        while true {
            guard pos < end else { throw error("unterminated string") }
            let b = base[pos]
            if b == asciiQuote {
                let t = JSONStringToken(start: start, end: pos, hasEscapes: escapes)
                pos += 1
                return t
            }
            if b == asciiBackslash {
                escapes = true
                try scanEscape()
            } else if b < 0x20 {
                throw error("unescaped control character in string")
            } else if b < 0x80 {
                pos += 1
            } else {
                try scanMultibyte(b)
            }
        }
    }

    @inline(__always)
    private func isCont(_ i: Int) -> Bool { base[i] & 0xC0 == 0x80 }

    private mutating func scanMultibyte(_ b: UInt8) throws(JSONError) {
        let rem = end - pos
        var ok = false
        var len = 0
        switch b {
        case 0xC2...0xDF:
            len = 2
            ok = rem >= 2 && isCont(pos + 1)
        case 0xE0:
            len = 3
            ok = rem >= 3 && (0xA0...0xBF).contains(base[pos + 1]) && isCont(pos + 2)
        case 0xE1...0xEC, 0xEE...0xEF:
            len = 3
            ok = rem >= 3 && isCont(pos + 1) && isCont(pos + 2)
        case 0xED:
            len = 3
            ok = rem >= 3 && (0x80...0x9F).contains(base[pos + 1]) && isCont(pos + 2)
        case 0xF0:
            len = 4
            ok = rem >= 4 && (0x90...0xBF).contains(base[pos + 1]) && isCont(pos + 2) && isCont(pos + 3)
        case 0xF1...0xF3:
            len = 4
            ok = rem >= 4 && isCont(pos + 1) && isCont(pos + 2) && isCont(pos + 3)
        case 0xF4:
            len = 4
            ok = rem >= 4 && (0x80...0x8F).contains(base[pos + 1]) && isCont(pos + 2) && isCont(pos + 3)
        default:
            ok = false
        }
        guard ok else { throw error("invalid UTF-8") }
        pos += len
    }

    @inline(__always)
    private func hexValue(_ b: UInt8) -> UInt32? {
        switch b {
        case 0x30...0x39: return UInt32(b - 0x30)
        case 0x41...0x46: return UInt32(b - 0x41 + 10)
        case 0x61...0x66: return UInt32(b - 0x61 + 10)
        default: return nil
        }
    }

    /// Reads `\uXXXX` at `pos` (pointing at the backslash) without moving.
    private func readU16(at i: Int) -> UInt32? {
        guard i + 6 <= end, base[i] == asciiBackslash, base[i + 1] == UInt8(ascii: "u") else { return nil }
        guard let a = hexValue(base[i + 2]), let b = hexValue(base[i + 3]),
              let c = hexValue(base[i + 4]), let d = hexValue(base[i + 5]) else { return nil }
        return a << 12 | b << 8 | c << 4 | d
    }

    private mutating func scanEscape() throws(JSONError) {
        guard pos + 1 < end else { throw error("unterminated escape") }
        switch base[pos + 1] {
        case asciiQuote, asciiBackslash, UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
             UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
            pos += 2
        case UInt8(ascii: "u"):
            guard let u = readU16(at: pos) else { throw error("invalid \\u escape") }
            if u >= 0xD800 && u <= 0xDBFF {
                guard let lo = readU16(at: pos + 6), lo >= 0xDC00 && lo <= 0xDFFF else {
                    throw error("lone high surrogate escape")
                }
                pos += 12
            } else if u >= 0xDC00 && u <= 0xDFFF {
                throw error("lone low surrogate escape")
            } else {
                pos += 6
            }
        default:
            throw error("invalid escape")
        }
    }

    /// Appends the unescaped UTF-8 bytes of a validated token.
    func appendDecoded(_ t: JSONStringToken, to out: inout [UInt8]) {
        var i = t.start
        while i < t.end {
            let b = base[i]
            if b != asciiBackslash {
                out.append(b)
                i += 1
                continue
            }
            let c = base[i + 1]
            switch c {
            case UInt8(ascii: "b"): out.append(0x08); i += 2
            case UInt8(ascii: "f"): out.append(0x0C); i += 2
            case UInt8(ascii: "n"): out.append(0x0A); i += 2
            case UInt8(ascii: "r"): out.append(0x0D); i += 2
            case UInt8(ascii: "t"): out.append(0x09); i += 2
            case UInt8(ascii: "u"):
                var scalar = readU16(at: i)!
                i += 6
                if scalar >= 0xD800 && scalar <= 0xDBFF {
                    let lo = readU16(at: i)!
                    i += 6
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (lo - 0xDC00)
                }
                appendUTF8(scalar, to: &out)
            default: out.append(c); i += 2 // " \ /
            }
        }
    }

    @inline(__always)
    private func appendUTF8(_ s: UInt32, to out: inout [UInt8]) {
        switch s {
        case 0..<0x80:
            out.append(UInt8(s))
        case 0x80..<0x800:
            out.append(UInt8(0xC0 | (s >> 6)))
            out.append(UInt8(0x80 | (s & 0x3F)))
        case 0x800..<0x10000:
            out.append(UInt8(0xE0 | (s >> 12)))
            out.append(UInt8(0x80 | ((s >> 6) & 0x3F)))
            out.append(UInt8(0x80 | (s & 0x3F)))
        default:
            out.append(UInt8(0xF0 | (s >> 18)))
            out.append(UInt8(0x80 | ((s >> 12) & 0x3F)))
            out.append(UInt8(0x80 | ((s >> 6) & 0x3F)))
            out.append(UInt8(0x80 | (s & 0x3F)))
        }
    }

    func string(_ t: JSONStringToken) -> String {
        if !t.hasEscapes {
            return String(decoding: UnsafeBufferPointer(start: base + t.start, count: t.end - t.start), as: UTF8.self)
        }
        var out: [UInt8] = []
        out.reserveCapacity(t.end - t.start)
        appendDecoded(t, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Decoded byte length (cheap when there are no escapes).
    func decodedLength(_ t: JSONStringToken) -> Int {
        if !t.hasEscapes { return t.end - t.start }
        var out: [UInt8] = []
        appendDecoded(t, to: &out)
        return out.count
    }

    /// Compares a token's decoded content with raw bytes.
    func equals(_ t: JSONStringToken, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        if !t.hasEscapes {
            let n = t.end - t.start
            guard n == bytes.count else { return false }
            var i = 0
            while i < n {
                if base[t.start + i] != bytes[i] { return false }
                i += 1
            }
            return true
        }
        var out: [UInt8] = []
        appendDecoded(t, to: &out)
        return out.elementsEqual(bytes)
    }

    func tokensEqual(_ a: JSONStringToken, _ b: JSONStringToken) -> Bool {
        if !a.hasEscapes && !b.hasEscapes {
            let n = a.end - a.start
            guard n == b.end - b.start else { return false }
            return memcmpEqual(base + a.start, base + b.start, n)
        }
        var x: [UInt8] = [], y: [UInt8] = []
        appendDecoded(a, to: &x)
        appendDecoded(b, to: &y)
        return x == y
    }

    @inline(__always)
    private func memcmpEqual(_ p: UnsafePointer<UInt8>, _ q: UnsafePointer<UInt8>, _ n: Int) -> Bool {
        var i = 0
        while i < n {
            if p[i] != q[i] { return false }
            i += 1
        }
        return true
    }

    // MARK: Numbers

    /// Scans a number (grammar only) starting at `pos`.
    mutating func scanNumber() throws(JSONError) -> JSONNumberToken {
        let start = pos
        var negative = false
        if base[pos] == UInt8(ascii: "-") {
            negative = true
            pos += 1
        }
        guard pos < end else { throw error("invalid number") }
        let first = base[pos]
        if first == UInt8(ascii: "0") {
            pos += 1
        } else if first >= UInt8(ascii: "1") && first <= UInt8(ascii: "9") {
            pos += 1
            while pos < end && isDigit(base[pos]) { pos += 1 }
        } else {
            throw error("invalid number")
        }
        var isInteger = true
        var hasExponent = false
        if pos < end && base[pos] == UInt8(ascii: ".") {
            isInteger = false
            pos += 1
            guard pos < end && isDigit(base[pos]) else { throw error("invalid number: digit expected after '.'") }
            while pos < end && isDigit(base[pos]) { pos += 1 }
        }
        if pos < end && (base[pos] == UInt8(ascii: "e") || base[pos] == UInt8(ascii: "E")) {
            isInteger = false
            hasExponent = true
            pos += 1
            if pos < end && (base[pos] == UInt8(ascii: "+") || base[pos] == UInt8(ascii: "-")) { pos += 1 }
            guard pos < end && isDigit(base[pos]) else { throw error("invalid number: digit expected in exponent") }
            while pos < end && isDigit(base[pos]) { pos += 1 }
        }
        let t = JSONNumberToken(start: start, end: pos, isInteger: isInteger, negative: negative)
        // Reject numbers that overflow a double (e.g. 1e400). Without an exponent only a
        // literal of more than 309 digits can overflow.
        if hasExponent || pos - start > 300 {
            guard double(t).isFinite else {
                pos = start
                throw error("number out of range")
            }
        }
        return t
    }

    @inline(__always)
    private func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }

    /// Magnitude of an integer token, or nil if it has a fraction/exponent or exceeds UInt64.
    func integerMagnitude(_ t: JSONNumberToken) -> UInt64? {
        guard t.isInteger else { return nil }
        var i = t.negative ? t.start + 1 : t.start
        var m: UInt64 = 0
        while i < t.end {
            let (a, o1) = m.multipliedReportingOverflow(by: 10)
            let (b, o2) = a.addingReportingOverflow(UInt64(base[i] &- 0x30))
            if o1 || o2 { return nil }
            m = b
            i += 1
        }
        return m
    }

    /// Correctly rounded double value of a number token (may be ±inf for huge values).
    func double(_ t: JSONNumberToken) -> Double {
        // Clinger's fast path: mantissa < 2^53 and |decimal exponent| <= 22 is exact.
        var i = t.negative ? t.start + 1 : t.start
        var mantissa: UInt64 = 0
        var fracDigits = 0
        var fast = true
        var inFraction = false
        while i < t.end {
            let b = base[i]
            if b == UInt8(ascii: ".") {
                inFraction = true
            } else if b == UInt8(ascii: "e") || b == UInt8(ascii: "E") {
                break
            } else {
                if mantissa > (1 << 53) / 10 {
                    fast = false
                    break
                }
                mantissa = mantissa * 10 + UInt64(b &- 0x30)
                if inFraction { fracDigits += 1 }
            }
            i += 1
        }
        if fast {
            var exp10 = 0
            if i < t.end && (base[i] == UInt8(ascii: "e") || base[i] == UInt8(ascii: "E")) {
                i += 1
                var expNeg = false
                if base[i] == UInt8(ascii: "-") { expNeg = true; i += 1 } else if base[i] == UInt8(ascii: "+") { i += 1 }
                while i < t.end {
                    if exp10 < 100_000 { exp10 = exp10 * 10 + Int(base[i] &- 0x30) }
                    i += 1
                }
                if expNeg { exp10 = -exp10 }
            }
            exp10 -= fracDigits
            if mantissa == 0 {
                return t.negative ? -0.0 : 0.0
            }
            if mantissa <= (1 << 53) && exp10 >= -22 && exp10 <= 22 {
                var v = Double(mantissa)
                if exp10 >= 0 { v *= powersOfTen[exp10] } else { v /= powersOfTen[-exp10] }
                return t.negative ? -v : v
            }
        }
        let text = String(decoding: UnsafeBufferPointer(start: base + t.start, count: t.end - t.start), as: UTF8.self)
        return Double(text) ?? .nan
    }

    // MARK: Literals and values

    mutating func literal(_ word: StaticString) throws(JSONError) {
        let n = word.utf8CodeUnitCount
        let w = word.utf8Start
        guard pos + n <= end else { throw error("invalid literal") }
        for k in 0..<n where base[pos + k] != w[k] { throw error("invalid literal") }
        pos += n
    }

    /// Validates and skips one value (objects are checked for duplicate keys).
    mutating func skipValue(depth: Int) throws(JSONError) {
        guard pos < end else { throw error("unexpected end of input, expected a value") }
        switch base[pos] {
        case asciiQuote: _ = try scanString()
        case UInt8(ascii: "{"): try skipObject(depth: depth + 1)
        case UInt8(ascii: "["): try skipArray(depth: depth + 1)
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): _ = try scanNumber()
        default: throw error("unexpected character, expected a value")
        }
    }

    private mutating func skipArray(depth: Int) throws(JSONError) {
        guard depth <= maxDepth else { throw error("nesting deeper than \(maxDepth)") }
        pos += 1
        skipWhitespace()
        if peek() == UInt8(ascii: "]") { pos += 1; return }
        while true {
            skipWhitespace()
            try skipValue(depth: depth)
            skipWhitespace()
            guard let b = peek() else { throw error("unterminated array") }
            pos += 1
            if b == UInt8(ascii: "]") { return }
            guard b == UInt8(ascii: ",") else { pos -= 1; throw error("expected ',' or ']'") }
        }
    }

    private mutating func skipObject(depth: Int) throws(JSONError) {
        guard depth <= maxDepth else { throw error("nesting deeper than \(maxDepth)") }
        pos += 1
        skipWhitespace()
        if peek() == UInt8(ascii: "}") { pos += 1; return }
        var keys = DuplicateKeyChecker()
        while true {
            skipWhitespace()
            guard peek() == asciiQuote else { throw error("expected a string key") }
            let keyPos = pos
            let key = try scanString()
            if !keys.insert(key, scanner: self) { pos = keyPos; throw error("duplicate key") }
            skipWhitespace()
            try expect(UInt8(ascii: ":"), "':'")
            skipWhitespace()
            try skipValue(depth: depth)
            skipWhitespace()
            guard let b = peek() else { throw error("unterminated object") }
            pos += 1
            if b == UInt8(ascii: "}") { return }
            guard b == UInt8(ascii: ",") else { pos -= 1; throw error("expected ',' or '}'") }
        }
    }

    /// Parses one value into a `JSONValue`.
    mutating func parseValue(depth: Int) throws(JSONError) -> JSONValue {
        guard pos < end else { throw error("unexpected end of input, expected a value") }
        switch base[pos] {
        case asciiQuote:
            return .string(string(try scanString()))
        case UInt8(ascii: "{"):
            return try parseObject(depth: depth + 1)
        case UInt8(ascii: "["):
            return try parseArray(depth: depth + 1)
        case UInt8(ascii: "t"):
            try literal("true"); return .bool(true)
        case UInt8(ascii: "f"):
            try literal("false"); return .bool(false)
        case UInt8(ascii: "n"):
            try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            let t = try scanNumber()
            if let m = integerMagnitude(t) {
                if !t.negative && m <= UInt64(Int64.max) { return .int(Int64(m)) }
                if t.negative && m <= UInt64(Int64.max) + 1 { return .int(m == UInt64(Int64.max) + 1 ? Int64.min : -Int64(m)) }
            }
            return .double(double(t))
        default:
            throw error("unexpected character, expected a value")
        }
    }

    private mutating func parseArray(depth: Int) throws(JSONError) -> JSONValue {
        guard depth <= maxDepth else { throw error("nesting deeper than \(maxDepth)") }
        pos += 1
        skipWhitespace()
        var items: [JSONValue] = []
        if peek() == UInt8(ascii: "]") { pos += 1; return .array(items) }
        while true {
            skipWhitespace()
            items.append(try parseValue(depth: depth))
            skipWhitespace()
            guard let b = peek() else { throw error("unterminated array") }
            pos += 1
            if b == UInt8(ascii: "]") { return .array(items) }
            guard b == UInt8(ascii: ",") else { pos -= 1; throw error("expected ',' or ']'") }
        }
    }

    private mutating func parseObject(depth: Int) throws(JSONError) -> JSONValue {
        guard depth <= maxDepth else { throw error("nesting deeper than \(maxDepth)") }
        pos += 1
        skipWhitespace()
        var members: [JSONMember] = []
        if peek() == UInt8(ascii: "}") { pos += 1; return .object(members) }
        var seen: Set<String>? = nil
        while true {
            skipWhitespace()
            guard peek() == asciiQuote else { throw error("expected a string key") }
            let keyPos = pos
            let key = string(try scanString())
            // Linear scan for small objects, a set beyond that.
            if members.count < 8 {
                for m in members where m.key == key { pos = keyPos; throw error("duplicate key") }
            } else {
                if seen == nil { seen = Set(members.map(\.key)) }
                if !seen!.insert(key).inserted { pos = keyPos; throw error("duplicate key") }
            }
            skipWhitespace()
            try expect(UInt8(ascii: ":"), "':'")
            skipWhitespace()
            members.append(JSONMember(key, try parseValue(depth: depth)))
            skipWhitespace()
            guard let b = peek() else { throw error("unterminated object") }
            pos += 1
            if b == UInt8(ascii: "}") { return .object(members) }
            guard b == UInt8(ascii: ",") else { pos -= 1; throw error("expected ',' or '}'") }
        }
    }
}

/// Duplicate detection for object keys while skipping: linear over tokens for small objects,
/// a set of decoded keys beyond that.
struct DuplicateKeyChecker {
    private var tokens: [JSONStringToken] = []
    private var set: Set<[UInt8]>? = nil

    /// Returns false if `key` was already present.
    mutating func insert(_ key: JSONStringToken, scanner: JSONScanner) -> Bool {
        if set == nil && tokens.count < 8 {
            for t in tokens where scanner.tokensEqual(t, key) { return false }
            tokens.append(key)
            return true
        }
        if set == nil {
            var s = Set<[UInt8]>()
            for t in tokens {
                var b: [UInt8] = []
                scanner.appendDecoded(t, to: &b)
                s.insert(b)
            }
            set = s
        }
        var b: [UInt8] = []
        scanner.appendDecoded(key, to: &b)
        return set!.insert(b).inserted
    }
}

private let powersOfTen: [Double] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
]
