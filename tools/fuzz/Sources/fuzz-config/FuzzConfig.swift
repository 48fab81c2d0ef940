import FuzzSupport
import TTADDaemon

// A configuration file as `ttad run --config` and `ttad check-config` read it:
// ConfigLoader.parse (TOMLKit/toml++ syntax, every key typed and range-checked, unknown keys
// refused, cross-key validation). ConfigLoader.load reads the file as UTF-8 and refuses other
// bytes before parsing, so only valid UTF-8 reaches the parser here too.
// Properties: every refusal is a ConfigError (it names the key); an accepted configuration,
// printed the way check-config prints it, parses back to the same configuration.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let text = String(validating: UnsafeBufferPointer(start: data, count: size), as: UTF8.self) else { return 0 }
    let config: DaemonConfig
    do {
        config = try ConfigLoader.parse(text, baseDirectory: "/etc/ttad", source: "fuzz.toml")
    } catch {
        fuzzCheck(error is ConfigError, "config refused with a \(type(of: error)), not a ConfigError: \(error)")
        return 0
    }
    let printed = ConfigCheck.describe(config)
    do {
        let again = try ConfigLoader.parse(printed, baseDirectory: "/elsewhere", source: "printed")
        fuzzCheck(again == config, "check-config's output parses to a different configuration (\(differences(config, again))):\n\(printed)")
    } catch {
        fuzzCheck(false, "check-config's output does not parse (\(error)):\n\(printed)")
    }
    return 0
}

/// The fields (section.key, as Swift names them) where two configurations differ, for the report.
func differences(_ a: DaemonConfig, _ b: DaemonConfig) -> String {
    var out: [String] = []
    for (x, y) in zip(Mirror(reflecting: a).children, Mirror(reflecting: b).children) {
        for (u, v) in zip(Mirror(reflecting: x.value).children, Mirror(reflecting: y.value).children) {
            let l = String(describing: u.value), r = String(describing: v.value)
            if l != r { out.append("\(x.label ?? "?").\(u.label ?? "?"): \(l) → \(r)") }
        }
    }
    return out.isEmpty ? "no field differs in its description" : out.joined(separator: "; ")
}
