import Foundation
import Logging
import Metrics
import Prometheus
import ServiceLifecycle
import TTADState

/// `ttad run`: the daemon, the metrics port and the signal handling, as one ServiceGroup.
public enum DaemonRunner {
    public static func run(config: DaemonConfig, logger: Logger) async throws {
        try DescriptorBudget.check(config.metrics)
        // Before any listener: a second daemon on the same state must fail on the lock, with that
        // message, not on the metrics port the first one holds.
        try DirectoryLock.checkNotHeld(directory: config.daemon.stateDirectory)
        let registry = PrometheusCollectorRegistry()
        // Library metrics (swift-metrics API) land in the same registry as ours.
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let metrics = DaemonMetrics(registry: registry, version: Daemon.version, mode: config.daemon.mode.rawValue,
                                    driftPerState: config.adaptationStates.scope == .stream)
        let daemon = Daemon(config: config, logger: logger, metrics: metrics)
        let readiness = Readiness(parts: config.metrics.enabled ? 2 : 1) { daemon.markReady() }

        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: DaemonService(daemon: daemon, onStarted: { readiness.partReady() })),
        ]
        if config.metrics.enabled {
            let app = MetricsServer.makeApplication(
                host: config.metrics.host, port: config.metrics.port, limits: config.metrics.connectionLimits, metrics: metrics, health: daemon.health,
                logger: logger, onRunning: { port in
                    logger.info("metrics port listening", metadata: ["address": "\(config.metrics.host):\(port)"])
                    readiness.partReady()
                })
            // Listed after the daemon: the group stops services in reverse order, so /metrics
            // stops answering first and the daemon drains last.
            services.append(.init(service: app))
        }
        var groupConfig = ServiceGroupConfiguration(services: services, logger: logger)
        groupConfig.gracefulShutdownSignals = [.sigterm, .sigint]
        groupConfig.maximumGracefulShutdownDuration = .milliseconds(Int64(config.daemon.shutdownTimeoutSeconds * 1000) + 2000)
        groupConfig.maximumCancellationDuration = .seconds(5)
        let group = ServiceGroup(configuration: groupConfig)
        try await group.run()
    }
}

/// READY=1 only once every part (daemon threads, metrics port) is up.
final class Readiness: @unchecked Sendable {
    private let lock = NSLock()
    private var remaining: Int
    private let action: @Sendable () -> Void

    init(parts: Int, action: @escaping @Sendable () -> Void) {
        remaining = parts
        self.action = action
    }

    func partReady() {
        lock.lock()
        remaining -= 1
        let fire = remaining == 0
        lock.unlock()
        if fire { action() }
    }
}
