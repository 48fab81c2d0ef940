/// Unicode Normalization Form C over scalar arrays, with Python's Unicode data
/// (`UnicodeNFCTables`, generated from `unicodedata`), so it agrees with ftfy's
/// `unicodedata.normalize("NFC", …)` scalar for scalar.
///
/// Not Foundation's `precomposedStringWithCanonicalMapping`: on Linux that treats supplementary
/// scalars as their low 16 bits when composing (U+E0057 TAG W + U+0300 became "Ẁ").
enum UnicodeNFC {
    static func normalize(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        // Scalars below U+0300 neither decompose nor combine.
        guard text.contains(where: { $0.value >= 0x300 }) else { return text }
        var decomposed: [UInt32] = []
        decomposed.reserveCapacity(text.count + 8)
        for s in text { decompose(s.value, into: &decomposed) }
        reorder(&decomposed)
        return compose(decomposed).map { Unicode.Scalar($0)! }
    }

    // MARK: Data

    private static let combiningClasses: [UInt32: UInt8] = {
        var map: [UInt32: UInt8] = [:]
        for line in UnicodeNFCTables.combiningClasses.split(separator: "\n") {
            let colon = line.firstIndex(of: ":")!
            let bounds = line[..<colon].split(separator: "-").map { UInt32($0, radix: 16)! }
            let ccc = UInt8(line[line.index(after: colon)...])!
            for cp in bounds[0]...bounds[1] { map[cp] = ccc }
        }
        return map
    }()

    private static let decompositions: [UInt32: [UInt32]] = {
        var map: [UInt32: [UInt32]] = [:]
        for line in UnicodeNFCTables.decompositions.split(separator: "\n") {
            let colon = line.firstIndex(of: ":")!
            map[UInt32(line[..<colon], radix: 16)!] =
                line[line.index(after: colon)...].split(separator: " ").map { UInt32($0, radix: 16)! }
        }
        return map
    }()

    /// (first << 32 | second) -> primary composite.
    private static let compositions: [UInt64: UInt32] = {
        var map: [UInt64: UInt32] = [:]
        for field in UnicodeNFCTables.primaryComposites.split(separator: " ") {
            let cp = UInt32(field, radix: 16)!
            let pair = decompositions[cp]!
            map[UInt64(pair[0]) << 32 | UInt64(pair[1])] = cp
        }
        return map
    }()

    @inline(__always)
    static func ccc(_ cp: UInt32) -> UInt8 { cp < 0x300 ? 0 : combiningClasses[cp] ?? 0 }

    // MARK: Hangul (algorithmic)

    private static let sBase: UInt32 = 0xAC00, lBase: UInt32 = 0x1100, vBase: UInt32 = 0x1161, tBase: UInt32 = 0x11A7
    private static let lCount: UInt32 = 19, vCount: UInt32 = 21, tCount: UInt32 = 28
    private static let nCount = vCount * tCount, sCount = lCount * vCount * tCount

    // MARK: Steps

    private static func decompose(_ cp: UInt32, into out: inout [UInt32]) {
        if cp < 0xC0 {
            out.append(cp)
        } else if cp >= sBase, cp < sBase + sCount {
            let s = cp - sBase
            out.append(lBase + s / nCount)
            out.append(vBase + (s % nCount) / tCount)
            if s % tCount != 0 { out.append(tBase + s % tCount) }
        } else if let parts = decompositions[cp] {
            for p in parts { decompose(p, into: &out) }
        } else {
            out.append(cp)
        }
    }

    /// Canonical ordering: stable sort of each run of non-starters by combining class.
    private static func reorder(_ cps: inout [UInt32]) {
        var i = 0
        while i < cps.count {
            guard ccc(cps[i]) != 0 else { i += 1; continue }
            var end = i
            while end < cps.count, ccc(cps[end]) != 0 { end += 1 }
            if end - i > 1 {
                let sorted = cps[i..<end].enumerated().sorted {
                    let (a, b) = (ccc($0.element), ccc($1.element))
                    return a != b ? a < b : $0.offset < $1.offset
                }.map(\.element)
                cps.replaceSubrange(i..<end, with: sorted)
            }
            i = end
        }
    }

    private static func composePair(_ a: UInt32, _ b: UInt32) -> UInt32? {
        if a >= lBase, a < lBase + lCount, b >= vBase, b < vBase + vCount {
            return sBase + ((a - lBase) * vCount + (b - vBase)) * tCount
        }
        if a >= sBase, a < sBase + sCount, (a - sBase) % tCount == 0, b > tBase, b < tBase + tCount {
            return a + (b - tBase)
        }
        return compositions[UInt64(a) << 32 | UInt64(b)]
    }

    /// Canonical composition: each scalar joins the last starter unless blocked by a scalar in
    /// between of class 0 or of a class not lower than its own.
    private static func compose(_ cps: [UInt32]) -> [UInt32] {
        var out: [UInt32] = []
        out.reserveCapacity(cps.count)
        var starter: Int?
        var lastClass: UInt8 = 0
        for cp in cps {
            let cc = ccc(cp)
            if let s = starter {
                let adjacent = s == out.count - 1
                if adjacent || (lastClass != 0 && lastClass < cc), let composite = composePair(out[s], cp) {
                    out[s] = composite
                    continue
                }
            }
            if cc == 0 { starter = out.count }
            out.append(cp)
            lastClass = cc
        }
        return out
    }
}
