import Foundation
import Logging

/// Admission to the operations port, shared by every event loop of the HTTP server: counts the
/// connections open, refuses those beyond the cap, and keeps the metrics and the log of both.
final class HTTPConnectionGate: @unchecked Sendable {
    let limits: HTTPConnectionLimits
    private let metrics: DaemonMetrics
    private let logger: Logger
    private let lock = NSLock()
    private var open = 0
    private var refusals = LogThrottle(intervalSeconds: 10)

    init(limits: HTTPConnectionLimits, metrics: DaemonMetrics, logger: Logger) {
        self.limits = limits
        self.metrics = metrics
        self.logger = logger
    }

    /// A connection was accepted. True: it counts as open until `release`. False: the cap is
    /// reached and the caller closes it now; the refusal is counted and (throttled) logged.
    func admit() -> Bool {
        lock.lock()
        guard open < limits.maxConnections else {
            let report = refusals.record(now: ProcessInfo.processInfo.systemUptime)
            lock.unlock()
            metrics.httpConnectionsRefused.increment()
            if let report {
                logger.warning("metrics port at its connection cap: refused \(report) connection(s) since the last such line", metadata: [
                    "max_connections": "\(limits.maxConnections)",
                ])
            }
            return false
        }
        open += 1
        let now = open
        lock.unlock()
        metrics.httpConnectionsOpen.set(Double(now))
        return true
    }

    /// An admitted connection closed.
    func release() {
        lock.lock()
        open -= 1
        let now = open
        lock.unlock()
        metrics.httpConnectionsOpen.set(Double(now))
    }

    /// The daemon closed an admitted connection for silence.
    func timedOut(_ reason: HTTPConnectionTimeout) {
        metrics.httpConnectionsTimedOut[reason]?.increment()
        logger.debug("metrics port closed a silent connection", metadata: ["timeout": "\(reason.rawValue)"])
    }
}
