import Foundation
import TTADPresets
import TTADModel
import TTADZMQ

/// What `ttad check-config` does beyond parsing: open the files the config names, and print the
/// effective configuration as TOML (which parses back to the same configuration).
public enum ConfigCheck {
    public static func checkFiles(_ c: DaemonConfig) throws {
        _ = try PredictorFactory.make(config: c)
        if c.curve.enabled {
            do {
                let cert = try ZMQCertificate.load(path: c.curve.serverSecretKeyFile)
                if cert.secretKey == nil { throw ConfigError(key: "curve.server_secret_key_file", "no secret-key in \(c.curve.serverSecretKeyFile)") }
            } catch let e as ConfigError { throw e } catch {
                throw ConfigError(key: "curve.server_secret_key_file", "\(error)")
            }
            do { _ = try ZAPAuthenticator.loadAllowList(directory: c.curve.allowedClientsDirectory) } catch {
                throw ConfigError(key: "curve.allowed_clients_directory", "\(error)")
            }
        }
    }

    /// Every key of `ConfigKeys`, table by table. An unset optional key is left out (so it
    /// stays unset when the output is read back), or noted in a comment when it has an effect.
    public static func describe(_ c: DaemonConfig) -> String {
        var out: [String] = []
        for (table, keys) in ConfigKeys.byTable {
            out.append("[\(table)]")
            for k in keys {
                if let v = k.get(c) { out.append("\(k.name) = \(v.toml)") } else if let note = k.unsetNote?(c) { out.append("# \(note)") }
            }
            out.append("")
        }
        return out.joined(separator: "\n")
    }
}

extension ConfigCheck {
    /// `ttad config-keys`: every key, table by table, as a commented TOML file of the defaults.
    /// A key without one fixed default (required, unset, derived) is commented out.
    public static func keyReference() -> String {
        let defaults = DaemonConfig()
        func plain(_ s: String) -> String { s.replacingOccurrences(of: "\\|", with: "|").replacingOccurrences(of: "`", with: "") }
        var out: [String] = []
        for (table, keys) in ConfigKeys.byTable {
            out.append("[\(table)]")
            for k in keys {
                out.append("# \(plain(k.typeText)): \(k.doc)")
                if let d = k.defaultDoc { out.append("# \(k.name) = (\(plain(d)))") } else if let v = k.get(defaults) { out.append("\(k.name) = \(v.toml)") }
            }
            out.append("")
        }
        return out.joined(separator: "\n")
    }
}
