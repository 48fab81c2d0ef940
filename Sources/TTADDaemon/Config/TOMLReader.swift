import Foundation
import TOMLKit
import TTADPresets

/// Walks one TOML table, reading typed values by key and remembering which keys were read so
/// that unknown keys (typos) are reported instead of silently ignored.
struct TOMLReader {
    let table: TOMLTable
    let path: String
    private(set) var seen: Set<String> = []

    init(table: TOMLTable, path: String) {
        self.table = table
        self.path = path
    }

    func key(_ name: String) -> String { path.isEmpty ? name : "\(path).\(name)" }

    /// Whether the file sets `name` in this table.
    func has(_ name: String) -> Bool { table[name] != nil }

    private mutating func raw(_ name: String) -> TOMLValueConvertible? {
        seen.insert(name)
        return table[name]
    }

    mutating func string(_ name: String) throws -> String? {
        guard let v = raw(name) else { return nil }
        guard v.type == .string, let s = v.string else { throw typeError(name, "a string", v) }
        return s
    }

    mutating func bool(_ name: String) throws -> Bool? {
        guard let v = raw(name) else { return nil }
        guard v.type == .bool, let b = v.bool else { throw typeError(name, "true or false", v) }
        return b
    }

    /// With both bounds, an error states the whole range (and `note`, e.g. "1 MiB"): a reader
    /// who went past one bound learns the other too.
    mutating func int(_ name: String, min: Int? = nil, max: Int? = nil, note: String? = nil) throws -> Int? {
        guard let v = raw(name) else { return nil }
        guard v.type == .int, let i = v.int else { throw typeError(name, "an integer", v) }
        if let min, let max, !(min...max).contains(i) {
            throw ConfigError(key: key(name), "must be \(min) to \(max)\(note.map { " (\($0))" } ?? ""), got \(i)")
        }
        if let min, i < min { throw ConfigError(key: key(name), "must be ≥ \(min), got \(i)") }
        if let max, i > max { throw ConfigError(key: key(name), "must be ≤ \(max), got \(i)") }
        return i
    }

    /// Integers are accepted where a number is expected: `timeout = 5` means 5.0.
    mutating func double(_ name: String, min: Double? = nil, max: Double? = nil,
                         exclusiveMin: Bool = false, exclusiveMax: Bool = false) throws -> Double? {
        guard let v = raw(name) else { return nil }
        let d: Double
        if v.type == .double, let x = v.double { d = x }
        else if v.type == .int, let x = v.int { d = Double(x) }
        else { throw typeError(name, "a number", v) }
        guard d.isFinite else { throw ConfigError(key: key(name), "must be finite, got \(d)") }
        if let min {
            if exclusiveMin ? d <= min : d < min {
                throw ConfigError(key: key(name), "must be \(exclusiveMin ? ">" : "≥") \(min), got \(d)")
            }
        }
        if let max {
            if exclusiveMax ? d >= max : d > max {
                throw ConfigError(key: key(name), "must be \(exclusiveMax ? "<" : "≤") \(max), got \(d)")
            }
        }
        return d
    }

    mutating func strings(_ name: String) throws -> [String]? {
        guard let v = raw(name) else { return nil }
        guard v.type == .array, let a = v.array else { throw typeError(name, "an array of strings", v) }
        var out: [String] = []
        for (i, e) in a.enumerated() {
            guard e.type == .string, let s = e.string else {
                throw ConfigError(key: "\(key(name))[\(i)]", "expected a string, got \(e.type)")
            }
            out.append(s)
        }
        return out
    }

    mutating func subtable(_ name: String) throws -> TOMLReader? {
        guard let v = raw(name) else { return nil }
        guard v.type == .table, let t = v.table else { throw typeError(name, "a table", v) }
        return TOMLReader(table: t, path: key(name))
    }

    /// Call after reading every known key of this table.
    func rejectUnknownKeys() throws {
        for k in table.keys.sorted() where !seen.contains(k) {
            throw ConfigError(key: key(k), "unknown key")
        }
    }

    private func typeError(_ name: String, _ expected: String, _ v: TOMLValueConvertible) -> ConfigError {
        ConfigError(key: key(name), "expected \(expected), got \(v.type) \(v.debugDescription)")
    }

    /// Reads `key` by its kind and range, then its own constraint; nil when absent.
    mutating func value<Root>(of key: SettingKey<Root>, baseDirectory: String) throws -> SettingValue? {
        let n = key.name
        let v: SettingValue?
        switch key.kind {
        case .int(let lo, let hi): v = try int(n, min: lo, max: hi, note: key.rangeNote).map { .int($0) }
        case .double(let lo, let hi, let openLo, let openHi):
            v = try double(n, min: lo, max: hi, exclusiveMin: openLo, exclusiveMax: openHi).map { .double($0) }
        case .bool: v = try bool(n).map { .bool($0) }
        case .string, .choice: v = try string(n).map { .string($0) }
        case .path: v = try string(n).map { .string(ConfigLoader.resolve($0, base: baseDirectory)) }
        case .strings: v = try strings(n).map { .strings($0) }
        }
        guard let v else { return nil }
        if let (suffix, message) = key.problem(v) { throw ConfigError(key: self.key(n) + suffix, message) }
        return v
    }
}
