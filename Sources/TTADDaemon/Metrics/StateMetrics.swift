import Prometheus
import TTADPresets

/// `scope = "stream"`'s metrics: how many states are live and set aside, and per state its
/// steps, resets and version under a `state` label.
///
/// The label is bounded: the first `maxLabels` state names get their own series, every later one
/// shares `state="other"`, so a daemon that sees thousands of streams does not grow its
/// exposition without end. The labelled series appear once a state has something to report.
///
/// Used by the processing thread only, hence unchecked.
public final class StateMetrics: @unchecked Sendable {
    /// The families whose series are made per state as states report (not there at start).
    static let labelledFamilies = ["ttad_adaptation_state_steps_total", "ttad_adaptation_state_resets_total", "ttad_adaptation_state_version"]
    static let maxLabels = 32
    static let otherLabel = "other"

    private let registry: PrometheusCollectorRegistry
    private let live: Gauge
    private let saved: Gauge
    private let evictions: Counter
    private let forgotten: Counter
    private var seenEvictions = 0
    private var seenForgotten = 0
    private var labels: [String: String] = [:]
    private var steps: [String: Counter] = [:]
    private var resets: [String: Counter] = [:]
    private var versions: [String: Gauge] = [:]

    init(registry r: PrometheusCollectorRegistry) {
        registry = r
        live = r.makeGauge(descriptor: Self.desc("ttad_adaptation_states_live", "scope = \"stream\": adapted states in memory (at most adaptation.max_live_states)."))
        saved = r.makeGauge(descriptor: Self.desc("ttad_adaptation_states_saved", "scope = \"stream\": adapted states checkpointed and set aside until their streams return."))
        evictions = r.makeCounter(descriptor: Self.desc("ttad_adaptation_state_evictions_total", "scope = \"stream\": states set aside to make room for another stream's."))
        forgotten = r.makeCounter(descriptor: Self.desc("ttad_adaptation_states_forgotten_total", "scope = \"stream\": set-aside states dropped beyond adaptation.max_saved_states (their streams start again from the source)."))
    }

    /// The label a state's series carry.
    func label(_ state: String) -> String {
        if let l = labels[state] { return l }
        let l = labels.count < Self.maxLabels ? state : Self.otherLabel
        labels[state] = l
        return l
    }

    func update(_ states: PresetStates) {
        live.set(Double(states.liveCount))
        saved.set(Double(states.savedCount))
        if states.evictions > seenEvictions { evictions.increment(by: Int64(states.evictions - seenEvictions)); seenEvictions = states.evictions }
        if states.forgotten > seenForgotten { forgotten.increment(by: Int64(states.forgotten - seenForgotten)); seenForgotten = states.forgotten }
    }

    func record(_ r: AdaptationReport, state: String) {
        let l = label(state)
        if !r.stepSeconds.isEmpty {
            counter(&steps, l, Self.labelledFamilies[0], "scope = \"stream\": adaptation steps by state.")
                .increment(by: Int64(r.stepSeconds.count))
        }
        if !r.resets.isEmpty {
            counter(&resets, l, Self.labelledFamilies[1], "scope = \"stream\": collapse-guard resets by state.")
                .increment(by: Int64(r.resets.count))
        }
        if let v = r.version {
            let g = versions[l] ?? registry.makeGauge(descriptor: Self.desc(Self.labelledFamilies[2], "scope = \"stream\": version of each state's adapted parameters (0: the source)."), labels: [("state", l)])
            versions[l] = g
            g.set(Double(v))
        }
    }

    private func counter(_ table: inout [String: Counter], _ l: String, _ name: String, _ help: String) -> Counter {
        if let c = table[l] { return c }
        let c = registry.makeCounter(descriptor: Self.desc(name, help), labels: [("state", l)])
        table[l] = c
        return c
    }

    private static func desc(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }
}
