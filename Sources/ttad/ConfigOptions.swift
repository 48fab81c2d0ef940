import ArgumentParser
import TTADDaemon

/// Options shared by the commands that read a daemon configuration, with the overrides an
/// operator needs most (endpoints, metrics address, state directory).
struct ConfigOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: "TOML configuration file (see docs/configuration.md).")
    var config: String

    @Option(name: .customLong("ingest"), help: "Override ingest.endpoints (repeatable).")
    var ingestEndpoints: [String] = []

    @Option(name: .customLong("publish"), help: "Override publish.endpoints (repeatable).")
    var publishEndpoints: [String] = []

    @Option(name: .customLong("metrics"), help: "Override the metrics address, HOST:PORT.")
    var metricsAddress: String?

    @Option(name: .customLong("state-dir"), help: "Override daemon.state_directory.")
    var stateDirectory: String?

    func load() throws -> DaemonConfig {
        var c = try ConfigLoader.load(path: config)
        if !ingestEndpoints.isEmpty { c.ingest.endpoints = ingestEndpoints }
        if !publishEndpoints.isEmpty { c.publish.endpoints = publishEndpoints }
        if let m = metricsAddress {
            guard let colon = m.lastIndex(of: ":"), let port = Int(m[m.index(after: colon)...]), (0...65535).contains(port) else {
                throw ValidationError("--metrics must be HOST:PORT, got \"\(m)\"")
            }
            c.metrics.host = String(m[..<colon]).trimmingCharacters(in: ["[", "]"])
            c.metrics.port = port
        }
        if let s = stateDirectory { c.daemon.stateDirectory = s }
        try ConfigLoader.validate(c)
        return c
    }
}
