/// CLIP's pre-tokenisation, a hand-written scanner equivalent to `re.findall` with the pattern
///
///     <\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+
///
/// compiled by the `regex` module with IGNORECASE, run on cleaned, lowercased text. At each
/// position the alternatives are tried in order; a scalar no alternative matches (whitespace) is
/// skipped. IGNORECASE details that survive lowercasing: "ſ" (U+017F) matches the "s" of the
/// literals, and U+0345 COMBINING GREEK YPOGEGRAMMENI (which case-folds to "ι") matches none of the
/// classes, so it is dropped like whitespace.
enum CLIPPreTokenizer {
    enum Kind: Equatable { case word, startOfText, endOfText }

    struct Piece: Equatable {
        var range: Range<Int>
        var kind: Kind
    }

    private static let startLiteral = Array("<|startoftext|>".unicodeScalars)
    private static let endLiteral = Array("<|endoftext|>".unicodeScalars)
    private static let contractions: [[Unicode.Scalar]] = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d"].map {
        Array($0.unicodeScalars)
    }

    static func split(_ text: [Unicode.Scalar]) -> [Piece] {
        var pieces: [Piece] = []
        var i = 0
        while i < text.count {
            if let end = matchLiteral(startLiteral, in: text, at: i) {
                // Only the exact spelling is the special token; "<|ſtartoftext|>" is an ordinary word.
                let exact = text[i..<end].elementsEqual(startLiteral)
                pieces.append(Piece(range: i..<end, kind: exact ? .startOfText : .word))
                i = end
                continue
            }
            if let end = matchLiteral(endLiteral, in: text, at: i) {
                let exact = text[i..<end].elementsEqual(endLiteral)
                pieces.append(Piece(range: i..<end, kind: exact ? .endOfText : .word))
                i = end
                continue
            }
            if let end = contractions.lazy.compactMap({ matchLiteral($0, in: text, at: i) }).first {
                pieces.append(Piece(range: i..<end, kind: .word))
                i = end
                continue
            }
            let s = text[i]
            if isLetter(s) {
                var end = i + 1
                while end < text.count, isLetter(text[end]) { end += 1 }
                pieces.append(Piece(range: i..<end, kind: .word))
                i = end
            } else if isNumber(s) {
                pieces.append(Piece(range: i..<(i + 1), kind: .word))
                i += 1
            } else if isOther(s) {
                var end = i + 1
                while end < text.count, isOther(text[end]) { end += 1 }
                pieces.append(Piece(range: i..<end, kind: .word))
                i = end
            } else {
                i += 1
            }
        }
        return pieces
    }

    static func isLetter(_ s: Unicode.Scalar) -> Bool {
        switch s.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return true
        default: return false
        }
    }

    static func isNumber(_ s: Unicode.Scalar) -> Bool {
        switch s.properties.generalCategory {
        case .decimalNumber, .letterNumber, .otherNumber: return true
        default: return false
        }
    }

    /// `[^\s\p{L}\p{N}]` under IGNORECASE.
    static func isOther(_ s: Unicode.Scalar) -> Bool {
        !s.properties.isWhitespace && !isLetter(s) && !isNumber(s) && s.value != 0x0345
    }

    /// Case-insensitive (simple case folding) match of an ASCII literal; returns the end index.
    private static func matchLiteral(_ literal: [Unicode.Scalar], in text: [Unicode.Scalar], at start: Int) -> Int? {
        guard start + literal.count <= text.count else { return nil }
        for (k, l) in literal.enumerated() where fold(text[start + k]) != l.value {
            return nil
        }
        return start + literal.count
    }

    private static func fold(_ s: Unicode.Scalar) -> UInt32 {
        switch s.value {
        case 0x41...0x5A: return s.value + 0x20
        case 0x017F: return 0x73        // ſ -> s
        case 0x212A: return 0x6B        // Kelvin sign -> k
        default: return s.value
        }
    }
}
