/// A small DEFLATE/gzip decoder (RFC 1951/1952). The Debian package `dataset-fashion-mnist` ships
/// only `.gz` IDX files, Foundation on Linux has no gzip API, and a zlib shim would be one more
/// system library for four files read once; a canonical-Huffman inflater is about 200 lines.
/// It favours clarity over speed (bit-serial decoding): the 7.8 MB test split inflates in well
/// under a second in release builds.
public enum GzipError: Error, Equatable, CustomStringConvertible {
    case notGzip
    case unsupportedMethod(UInt8)
    case truncated
    case corrupt(String)
    case checksumMismatch

    public var description: String {
        switch self {
        case .notGzip: return "not a gzip stream (bad magic)"
        case .unsupportedMethod(let m): return "unsupported gzip compression method \(m)"
        case .truncated: return "gzip stream is truncated"
        case .corrupt(let why): return "corrupt deflate data: \(why)"
        case .checksumMismatch: return "gzip CRC-32 or length mismatch"
        }
    }
}

public enum Gzip {
    /// True when the bytes start with the gzip magic 1f 8b.
    public static func isGzip(_ data: [UInt8]) -> Bool {
        data.count >= 2 && data[0] == 0x1F && data[1] == 0x8B
    }

    /// Decompresses every member of a gzip file, checking each member's CRC-32 and length.
    public static func decompress(_ data: [UInt8]) throws -> [UInt8] {
        var out: [UInt8] = []
        var pos = 0
        repeat {
            guard data.count - pos >= 18 else { throw GzipError.truncated }
            guard data[pos] == 0x1F, data[pos + 1] == 0x8B else { throw GzipError.notGzip }
            guard data[pos + 2] == 8 else { throw GzipError.unsupportedMethod(data[pos + 2]) }
            let flags = data[pos + 3]
            pos += 10
            if flags & 4 != 0 {  // FEXTRA
                guard pos + 2 <= data.count else { throw GzipError.truncated }
                pos += 2 + Int(data[pos]) | Int(data[pos + 1]) << 8
            }
            for bit in [UInt8(8), 16] where flags & bit != 0 {  // FNAME, FCOMMENT: zero-terminated
                while pos < data.count && data[pos] != 0 { pos += 1 }
                pos += 1
            }
            if flags & 2 != 0 { pos += 2 }  // FHCRC
            guard pos <= data.count else { throw GzipError.truncated }
            let start = out.count
            var inflater = Inflater(data, position: pos)
            try inflater.run(into: &out)
            pos = inflater.bytePosition
            guard pos + 8 <= data.count else { throw GzipError.truncated }
            func le32(_ p: Int) -> UInt32 {
                UInt32(data[p]) | UInt32(data[p + 1]) << 8 | UInt32(data[p + 2]) << 16 | UInt32(data[p + 3]) << 24
            }
            let crc = crc32(out[start...])
            guard le32(pos) == crc, le32(pos + 4) == UInt32(truncatingIfNeeded: out.count - start) else {
                throw GzipError.checksumMismatch
            }
            pos += 8
        } while pos + 2 <= data.count && data[pos] == 0x1F && data[pos + 1] == 0x8B
        return out
    }

    private static let crcTable: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    public static func crc32(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        crcTable.withUnsafeBufferPointer { t in
            for b in bytes { c = t[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        }
        return c ^ 0xFFFF_FFFF
    }
}

/// Canonical Huffman code: number of codes per length and symbols ordered by code.
private struct Huffman {
    var count = [Int](repeating: 0, count: 16)
    var symbol: [Int]

    init(lengths: ArraySlice<Int>) throws {
        symbol = [Int](repeating: 0, count: lengths.count)
        for l in lengths { count[l] += 1 }
        count[0] = 0
        var left = 1
        for len in 1..<16 {
            left <<= 1
            left -= count[len]
            if left < 0 { throw GzipError.corrupt("over-subscribed code") }
        }
        var offs = [Int](repeating: 0, count: 16)
        for len in 1..<15 { offs[len + 1] = offs[len] + count[len] }
        for (s, l) in lengths.enumerated() where l != 0 {
            symbol[offs[l]] = s
            offs[l] += 1
        }
    }
}

private struct Inflater {
    let data: [UInt8]
    var pos: Int
    var bitBuf = 0
    var bitCount = 0

    init(_ data: [UInt8], position: Int) { self.data = data; pos = position }

    /// Position of the first byte after the deflate stream (the stream ends byte-aligned for the
    /// trailer; leftover bits of the last byte are discarded).
    var bytePosition: Int { pos }

    mutating func bits(_ n: Int) throws -> Int {
        while bitCount < n {
            guard pos < data.count else { throw GzipError.truncated }
            bitBuf |= Int(data[pos]) << bitCount
            pos += 1
            bitCount += 8
        }
        let v = bitBuf & ((1 << n) - 1)
        bitBuf >>= n
        bitCount -= n
        return v
    }

    mutating func decode(_ h: Huffman) throws -> Int {
        var code = 0, first = 0, index = 0
        for len in 1..<16 {
            code |= try bits(1)
            let count = h.count[len]
            if code - count < first { return h.symbol[index + (code - first)] }
            index += count
            first += count
            first <<= 1
            code <<= 1
        }
        throw GzipError.corrupt("invalid Huffman code")
    }

    static let lengthBase = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59,
                             67, 83, 99, 115, 131, 163, 195, 227, 258]
    static let lengthExtra = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
    static let distBase = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769,
                           1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577]
    static let distExtra = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]

    mutating func run(into out: inout [UInt8]) throws {
        let start = out.count
        var last = 0
        repeat {
            last = try bits(1)
            switch try bits(2) {
            case 0:
                bitBuf = 0; bitCount = 0  // stored blocks start on a byte boundary
                guard pos + 4 <= data.count else { throw GzipError.truncated }
                let len = Int(data[pos]) | Int(data[pos + 1]) << 8
                let nlen = Int(data[pos + 2]) | Int(data[pos + 3]) << 8
                guard len == (~nlen & 0xFFFF) else { throw GzipError.corrupt("stored length check") }
                pos += 4
                guard pos + len <= data.count else { throw GzipError.truncated }
                out.append(contentsOf: data[pos..<(pos + len)])
                pos += len
            case 1:
                var l = [Int](repeating: 8, count: 288)
                for i in 144..<256 { l[i] = 9 }
                for i in 256..<280 { l[i] = 7 }
                try codes(Huffman(lengths: l[...]), Huffman(lengths: [Int](repeating: 5, count: 30)[...]), &out, start)
            case 2:
                let nlen = try bits(5) + 257, ndist = try bits(5) + 1, ncode = try bits(4) + 4
                let order = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]
                var cl = [Int](repeating: 0, count: 19)
                for i in 0..<ncode { cl[order[i]] = try bits(3) }
                let clh = try Huffman(lengths: cl[...])
                var lengths = [Int]()
                while lengths.count < nlen + ndist {
                    let sym = try decode(clh)
                    if sym < 16 { lengths.append(sym); continue }
                    var value = 0, rep = 0
                    if sym == 16 {
                        guard let prev = lengths.last else { throw GzipError.corrupt("repeat with no length") }
                        value = prev; rep = 3 + (try bits(2))
                    } else if sym == 17 { rep = 3 + (try bits(3)) } else { rep = 11 + (try bits(7)) }
                    guard lengths.count + rep <= nlen + ndist else { throw GzipError.corrupt("too many lengths") }
                    lengths.append(contentsOf: repeatElement(value, count: rep))
                }
                try codes(Huffman(lengths: lengths[0..<nlen]), Huffman(lengths: lengths[nlen...]), &out, start)
            default:
                throw GzipError.corrupt("invalid block type")
            }
        } while last == 0
        bitBuf = 0; bitCount = 0
    }

    mutating func codes(_ lencode: Huffman, _ distcode: Huffman, _ out: inout [UInt8], _ start: Int) throws {
        while true {
            var sym = try decode(lencode)
            if sym < 256 { out.append(UInt8(sym)); continue }
            if sym == 256 { return }
            sym -= 257
            guard sym < 29 else { throw GzipError.corrupt("bad length symbol") }
            let len = Self.lengthBase[sym] + (try bits(Self.lengthExtra[sym]))
            let ds = try decode(distcode)
            guard ds < 30 else { throw GzipError.corrupt("bad distance symbol") }
            let dist = Self.distBase[ds] + (try bits(Self.distExtra[ds]))
            guard dist <= out.count - start else { throw GzipError.corrupt("distance too far back") }
            let from = out.count - dist
            for i in 0..<len { out.append(out[from + i]) }
        }
    }
}
