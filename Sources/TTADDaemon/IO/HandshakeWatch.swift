import Foundation
import Logging
import TTADZMQ

/// Counts and logs the failed security handshakes of the CURVE server sockets.
///
/// A plain (NULL-mechanism) client on a CURVE socket fails in the ZMTP greeting, before the ZAP
/// handler is asked, so only libzmq's socket monitor sees it. The I/O thread owns this (the
/// monitors are sockets) and drains it when the poller says a monitor is readable.
final class HandshakeWatch {
    private var monitors: [(socket: CurveMetrics.SocketName, monitor: ZMQSocketMonitor)] = []
    private let metrics: CurveMetrics
    private let logger: Logger
    /// One line per few seconds whatever the rate: a misconfigured fleet reconnects every 100 ms.
    private var throttle = LogThrottle(intervalSeconds: 10)

    init(metrics: CurveMetrics, logger: Logger) {
        self.metrics = metrics
        self.logger = logger
    }

    /// Starts monitoring `socket`; call before it binds, so no handshake goes unseen.
    func watch(_ socket: ZMQSocket, as name: CurveMetrics.SocketName) throws {
        let endpoint = "inproc://ttad-monitor-\(name.rawValue)-\(UUID().uuidString)"
        let monitor = try ZMQSocketMonitor(monitoring: socket, endpoint: endpoint, events: ZMQSocketMonitor.handshakeFailureEvents)
        monitors.append((name, monitor))
    }

    /// Adds every monitor to `poller`; returns their indices in `drain`'s order.
    func register(in poller: ZMQPoller) -> [Int] {
        monitors.map { poller.add($0.monitor.socket, events: .readable) }
    }

    /// Counts what the readable monitors hold.
    func drain(_ poller: ZMQPoller, indices: [Int]) {
        for (i, index) in indices.enumerated() where poller.isReadable(index) {
            let (name, monitor) = monitors[i]
            while let event = try? monitor.receive() {
                guard let failure = event.handshakeFailure else { continue }
                metrics.handshakeFailures[name]?[failure]?.increment()
                // ZAP refusals are logged by the ZAP handler with the client's key.
                if failure != .authentication { log(failure, socket: name, endpoint: event.endpoint) }
            }
        }
    }

    func close() {
        for m in monitors { m.monitor.close() }
        monitors = []
    }

    private func log(_ failure: ZMQHandshakeFailure, socket: CurveMetrics.SocketName, endpoint: String) {
        let now = Double(DispatchTime.now().uptimeNanoseconds) / 1e9
        guard let count = throttle.record(now: now) else { return }
        let what = failure == .mechanismMismatch
            ? "a client without CURVE (plain ZeroMQ) tried to connect; it is refused"
            : "a CURVE handshake failed"
        logger.warning("\(what)", metadata: [
            "socket": "\(socket.rawValue)", "endpoint": "\(endpoint)", "reason": "\(failure.rawValue)",
            "failures_since_last_line": "\(count)",
        ])
    }
}
