/// The text cleanup HF's slow `CLIPTokenizer` applies (with ftfy installed) to each piece of text
/// between special tokens: `whitespace_clean(ftfy.fix_text(text)).lower()`, i.e.
///  1. `FTFYFixText` (see there for the ftfy steps that are and are not implemented);
///  2. runs of White_Space (the `regex` module's `\s`) become one " ", ends are stripped;
///  3. Python's `str.lower()`: full lowercase mappings (e.g. "İ" -> "i̇") and the Final_Sigma
///     rule ("ΟΔΟΣ" -> "οδος"; Swift's `lowercased()` has no Final_Sigma).
enum CLIPTextCleanup {
    static func clean(_ text: ArraySlice<Unicode.Scalar>) -> [Unicode.Scalar] {
        lowercase(collapseWhitespace(FTFYFixText.apply(Array(text))))
    }

    static func collapseWhitespace(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(text.count)
        var pendingSpace = false
        for s in text {
            if s.properties.isWhitespace {
                pendingSpace = !out.isEmpty
            } else {
                if pendingSpace { out.append(" ") }
                pendingSpace = false
                out.append(s)
            }
        }
        return out
    }

    static func lowercase(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(text.count)
        for (i, s) in text.enumerated() {
            if s.isASCII {
                out.append((0x41...0x5A).contains(s.value) ? Unicode.Scalar(s.value + 0x20)! : s)
            } else if s.value == 0x03A3 {
                out.append(isFinalSigma(text, at: i) ? "\u{03C2}" : "\u{03C3}")
            } else {
                out.append(contentsOf: s.properties.lowercaseMapping.unicodeScalars)
            }
        }
        return out
    }

    /// Unicode's Final_Sigma condition as CPython checks it: a cased letter before (skipping
    /// case-ignorable scalars), and no cased letter after (skipping case-ignorable scalars).
    private static func isFinalSigma(_ text: [Unicode.Scalar], at i: Int) -> Bool {
        var j = i - 1
        while j >= 0, text[j].properties.isCaseIgnorable { j -= 1 }
        guard j >= 0, text[j].properties.isCased else { return false }
        var k = i + 1
        while k < text.count, text[k].properties.isCaseIgnorable { k += 1 }
        return k == text.count || !text[k].properties.isCased
    }
}
