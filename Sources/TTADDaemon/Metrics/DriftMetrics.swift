import Prometheus

/// The drift monitors' series. In global scope there is one monitor and its series carry no
/// `state` label; with `scope = "stream"` every state has its own monitor, and its series carry
/// the state's bounded label (`StateMetrics.label`). The registry refuses a family with both
/// labelled and unlabelled series, so the choice is made once, when the daemon starts.
///
/// Used by the processing thread only, hence unchecked.
public final class DriftMetrics: @unchecked Sendable {
    public struct Series {
        public let meanEntropy: Gauge
        public let meanConfidence: Gauge
        public let classDivergence: Gauge
        public let embeddingShift: Gauge
        public let alarms: [DriftAlarmName: Counter]
    }

    private let registry: PrometheusCollectorRegistry
    /// Global scope's series, made at start so they exist from the first scrape.
    private let unlabelled: Series?
    private var byLabel: [String: Series] = [:]

    init(registry: PrometheusCollectorRegistry, perState: Bool) {
        self.registry = registry
        unlabelled = perState ? nil : Self.make(registry, labels: [])
    }

    /// The series of the monitor whose state has metric label `label` (nil in global scope).
    func series(label: String?) -> Series {
        guard let label else {
            guard let unlabelled else { preconditionFailure("DriftMetrics: per-state series need a state label") }
            return unlabelled
        }
        if let s = byLabel[label] { return s }
        let s = Self.make(registry, labels: [("state", label)])
        byLabel[label] = s
        return s
    }

    private static func make(_ r: PrometheusCollectorRegistry, labels: [(String, String)]) -> Series {
        func gauge(_ name: String, _ help: String) -> Gauge {
            let d = MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
            return labels.isEmpty ? r.makeGauge(descriptor: d) : r.makeGauge(descriptor: d, labels: labels)
        }
        var alarms: [DriftAlarmName: Counter] = [:]
        for a in DriftAlarmName.allCases {
            alarms[a] = r.makeCounter(descriptor: MetricNameDescriptor(
                metricName: "ttad_drift_alarms_total", unitName: "",
                helpText: "Drift detector alarms: entropy_shift (Page-Hinkley on entropy), confidence_shift (ADWIN on confidence)."),
                labels: labels + [("alarm", a.rawValue)])
        }
        return Series(
            meanEntropy: gauge("ttad_drift_window_mean_entropy_nats", "Mean prediction entropy over the drift window (last [drift] window samples)."),
            meanConfidence: gauge("ttad_drift_window_mean_confidence", "Mean top-class probability over the drift window."),
            classDivergence: gauge("ttad_drift_class_divergence_bits", "Jensen-Shannon divergence (bits, 0-1) of the drift window's predicted-class histogram from the reference window's (the first window of samples this state saw)."),
            embeddingShift: gauge("ttad_drift_embedding_shift", "L2 distance of the drift window's mean embedding from the reference window's."),
            alarms: alarms)
    }
}
