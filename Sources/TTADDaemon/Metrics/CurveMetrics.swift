import Prometheus
import TTADZMQ

/// What the CURVE side reports beyond the ZAP handler's verdicts: handshakes that failed before
/// or around ZAP (a plain client on a CURVE socket never reaches it), and allow-list reloads.
public final class CurveMetrics: Sendable {
    /// The sockets whose handshakes are watched.
    public enum SocketName: String, CaseIterable, Sendable { case ingest, publish }

    public let handshakeFailures: [SocketName: [ZMQHandshakeFailure: Counter]]
    public let allowedClients: Gauge
    public let reloadsSucceeded: Counter
    public let reloadsFailed: Counter

    init(registry r: PrometheusCollectorRegistry) {
        let failuresHelp = "Failed security handshakes on a CURVE socket, by socket and reason: mechanism_mismatch (a plain client), authentication (refused by the ZAP handler, also in ttad_curve_auth_total), protocol_error (e.g. a wrong server key), no_detail (connection lost mid-handshake)."
        var failures: [SocketName: [ZMQHandshakeFailure: Counter]] = [:]
        for s in SocketName.allCases {
            for reason in ZMQHandshakeFailure.allCases {
                failures[s, default: [:]][reason] = r.makeCounter(
                    descriptor: Self.desc("ttad_curve_handshake_failures_total", failuresHelp),
                    labels: [("socket", s.rawValue), ("reason", reason.rawValue)])
            }
        }
        handshakeFailures = failures
        allowedClients = r.makeGauge(descriptor: Self.desc("ttad_curve_allowed_clients", "Client keys in the CURVE allow-list in effect (set at start and by each successful reload)."))
        let reloadsHelp = "Allow-list reloads on SIGHUP, by result (a failed reload keeps the list in effect)."
        reloadsSucceeded = r.makeCounter(descriptor: Self.desc("ttad_curve_allow_list_reloads_total", reloadsHelp), labels: [("result", "ok")])
        reloadsFailed = r.makeCounter(descriptor: Self.desc("ttad_curve_allow_list_reloads_total", reloadsHelp), labels: [("result", "failed")])
    }

    private static func desc(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }
}
