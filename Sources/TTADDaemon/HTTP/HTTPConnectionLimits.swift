import Foundation

/// Bounds on the operations port's connections, from `[metrics]`.
///
/// The port is for a scraper and a health probe, a handful of connections; without these bounds
/// idle or slow clients hold one file descriptor each for ever, and a few thousand of them starve
/// ZeroMQ and SQLite, which share the daemon's descriptor limit.
public struct HTTPConnectionLimits: Sendable, Equatable {
    /// Connections open at once; one more is accepted and closed at once (counted, logged).
    public var maxConnections: Int
    /// A new connection must deliver its first complete request within this many seconds.
    public var headerTimeoutSeconds: Double
    /// A connection with no request in progress is closed after this many seconds of silence.
    public var idleTimeoutSeconds: Double

    public init(maxConnections: Int, headerTimeoutSeconds: Double, idleTimeoutSeconds: Double) {
        self.maxConnections = maxConnections
        self.headerTimeoutSeconds = headerTimeoutSeconds
        self.idleTimeoutSeconds = idleTimeoutSeconds
    }
}

/// Why the daemon closed an HTTP connection it had admitted.
public enum HTTPConnectionTimeout: String, CaseIterable, Sendable {
    /// No complete first request within `metrics.header_timeout_s` (idle or trickling client).
    case header
    /// No new request within `metrics.idle_timeout_s` after the last response.
    case idle
}
