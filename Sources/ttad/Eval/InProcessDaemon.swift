import Foundation
import Logging
import TTADDaemon

/// A daemon started inside a client command (`ttad eval --config`, `ttad demo`): the config's
/// model and settings, but ephemeral loopback endpoints, no metrics port, no CURVE, and a fresh
/// temporary state directory unless one is given, so it never disturbs an installed daemon.
final class InProcessDaemon {
    let daemon: Daemon
    let config: DaemonConfig
    private let removeState: Bool

    /// `deterministic`: lossless PULL ingest and one sample at a time (see `daemon.deterministic`).
    convenience init(configPath: String, stateDirectory: String?, deterministic: Bool, label: String) throws {
        try self.init(config: try Self.configuration(configPath: configPath, stateDirectory: stateDirectory,
                                                     deterministic: deterministic, label: label),
                      removeState: stateDirectory == nil, label: label)
    }

    /// The configuration such a daemon runs with (what `ttad eval --resume` inspects first).
    static func configuration(configPath: String, stateDirectory: String?, deterministic: Bool, label: String) throws -> DaemonConfig {
        var cfg = try ConfigLoader.load(path: configPath)
        cfg.ingest.pattern = .pull
        cfg.ingest.bind = true
        cfg.ingest.endpoints = ["tcp://127.0.0.1:*"]
        cfg.publish.endpoints = ["tcp://127.0.0.1:*"]
        cfg.publish.bind = true
        cfg.publish.sendHighWaterMark = 0
        cfg.metrics.enabled = false
        cfg.curve.enabled = false
        if deterministic {
            cfg.daemon.deterministic = true
            cfg.ingest.overflow = .block
        }
        cfg.daemon.stateDirectory = stateDirectory ?? FileManager.default.temporaryDirectory
            .appendingPathComponent("ttad-\(label)-\(getpid())").path
        try ConfigLoader.validate(cfg)
        return cfg
    }

    init(config: DaemonConfig, removeState: Bool, label: String) throws {
        self.removeState = removeState
        self.config = config
        daemon = Daemon(config: config, logger: Self.logger(label), notifier: SystemdNotifier(environment: [:]))
        try daemon.start()
    }

    static func logger(_ label: String) -> Logger {
        var logger = Logger(label: "ttad-\(label)")
        logger.logLevel = .warning
        return logger
    }

    var ingestEndpoint: String { daemon.endpoints.ingest[0] }
    var publishEndpoint: String { daemon.endpoints.publish[0] }

    func stop() {
        _ = daemon.stop(reason: "client finished")
        if removeState { try? FileManager.default.removeItem(atPath: config.daemon.stateDirectory) }
    }
}
