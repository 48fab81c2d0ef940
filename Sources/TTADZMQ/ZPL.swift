/// A deliberately small reader for the ZPL text format (ZeroMQ RFC 4) as used by czmq
/// certificate files. It only extracts the `name = value` entries directly under the top-level
/// `curve` section; everything else (e.g. `metadata`) is syntax-checked loosely and ignored.
///
/// Accepted: `#` comment lines, blank lines, indentation in multiples of 4 spaces, values that
/// are `"double"`- or `'single'`-quoted or bare (up to whitespace or `#`). Tabs in indentation
/// and unterminated quotes are reported with the line number.
enum ZPL {
    struct Entry: Equatable {
        let value: String
        let line: Int
    }

    struct CurveEntries {
        var sawCurveSection = false
        var values: [String: Entry] = [:]
    }

    static func curveEntries(_ text: String, path: String) throws -> CurveEntries {
        var result = CurveEntries()
        var inCurve = false
        var lineNumber = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            var line = Substring(rawLine)
            if line.hasSuffix("\r") { line = line.dropLast() }
            let indentation = line.prefix { $0 == " " || $0 == "\t" }
            let content = line.dropFirst(indentation.count)
            if content.isEmpty || content.hasPrefix("#") { continue }
            if indentation.contains("\t") {
                throw ZMQCertificateError(path: path, line: lineNumber,
                                          reason: "tab in indentation (ZPL uses 4 spaces)")
            }
            guard indentation.count % 4 == 0 else {
                throw ZMQCertificateError(path: path, line: lineNumber,
                                          reason: "indentation is not a multiple of 4 spaces")
            }
            let level = indentation.count / 4
            let (name, value) = try parse(content, path: path, line: lineNumber)
            if level == 0 {
                guard value == nil else {
                    // A top-level "name = value" is legal ZPL but never used by certificates.
                    inCurve = false
                    continue
                }
                inCurve = name == "curve"
                if inCurve { result.sawCurveSection = true }
            } else if inCurve && level == 1, let value {
                if result.values[name] != nil {
                    throw ZMQCertificateError(path: path, line: lineNumber,
                                              reason: "duplicate \(name) in \"curve\" section")
                }
                result.values[name] = Entry(value: value, line: lineNumber)
            }
        }
        return result
    }

    /// Splits `name [= value]`, unquoting the value.
    private static func parse(_ content: Substring, path: String,
                              line: Int) throws -> (name: String, value: String?) {
        let name = content.prefix { !$0.isWhitespace && $0 != "=" && $0 != "#" }
        guard !name.isEmpty else {
            throw ZMQCertificateError(path: path, line: line, reason: "expected a name")
        }
        var rest = content.dropFirst(name.count).drop { $0 == " " }
        if rest.isEmpty || rest.hasPrefix("#") { return (String(name), nil) }
        guard rest.hasPrefix("=") else {
            throw ZMQCertificateError(path: path, line: line,
                                      reason: "expected \"=\" after \"\(name)\"")
        }
        rest = rest.dropFirst().drop { $0 == " " }
        if let quote = rest.first, quote == "\"" || quote == "'" {
            let body = rest.dropFirst()
            guard let end = body.firstIndex(of: quote) else {
                throw ZMQCertificateError(path: path, line: line,
                                          reason: "unterminated quoted value for \"\(name)\"")
            }
            let trailing = body[body.index(after: end)...].drop { $0 == " " }
            guard trailing.isEmpty || trailing.hasPrefix("#") else {
                throw ZMQCertificateError(path: path, line: line,
                                          reason: "unexpected text after value of \"\(name)\"")
            }
            return (String(name), String(body[..<end]))
        }
        let bare = rest.prefix { !$0.isWhitespace && $0 != "#" }
        return (String(name), String(bare))
    }
}
