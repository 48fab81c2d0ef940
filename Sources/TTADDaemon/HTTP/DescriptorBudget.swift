import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The share of the process's file descriptors the metrics port may hold, checked at start.
///
/// ZeroMQ (a descriptor per peer connection plus its own), SQLite (database, WAL, shared memory)
/// and the logs draw on the same limit as the HTTP server; the connection cap only protects them
/// if it is well below that limit, so a cap that could take more than a quarter of it is refused
/// as a configuration error rather than discovered when a flood of connections arrives.
public enum DescriptorBudget {
    /// metrics.max_connections may be at most limit / httpShareDivisor.
    public static let httpShareDivisor = 4

    /// The soft RLIMIT_NOFILE of this process (what open() and accept() are held to).
    public static func processLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return Int.max }
        // RLIM_INFINITY is all ones; clamping maps it (and anything above Int.max) to Int.max.
        return Int(clamping: limit.rlim_cur)
    }

    public static func check(_ metrics: MetricsSection, processLimit: Int = processLimit()) throws {
        guard metrics.enabled else { return }
        let allowed = processLimit / httpShareDivisor
        if metrics.maxConnections > allowed {
            throw ConfigError(key: "metrics.max_connections",
                              "\(metrics.maxConnections) would let HTTP clients hold more than a quarter of the \(processLimit) file descriptors "
                              + "this process may open, which ZeroMQ and SQLite need; at most \(allowed) (or raise LimitNOFILE)")
        }
    }
}
