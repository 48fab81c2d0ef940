/// Finds a table header whose name does not start where TOML says it must: `[` or `[[`, then
/// spaces or tabs, then a bare-key character, a quote or `]`. TOMLKit's parser (toml++ 3.x)
/// asserts that instead of reporting it, so `[` alone on a line would abort the daemon (found by
/// the config fuzz target); `ConfigLoader` refuses such a file with this line before TOMLKit
/// reads it.
///
/// Only headers are looked at: a `[` opens a header when it is the first thing on a line outside
/// every string and every bracket a value opened (a multi-line array's nested `[` is not one).
enum TableHeaderCheck {
    /// The 1-based line and column of the first such header, or nil.
    static func firstBlankHeader(in text: String) -> (line: Int, column: Int)? {
        let s = Array(text.unicodeScalars)
        enum Str { case none, basic, literal, multiBasic, multiLiteral }
        var str = Str.none, depth = 0, lineStart = true, inHeader = false
        var line = 1, lineBegin = 0
        func at(_ j: Int, _ c: Unicode.Scalar) -> Bool { j < s.count && s[j] == c }
        func triple(_ j: Int, _ c: Unicode.Scalar) -> Bool { at(j, c) && at(j + 1, c) && at(j + 2, c) }
        var i = 0
        while i < s.count {
            let c = s[i]
            if c == "\n" { line += 1; lineBegin = i + 1 }
            switch str {
            case .basic:
                if c == "\\" { i += 1 } else if c == "\"" || c == "\n" { str = .none }
            case .literal:
                if c == "'" || c == "\n" { str = .none }
            case .multiBasic:
                if c == "\\" { i += 1 } else if triple(i, "\"") { str = .none; i += 2 }
            case .multiLiteral:
                if triple(i, "'") { str = .none; i += 2 }
            case .none:
                switch c {
                case "\n":
                    lineStart = true
                    inHeader = false
                case " ", "\t", "\r":
                    break
                case "#":
                    while i + 1 < s.count && s[i + 1] != "\n" { i += 1 }
                case "\"", "'":
                    lineStart = false
                    if triple(i, c) { str = c == "\"" ? .multiBasic : .multiLiteral; i += 2 } else { str = c == "\"" ? .basic : .literal }
                case "[" where depth == 0 && lineStart:
                    var j = i + 1
                    if at(j, "[") { j += 1 }
                    while at(j, " ") || at(j, "\t") { j += 1 }
                    if j < s.count && !startsKeyOrCloses(s[j]) { return (line, i - lineBegin + 1) }
                    lineStart = false
                    inHeader = true
                case "[", "{":
                    lineStart = false
                    depth += 1
                case "]", "}":
                    lineStart = false
                    if !inHeader { depth = max(0, depth - 1) }
                default:
                    lineStart = false
                }
            }
            i += 1
        }
        return nil
    }

    private static func startsKeyOrCloses(_ c: Unicode.Scalar) -> Bool {
        switch c {
        case "A"..."Z", "a"..."z", "0"..."9", "_", "-", "\"", "'", "]": return true
        default: return false
        }
    }
}
