import Foundation
import TTADModel
import TTADPresets
import TOMLKit

/// Reads a TOML configuration file into `DaemonConfig`, then validates it as a whole.
///
/// Every error names the key. Unknown keys are errors: a typo such as `queu_capacity` would
/// otherwise run the daemon on a default nobody asked for. Relative paths are resolved against
/// the directory of the config file, so a config and its class-embedding file travel together.
public enum ConfigLoader {
    public static func load(path: String) throws -> DaemonConfig {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigError(key: "", "cannot read \(path): \(error.localizedDescription)")
        }
        let base = URL(fileURLWithPath: path).deletingLastPathComponent().path
        return try parse(text, baseDirectory: base, source: path)
    }

    public static func parse(_ text: String, baseDirectory: String, source: String = "<string>") throws -> DaemonConfig {
        let table: TOMLTable
        if let (line, column) = TableHeaderCheck.firstBlankHeader(in: text) {
            throw ConfigError(key: "", "\(source): TOML syntax error at line \(line), column \(column): a table header needs a name after '['")
        }
        do {
            table = try TOMLTable(string: text)
        } catch let e as TOMLParseError {
            throw ConfigError(key: "", "\(source): TOML syntax error at line \(e.source.begin.line), column \(e.source.begin.column): \(e.description)")
        }
        var c = DaemonConfig()
        // One reader per table, opened on first use so that each remembers which of its keys
        // were read; nil for a table the file does not have.
        var readers: [String: TOMLReader?] = ["": TOMLReader(table: table, path: "")]
        func open(_ path: String) throws -> Bool {
            if let r = readers[path] { return r != nil }
            let dot = path.lastIndex(of: ".")
            let parent = dot.map { String(path[..<$0]) } ?? ""
            let name = dot.map { String(path[path.index(after: $0)...]) } ?? path
            guard try open(parent) else { readers[path] = .some(nil); return false }
            let sub = try readers[parent]!!.subtable(name)
            readers[path] = .some(sub)
            return sub != nil
        }
        var tables: [String] = []
        for key in ConfigKeys.all {
            if !tables.contains(key.table) { tables.append(key.table) }
            guard try open(key.table) else { continue }
            if let v = try readers[key.table]!!.value(of: key, baseDirectory: baseDirectory) { key.set(&c, v) }
        }
        if let gate = readers["adaptation.label_gate"], let gate { try applyLabelGateRules(&c, gate) }
        for t in tables { try readers[t]??.rejectUnknownKeys() }
        try readers[""]!!.rejectUnknownKeys()
        try validate(c)
        return c
    }

    static func resolve(_ p: String, base: String) -> String {
        if p.isEmpty || p.hasPrefix("/") { return p }
        return URL(fileURLWithPath: base).appendingPathComponent(p).standardized.path
    }
}
