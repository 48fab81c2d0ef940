// A small JSON writer appending UTF-8 to a reusable byte buffer.

/// Streaming JSON writer. Call `reset()` to reuse the buffer (capacity is kept, so steady-state
/// encoding does not allocate). Commas and colons are inserted automatically; the caller is
/// responsible for balanced `begin…`/`end…` calls and for writing a key before each object value.
///
/// Numbers: integers exactly; `Double`/`Float` in the shortest form that round-trips to the same
/// value (Swift's `description`, always valid JSON, e.g. `0.1`, `1e-05`, `100.0`); NaN and ±inf
/// are written as `null`. Strings: `"` `\` and U+0000–U+001F are escaped (`\n`, `\t`, … or
/// `\u00XX`), as are U+2028/U+2029 for JavaScript safety; everything else is emitted as UTF-8.
public struct JSONWriter: Sendable {
    public private(set) var bytes: [UInt8]
    /// Bit i set = container at depth i has at least one element (so the next needs a comma).
    private var nonEmpty: UInt64 = 0
    private var depth: Int = 0
    /// Set after a key so the following value does not get a comma.
    private var afterKey = false

    public init(capacity: Int = 512) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// Empties the buffer, keeping its capacity.
    public mutating func reset() {
        bytes.removeAll(keepingCapacity: true)
        nonEmpty = 0
        depth = 0
        afterKey = false
    }

    @inline(__always)
    private mutating func separator() {
        if afterKey {
            afterKey = false
            return
        }
        if depth > 0 {
            let bit: UInt64 = 1 << UInt64(depth & 63)
            if nonEmpty & bit != 0 { bytes.append(UInt8(ascii: ",")) } else { nonEmpty |= bit }
        }
    }

    public mutating func beginObject() {
        separator()
        bytes.append(UInt8(ascii: "{"))
        push()
    }

    public mutating func endObject() {
        pop()
        bytes.append(UInt8(ascii: "}"))
    }

    public mutating func beginArray() {
        separator()
        bytes.append(UInt8(ascii: "["))
        push()
    }

    public mutating func endArray() {
        pop()
        bytes.append(UInt8(ascii: "]"))
    }

    @inline(__always)
    private mutating func push() {
        depth += 1
        precondition(depth < 64, "JSONWriter nesting too deep")
        nonEmpty &= ~(1 << UInt64(depth))
    }

    @inline(__always)
    private mutating func pop() {
        precondition(depth > 0, "unbalanced JSONWriter end")
        depth -= 1
    }

    /// Writes an object key known at compile time. It must be ASCII needing no escapes.
    public mutating func key(static k: StaticString) {
        separator()
        bytes.append(UInt8(ascii: "\""))
        bytes.append(contentsOf: UnsafeBufferPointer(start: k.utf8Start, count: k.utf8CodeUnitCount))
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
        afterKey = true
    }

    /// Writes an arbitrary (escaped) object key.
    public mutating func key(_ k: String) {
        separator()
        appendQuoted(k)
        bytes.append(UInt8(ascii: ":"))
        afterKey = true
    }

    public mutating func string(_ s: String) {
        separator()
        appendQuoted(s)
    }

    /// Writes a JSON string from UTF-8 bytes (must be valid UTF-8).
    public mutating func string(utf8 s: UnsafeBufferPointer<UInt8>) {
        separator()
        appendQuoted(utf8: s)
    }

    public mutating func null() {
        separator()
        appendASCII("null")
    }

    public mutating func bool(_ b: Bool) {
        separator()
        appendASCII(b ? "true" : "false")
    }

    public mutating func int<I: BinaryInteger>(_ v: I) {
        separator()
        if v < 0 {
            bytes.append(UInt8(ascii: "-"))
            appendDecimal(UInt64(v.magnitude))
        } else {
            appendDecimal(UInt64(v))
        }
    }

    public mutating func double(_ d: Double) {
        separator()
        rawDouble(d)
    }

    public mutating func float(_ f: Float) {
        separator()
        rawFloat(f)
    }

    /// Writes a full `JSONValue`.
    public mutating func value(_ v: JSONValue) {
        switch v {
        case .null: null()
        case .bool(let b): bool(b)
        case .int(let i): int(i)
        case .double(let d): double(d)
        case .string(let s): string(s)
        case .array(let items):
            beginArray()
            for item in items { value(item) }
            endArray()
        case .object(let members):
            beginObject()
            for m in members {
                key(m.key)
                value(m.value)
            }
            endObject()
        }
    }

    // MARK: Raw fragments (no separator bookkeeping; for encoders that lay out a fixed schema)

    /// Appends literal JSON text as is (e.g. `,"seq":`). The caller guarantees well-formedness.
    @inline(__always)
    mutating func raw(_ s: StaticString) {
        appendASCII(s)
    }

    /// Appends a quoted, escaped string without separator bookkeeping.
    @inline(__always)
    mutating func rawString(_ s: String) {
        appendQuoted(s)
    }

    @inline(__always)
    mutating func rawUInt(_ v: UInt64) {
        appendDecimal(v)
    }

    @inline(__always)
    mutating func rawInt(_ v: Int) {
        if v < 0 {
            bytes.append(UInt8(ascii: "-"))
            appendDecimal(UInt64(v.magnitude))
        } else {
            appendDecimal(UInt64(v))
        }
    }

    mutating func rawDouble(_ d: Double) {
        guard d.isFinite else { appendASCII("null"); return }
        var sink = ASCIISink(bytes: bytes)
        bytes = []
        d.write(to: &sink)
        bytes = sink.bytes
    }

    mutating func rawFloat(_ f: Float) {
        guard f.isFinite else { appendASCII("null"); return }
        var sink = ASCIISink(bytes: bytes)
        bytes = []
        f.write(to: &sink)
        bytes = sink.bytes
    }

    // MARK: Raw helpers

    @inline(__always)
    private mutating func appendASCII(_ s: StaticString) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }

    private mutating func appendDecimal(_ v: UInt64) {
        if v < 10 {
            bytes.append(UInt8(truncatingIfNeeded: v) &+ 0x30)
            return
        }
        var tmp: (UInt64, UInt64, UInt64) = (0, 0, 0) // 24 bytes >= 20 digits
        withUnsafeMutableBytes(of: &tmp) { raw in
            var i = raw.count
            var x = v
            while x > 0 {
                i -= 1
                raw[i] = UInt8(truncatingIfNeeded: x % 10) &+ 0x30
                x /= 10
            }
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[i...]))
        }
    }

    private mutating func appendQuoted(_ s: String) {
        var s = s
        s.withUTF8 { appendQuoted(utf8: $0) }
    }

    private mutating func appendQuoted(utf8 s: UnsafeBufferPointer<UInt8>) {
        bytes.append(UInt8(ascii: "\""))
        var runStart = 0
        var i = 0
        let n = s.count
        while i < n {
            let b = s[i]
            if b >= 0x20 && b != 0x22 && b != 0x5C && b != 0xE2 {
                i += 1
                continue
            }
            if b == 0xE2 {
                // U+2028 / U+2029 = E2 80 A8 / E2 80 A9
                if i + 2 < n && s[i + 1] == 0x80 && (s[i + 2] == 0xA8 || s[i + 2] == 0xA9) {
                    flush(s, runStart, i)
                    appendASCII(s[i + 2] == 0xA8 ? "\\u2028" : "\\u2029")
                    i += 3
                    runStart = i
                } else {
                    i += 1
                }
                continue
            }
            flush(s, runStart, i)
            switch b {
            case 0x22: appendASCII("\\\"")
            case 0x5C: appendASCII("\\\\")
            case 0x0A: appendASCII("\\n")
            case 0x0D: appendASCII("\\r")
            case 0x09: appendASCII("\\t")
            case 0x08: appendASCII("\\b")
            case 0x0C: appendASCII("\\f")
            default:
                appendASCII("\\u00")
                bytes.append(hexDigit(b >> 4))
                bytes.append(hexDigit(b & 0xF))
            }
            i += 1
            runStart = i
        }
        flush(s, runStart, n)
        bytes.append(UInt8(ascii: "\""))
    }

    @inline(__always)
    private mutating func flush(_ s: UnsafeBufferPointer<UInt8>, _ from: Int, _ to: Int) {
        if to > from { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: s[from..<to])) }
    }

    @inline(__always)
    private func hexDigit(_ v: UInt8) -> UInt8 { v < 10 ? v + 0x30 : v - 10 + UInt8(ascii: "a") }
}

/// Receives the digits of Swift's shortest round-trip float formatting. The standard library
/// hands them to `_writeASCII` as a stack buffer, so no intermediate `String` is created;
/// `write(_:)` is the (correct, slower) fallback.
private struct ASCIISink: TextOutputStream {
    var bytes: [UInt8]

    mutating func write(_ string: String) {
        bytes.append(contentsOf: string.utf8)
    }

    mutating func _writeASCII(_ buffer: UnsafeBufferPointer<UInt8>) {
        bytes.append(contentsOf: buffer)
    }
}
