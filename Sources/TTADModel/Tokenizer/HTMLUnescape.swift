/// ftfy's `unescape_html`: decode `&name;` and `&#number;` references, leave everything else.
///
/// A reference is `&`, an optional `#`, 1 to 24 ASCII letters/digits, then `;` (ftfy's
/// HTML_ENTITY_RE). Names are looked up in ftfy's table (the HTML5 names ending in ";" plus
/// all-caps forms such as `&EACUTE;`); `&#…;` is decoded as Python's `html.unescape` does, and kept
/// as written unless the whole reference was consumed and the result holds no ";" (so `&#59;`
/// stays `&#59;`, as in ftfy). Matches do not overlap and replacements are not rescanned.
enum HTMLUnescape {
    static func apply(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        guard text.contains("&") else { return text }
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(text.count)
        var i = 0
        while i < text.count {
            if text[i] == "&", let (end, replacement) = reference(in: text, at: i) {
                out.append(contentsOf: replacement)
                i = end
            } else {
                out.append(text[i])
                i += 1
            }
        }
        return out
    }

    private static func isASCIIAlphanumeric(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: return true
        default: return false
        }
    }

    /// The end index and replacement of a reference starting at `start` (an "&"), if one matches.
    private static func reference(in text: [Unicode.Scalar], at start: Int) -> (Int, [Unicode.Scalar])? {
        var j = start + 1
        let numeric = j < text.count && text[j] == "#"
        if numeric { j += 1 }
        let bodyStart = j
        while j < text.count, isASCIIAlphanumeric(text[j]) { j += 1 }
        let length = j - bodyStart
        guard length >= 1, length <= 24, j < text.count, text[j] == ";" else { return nil }
        let end = j + 1
        let original = Array(text[start..<end])
        if !numeric {
            let name = String(String.UnicodeScalarView(text[bodyStart..<end]))
            return (end, FTFYData.htmlEntities[name] ?? original)
        }
        guard let decoded = numericReference(text[bodyStart..<j]), !decoded.contains(";") else {
            return (end, original)
        }
        return (end, decoded)
    }

    /// `html.unescape` of `&#<body>;` when it consumes the whole body, else nil.
    private static func numericReference(_ body: ArraySlice<Unicode.Scalar>) -> [Unicode.Scalar]? {
        var digits = body[...]
        var radix: UInt32 = 10
        if let first = digits.first, first == "x" || first == "X" {
            radix = 16
            digits = digits.dropFirst()
        }
        guard !digits.isEmpty else { return nil }
        var value: UInt32 = 0
        var overflow = false
        for s in digits {
            guard let d = digitValue(s, radix: radix) else { return nil }
            if !overflow {
                let (m, o1) = value.multipliedReportingOverflow(by: radix)
                let (a, o2) = m.addingReportingOverflow(d)
                if o1 || o2 { overflow = true } else { value = a }
            }
        }
        if overflow || value > 0x10FFFF || (0xD800...0xDFFF).contains(value) {
            return FTFYData.invalidCharrefs[value] ?? ["\u{FFFD}"]
        }
        if let replacement = FTFYData.invalidCharrefs[value] { return replacement }
        if FTFYData.invalidCodepoints.contains(value) { return [] }
        return [Unicode.Scalar(value)!]
    }

    private static func digitValue(_ s: Unicode.Scalar, radix: UInt32) -> UInt32? {
        switch s.value {
        case 0x30...0x39: return s.value - 0x30
        case 0x41...0x46 where radix == 16: return s.value - 0x41 + 10
        case 0x61...0x66 where radix == 16: return s.value - 0x61 + 10
        default: return nil
        }
    }
}
