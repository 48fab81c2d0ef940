/// One configuration key, declared once: where it lives in the TOML, its type and allowed range,
/// one line of documentation, and how it is read from and written into the settings it belongs
/// to. The daemon's loader, `ttad check-config`'s printout and the docs test are all derived from
/// these declarations (the daemon's table is `ConfigKeys`), so they cannot disagree.
///
/// It knows nothing of TOML parsing: the loader reads a `SettingValue` of the key's `kind`,
/// checks it with `problem(_:)` and hands it to `set`. Presets declare their keys here, below
/// the daemon, on their own settings type; the daemon lifts them onto its configuration.
public struct SettingKey<Root> {
    public typealias Kind = SettingKind

    /// Dotted TOML table, e.g. `adaptation.bank`.
    public let table: String
    public let name: String
    public let kind: Kind
    public let doc: String
    /// The docs' "type" cell when the kind's range is not the whole story (extra constraints).
    public let typeOverride: String?
    /// Shown after an integer range, in the docs and in errors: "1 MiB".
    public let rangeNote: String?
    /// The docs' "default" cell when the default is not one fixed value (absent, derived).
    public let defaultDoc: String?
    /// A constraint beyond `kind`'s range: nil, or (suffix of the key, e.g. "[2]", and message).
    let check: ((SettingValue) -> (String, String)?)?
    /// nil: the key is unset (an optional setting), printed as `unsetNote` or not at all.
    public let get: (Root) -> SettingValue?
    public let set: (inout Root, SettingValue) -> Void
    /// What `check-config` prints, as a comment, for an unset optional key.
    public let unsetNote: ((Root) -> String)?

    public init(_ table: String, _ name: String, _ kind: Kind, doc: String, typeOverride: String? = nil, rangeNote: String? = nil,
                defaultDoc: String? = nil, check: ((SettingValue) -> (String, String)?)? = nil,
                unsetNote: ((Root) -> String)? = nil,
                get: @escaping (Root) -> SettingValue?, set: @escaping (inout Root, SettingValue) -> Void) {
        self.table = table
        self.name = name
        self.kind = kind
        self.doc = doc
        self.typeOverride = typeOverride
        self.rangeNote = rangeNote
        self.defaultDoc = defaultDoc
        self.check = check
        self.unsetNote = unsetNote
        self.get = get
        self.set = set
    }

    /// `table.name`, the key's name in error messages.
    public var path: String { "\(table).\(name)" }

    /// Violations beyond the kind's type and range: (key suffix, message).
    public func problem(_ v: SettingValue) -> (String, String)? {
        if case .choice(let allowed) = kind, case .string(let s) = v, !allowed.contains(s) {
            return ("", "must be one of \(allowed.map { "\"\($0)\"" }.joined(separator: ", ")), got \"\(s)\"")
        }
        return check?(v)
    }

    /// The same key on a configuration that holds `Root` at `keyPath`.
    public func lifted<Outer>(_ keyPath: WritableKeyPath<Outer, Root>) -> SettingKey<Outer> {
        let get = self.get, set = self.set, note = self.unsetNote
        return SettingKey<Outer>(table, name, kind, doc: doc, typeOverride: typeOverride, rangeNote: rangeNote,
                                 defaultDoc: defaultDoc, check: check, unsetNote: note.map { n in { n($0[keyPath: keyPath]) } },
                                 get: { get($0[keyPath: keyPath]) }, set: { set(&$0[keyPath: keyPath], $1) })
    }

    /// The docs' "type" cell: the type and the range the loader enforces.
    public var typeText: String {
        if let typeOverride { return typeOverride }
        switch kind {
        case .int(let lo, let hi):
            switch (lo, hi) {
            case let (lo?, hi?): return "integer \(lo) to \(hi)" + (rangeNote.map { " (\($0))" } ?? "")
            case let (lo?, nil): return "integer ≥ \(lo)"
            case let (nil, hi?): return "integer ≤ \(hi)"
            case (nil, nil): return "integer"
            }
        case .double(let lo, let hi, let openLo, let openHi):
            let f = SettingValue.number
            switch (lo, hi) {
            case let (lo?, hi?): return "number in \(openLo ? "(" : "[")\(f(lo)), \(f(hi))\(openHi ? ")" : "]")"
            case let (lo?, nil): return "number \(openLo ? ">" : "≥") \(f(lo))"
            case let (nil, hi?): return "number \(openHi ? "<" : "≤") \(f(hi))"
            case (nil, nil): return "number"
            }
        case .bool: return "bool"
        case .string: return "string"
        case .path: return "path"
        case .strings: return "array of strings"
        case .choice(let allowed): return SettingValue.choices(allowed)
        }
    }
}

/// A key's TOML type and the range the loader enforces.
public enum SettingKind: Equatable, Sendable {
    case int(min: Int?, max: Int?)
    /// `openMin`/`openMax`: the bound itself is excluded.
    case double(min: Double?, max: Double?, openMin: Bool, openMax: Bool)
    case bool
    case string
    /// A string resolved against the config file's directory when relative.
    case path
    case strings
    /// A string from a fixed list.
    case choice([String])
}

/// A key's value, typed as TOML types it.
public enum SettingValue: Equatable, Sendable {
    case int(Int)
    case double(Double)
    case bool(Bool)
    case string(String)
    case strings([String])

    /// As TOML: what `check-config` prints and the docs' default cells show.
    public var toml: String {
        switch self {
        case .int(let i): return "\(i)"
        // Whole numbers keep a ".0" so that they read back as floats; others print the shortest
        // decimal that reads back as the same Double.
        case .double(let d): return d == d.rounded() && abs(d) < 1e15 ? "\(Int(d)).0" : "\(d)"
        case .bool(let b): return "\(b)"
        case .string(let s): return Self.quoted(s)
        case .strings(let a): return "[" + a.map(Self.quoted).joined(separator: ", ") + "]"
        }
    }

    /// A TOML basic string. Control characters are escaped: TOML forbids them raw, so a value
    /// read from an escape (`"a\nb"`) would otherwise print as text that does not parse.
    static func quoted(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            case _ where u.value < 0x20 || u.value == 0x7F:
                let hex = String(u.value, radix: 16, uppercase: true)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }

    /// A bound as the docs write it: whole numbers without a fraction.
    static func number(_ d: Double) -> String {
        d == d.rounded() && abs(d) < 1e15 ? "\(Int(d))" : "\(d)"
    }

    /// Allowed values as a docs cell: `"a"` \| `"b"` (the bar escaped for a markdown table).
    public static func choices(_ allowed: [String]) -> String {
        allowed.map { "`\"\($0)\"`" }.joined(separator: " \\| ")
    }
}

/// Declarations by key path, the usual case. Custom ones (a value stored in another type, a
/// derived default) use `SettingKey.init` directly.
extension SettingKey {
    public static func int(_ table: String, _ name: String, _ kp: WritableKeyPath<Root, Int>, min: Int? = nil, max: Int? = nil,
                           rangeNote: String? = nil, typeOverride: String? = nil, check: ((SettingValue) -> (String, String)?)? = nil, _ doc: String) -> Self {
        Self(table, name, .int(min: min, max: max), doc: doc, typeOverride: typeOverride, rangeNote: rangeNote, check: check,
             get: { .int($0[keyPath: kp]) }, set: { if case .int(let i) = $1 { $0[keyPath: kp] = i } })
    }

    public static func double(_ table: String, _ name: String, _ kp: WritableKeyPath<Root, Double>, min: Double? = nil, max: Double? = nil,
                              openMin: Bool = false, openMax: Bool = false, typeOverride: String? = nil, _ doc: String) -> Self {
        Self(table, name, .double(min: min, max: max, openMin: openMin, openMax: openMax), doc: doc, typeOverride: typeOverride,
             get: { .double($0[keyPath: kp]) }, set: { if case .double(let d) = $1 { $0[keyPath: kp] = d } })
    }

    public static func double(_ table: String, _ name: String, _ kp: WritableKeyPath<Root, Double?>, min: Double? = nil, max: Double? = nil,
                              openMin: Bool = false, openMax: Bool = false, defaultDoc: String, _ doc: String) -> Self {
        Self(table, name, .double(min: min, max: max, openMin: openMin, openMax: openMax), doc: doc, defaultDoc: defaultDoc,
             get: { $0[keyPath: kp].map { .double($0) } }, set: { if case .double(let d) = $1 { $0[keyPath: kp] = d } })
    }

    public static func bool(_ table: String, _ name: String, _ kp: WritableKeyPath<Root, Bool>, _ doc: String) -> Self {
        Self(table, name, .bool, doc: doc, get: { .bool($0[keyPath: kp]) }, set: { if case .bool(let b) = $1 { $0[keyPath: kp] = b } })
    }

    /// `isPath`: resolved against the config file's directory when relative.
    public static func string(_ table: String, _ name: String, _ kp: WritableKeyPath<Root, String>, isPath: Bool = false,
                              defaultDoc: String? = nil, _ doc: String) -> Self {
        Self(table, name, isPath ? .path : .string, doc: doc, defaultDoc: defaultDoc,
             get: { .string($0[keyPath: kp]) }, set: { if case .string(let s) = $1 { $0[keyPath: kp] = s } })
    }

    public static func string(_ table: String, _ name: String, _ kp: WritableKeyPath<Root, String?>, isPath: Bool = false,
                              defaultDoc: String, _ doc: String) -> Self {
        Self(table, name, isPath ? .path : .string, doc: doc, defaultDoc: defaultDoc,
             get: { $0[keyPath: kp].map { .string($0) } }, set: { if case .string(let s) = $1 { $0[keyPath: kp] = s } })
    }

    public static func strings(_ table: String, _ name: String, _ kp: WritableKeyPath<Root, [String]>, defaultDoc: String? = nil,
                               check: ((SettingValue) -> (String, String)?)? = nil, _ doc: String) -> Self {
        Self(table, name, .strings, doc: doc, defaultDoc: defaultDoc, check: check,
             get: { .strings($0[keyPath: kp]) }, set: { if case .strings(let a) = $1 { $0[keyPath: kp] = a } })
    }

    public static func choice<E: RawRepresentable & CaseIterable>(_ table: String, _ name: String, _ kp: WritableKeyPath<Root, E>,
                                                                  _ doc: String) -> Self where E.RawValue == String {
        Self(table, name, .choice(E.allCases.map(\.rawValue)), doc: doc, get: { .string($0[keyPath: kp].rawValue) },
             set: { if case .string(let s) = $1, let e = E(rawValue: s) { $0[keyPath: kp] = e } })
    }
}
