/// The subset of `ftfy.fix_text` (ftfy 6.3, default configuration) the CLIP tokenizer applies.
///
/// Implemented, in ftfy's order, repeated per segment until the text stops changing:
/// `unescape_html` ("auto": off for a segment containing "<" and for every later segment),
/// `fix_c1_controls`, `fix_latin_ligatures`, `fix_character_width`, `uncurl_quotes`,
/// `fix_line_breaks`, `remove_terminal_escapes`, `remove_control_chars`, then NFC (`UnicodeNFC`).
/// Segments end after each "\n" (or every 1,000,000 scalars), as in ftfy.
/// (`fix_surrogates` has nothing to do: Swift strings cannot hold lone surrogates.)
///
/// Not implemented: `fix_encoding`, ftfy's mojibake detection and repair (re-decoding text that was
/// decoded with the wrong codec, with its `restore_byte_a0`, `replace_lossy_sequences` and
/// `decode_inconsistent_utf8` sub-steps). Text such as "CafÃ©" therefore stays as written here,
/// while ftfy turns it into "Café".
enum FTFYFixText {
    static let maxSegmentLength = 1_000_000

    static func apply(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(text.count)
        var unescapeAuto = true
        var pos = 0
        while pos < text.count {
            var end = pos
            while end < text.count, text[end] != "\n" { end += 1 }
            end = end < text.count ? end + 1 : end
            if end - pos > maxSegmentLength { end = pos + maxSegmentLength }
            let segment = Array(text[pos..<end])
            if unescapeAuto && segment.contains("<") { unescapeAuto = false }
            out.append(contentsOf: fixSegment(segment, unescape: unescapeAuto))
            pos = end
        }
        return out
    }

    private static func fixSegment(_ segment: [Unicode.Scalar], unescape: Bool) -> [Unicode.Scalar] {
        var text = segment
        while true {
            let original = text
            if unescape { text = HTMLUnescape.apply(text) }
            text = translate(text, FTFYData.c1Controls)
            text = translate(text, FTFYData.ligatures)
            text = fixCharacterWidth(text)
            text = uncurlQuotes(text)
            text = fixLineBreaks(text)
            text = removeTerminalEscapes(text)
            text = text.filter { !FTFYData.controlCharacters.contains($0.value) }
            text = nfc(text)
            if text == original { return text }   // [Unicode.Scalar] equality: code point by code point
        }
    }

    private static func translate(_ text: [Unicode.Scalar], _ map: [UInt32: [Unicode.Scalar]]) -> [Unicode.Scalar] {
        guard text.contains(where: { map[$0.value] != nil }) else { return text }
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(text.count)
        for s in text {
            if let r = map[s.value] { out.append(contentsOf: r) } else { out.append(s) }
        }
        return out
    }

    private static func fixCharacterWidth(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        guard text.contains(where: { $0.value == 0x3000 || (0xFF01...0xFFEF).contains($0.value) }) else { return text }
        return translate(text, FTFYData.widthMap)
    }

    private static func uncurlQuotes(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        text.map { s in
            switch s.value {
            case 0x02BC, 0x2018...0x201B: return "'"
            case 0x201C...0x201F: return "\""
            default: return s
            }
        }
    }

    /// "\r\n", "\r", U+2028, U+2029 and U+0085 become "\n".
    private static func fixLineBreaks(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(text.count)
        var i = 0
        while i < text.count {
            switch text[i].value {
            case 0x0D:
                out.append("\n")
                if i + 1 < text.count, text[i + 1] == "\n" { i += 1 }
            case 0x2028, 0x2029, 0x85:
                out.append("\n")
            default:
                out.append(text[i])
            }
            i += 1
        }
        return out
    }

    /// Drops ANSI escapes ESC "[" (decimal digit | ";")* ASCII-letter. Python's `\d` is any Nd digit.
    private static func removeTerminalEscapes(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        guard text.contains("\u{1B}") else { return text }
        var out: [Unicode.Scalar] = []
        var i = 0
        while i < text.count {
            if text[i] == "\u{1B}", i + 1 < text.count, text[i + 1] == "[" {
                var j = i + 2
                while j < text.count, text[j] == ";" || text[j].properties.generalCategory == .decimalNumber { j += 1 }
                if j < text.count, text[j].isASCII, text[j].properties.isAlphabetic {
                    i = j + 1
                    continue
                }
            }
            out.append(text[i])
            i += 1
        }
        return out
    }

    private static func nfc(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        UnicodeNFC.normalize(text)
    }
}
