/// A configuration problem, always naming the key (dotted TOML path) or the file it came from.
public struct ConfigError: Error, CustomStringConvertible, Equatable, Sendable {
    public let key: String
    public let message: String

    public init(key: String, _ message: String) {
        self.key = key
        self.message = message
    }

    public var description: String {
        key.isEmpty ? "config: \(message)" : "config: \(key): \(message)"
    }
}
