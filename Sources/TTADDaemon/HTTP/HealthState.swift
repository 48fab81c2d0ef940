import Foundation

/// What /healthz and /readyz report, updated by the daemon's threads.
///
/// Healthy means the processing loop has gone round recently (it beats even when idle), so a
/// wedged loop fails the health check the same way it stops the systemd watchdog.
public final class HealthState: @unchecked Sendable {
    private let lock = NSLock()
    private var isReady = false
    private var lastBeat = ProcessInfo.processInfo.systemUptime
    private var stoppingReason: String?
    private var checkpointFailing = false
    /// A loop silent for longer than this is reported unhealthy.
    public let stallSeconds: Double

    public init(stallSeconds: Double = 10) {
        self.stallSeconds = stallSeconds
    }

    public func setReady(_ ready: Bool) {
        lock.lock(); isReady = ready; lock.unlock()
    }

    public func setStopping(_ reason: String) {
        lock.lock(); stoppingReason = reason; isReady = false; lock.unlock()
    }

    /// The last checkpoint attempt failed (true) or succeeded (false). Still healthy: predictions
    /// go on, and a restart would not fix a full disk; but the probe's text says so.
    public func setCheckpointFailing(_ failing: Bool) {
        lock.lock(); checkpointFailing = failing; lock.unlock()
    }

    public func beat() {
        let now = ProcessInfo.processInfo.systemUptime
        lock.lock(); lastBeat = now; lock.unlock()
    }

    public var ready: Bool {
        lock.lock(); defer { lock.unlock() }
        return isReady
    }

    /// (healthy, human-readable detail)
    public func health() -> (Bool, String) {
        let now = ProcessInfo.processInfo.systemUptime
        lock.lock(); defer { lock.unlock() }
        let silent = now - lastBeat
        if silent > stallSeconds {
            return (false, "processing loop silent for \(String(format: "%.1f", silent)) s")
        }
        let state = checkpointFailing ? "; state not saved: the last checkpoint failed" : ""
        if let r = stoppingReason { return (true, "stopping: \(r)" + state) }
        return (true, "ok" + state)
    }
}
