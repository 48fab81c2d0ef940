import Foundation
import Prometheus
import TTADAdaptation
import TTADProtocol

/// Why a sample that arrived was not processed (the decoder's rejections are counted apart, by
/// their protocol reason code).
public enum DropReason: String, CaseIterable, Sendable {
    /// drop_newest: the ingest queue was full, the arriving sample was refused.
    case queueFull = "queue_full"
    /// drop_oldest: the ingest queue was full, the oldest queued sample was evicted.
    case queueEvicted = "queue_evicted"
    /// Still queued when the shutdown deadline passed.
    case shutdown = "shutdown"
}

/// Alarms of the drift monitor, as named in `drift` messages and metric labels.
public enum DriftAlarmName: String, CaseIterable, Sendable {
    /// Page-Hinkley on per-sample entropy.
    case entropyShift = "entropy_shift"
    /// ADWIN on per-sample top-class probability.
    case confidenceShift = "confidence_shift"
}

public enum OutputFamily: String, CaseIterable, Sendable {
    case pred, drift, event, error
}

/// Every metric the daemon exports, created once with its help text so series exist (at 0) from
/// the first scrape and the registry never sees a conflicting re-registration.
///
/// Our own metrics go straight to the swift-prometheus registry so they carry help text; the
/// registry is also what the CLI bootstraps swift-metrics with, so library metrics (for example
/// Hummingbird's) land on the same /metrics page.
public final class DaemonMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry

    public let samplesReceived: Counter
    public let samplesProcessed: Counter
    public let rejected: [RejectReason: Counter]
    public let dropped: [DropReason: Counter]
    public let published: [OutputFamily: Counter]
    public let outputsDropped: Counter
    public let sequenceMissing: Counter
    public let sequenceRestarts: Counter
    public let outOfOrder: Counter
    public let ingestQueueDepth: Gauge
    public let ingestQueueCapacity: Gauge
    public let outputQueueDepth: Gauge
    public let sampleLatency: Histogram<Double>
    public let batchDuration: Histogram<Double>
    public let batchSize: Histogram<Double>
    public let checkpoints: Counter
    public let checkpointFailures: Counter
    public let checkpointDuration: Histogram<Double>
    public let lastCheckpointTimestamp: Gauge
    public let checkpointFailing: Gauge
    public let zapAllowed: Counter
    public let zapDenied: Counter
    /// Handshake failures seen by the sockets' monitors, and allow-list reloads.
    public let curve: CurveMetrics
    public let startTime: Gauge
    public let ready: Gauge
    /// The drift monitors' series (one set, or one per state with `scope = "stream"`).
    public let drift: DriftMetrics
    public let outlierThreshold: Gauge
    public let outliersFlagged: Counter
    public let adaptationSteps: Counter
    /// `scope = "stream"`'s state counts and per-state series.
    public let states: StateMetrics
    public let adaptationStepDuration: Histogram<Double>
    public let adaptationLoss: Gauge
    public let adaptationBankItems: Gauge
    public let adaptationDistance: Gauge
    public let adaptationResets: [ResetReason: Counter]
    public let adaptationPausedSamples: Counter
    public let adaptationWarmupSamples: Counter
    public let adaptationGateClosures: Counter
    public let adaptationDroppedSamples: Counter
    public let adaptationObservedSamples: Counter
    public let adaptationQueuedSamples: Gauge
    public let adaptationLagSeconds: Gauge
    public let adaptationLabelCorrelation: Gauge
    public let promptVersion: Gauge
    public let httpConnectionsOpen: Gauge
    public let httpConnectionsRefused: Counter
    public let httpConnectionsTimedOut: [HTTPConnectionTimeout: Counter]

    /// `driftPerState`: `adaptation.scope = "stream"`, whose drift series carry a `state` label.
    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
                version: String, mode: String, driftPerState: Bool = false) {
        self.registry = registry
        let r = registry
        let info = r.makeGauge(descriptor: desc("ttad_build_info", "Build and mode of the running daemon (always 1)."), labels: [("version", version), ("mode", mode)])
        info.set(1.0)
        samplesReceived = r.makeCounter(descriptor: desc("ttad_samples_received_total", "Input messages read from the ingest sockets."))
        samplesProcessed = r.makeCounter(descriptor: desc("ttad_samples_processed_total", "Samples predicted and published."))
        var rej: [RejectReason: Counter] = [:]
        for reason in RejectReason.allCases {
            rej[reason] = r.makeCounter(descriptor: desc("ttad_samples_rejected_total", "Input messages rejected by validation, by protocol reason code."), labels: [("reason", reason.rawValue)])
        }
        rejected = rej
        var drop: [DropReason: Counter] = [:]
        for reason in DropReason.allCases {
            drop[reason] = r.makeCounter(descriptor: desc("ttad_samples_dropped_total", "Samples the daemon received but dropped without a prediction or an error, by reason."), labels: [("reason", reason.rawValue)])
        }
        dropped = drop
        var pub: [OutputFamily: Counter] = [:]
        for t in OutputFamily.allCases {
            pub[t] = r.makeCounter(descriptor: desc("ttad_messages_published_total", "Messages handed to the PUB socket, by topic family."), labels: [("topic", t.rawValue)])
        }
        published = pub
        outputsDropped = r.makeCounter(descriptor: desc("ttad_outputs_dropped_total", "Output messages dropped because the output queue was full."))
        sequenceMissing = r.makeCounter(descriptor: desc("ttad_sequence_missing_total", "Sequence numbers skipped between consecutive processed samples of a stream: upstream drops, plus the daemon's own drops (counted apart in ttad_samples_dropped_total)."))
        sequenceRestarts = r.makeCounter(descriptor: desc("ttad_sequence_restarts_total", "Streams whose sequence numbers went back to 0 (producer restarted)."))
        outOfOrder = r.makeCounter(descriptor: desc("ttad_samples_out_of_order_total", "Samples whose sequence number was not above the last seen one."))
        ingestQueueDepth = r.makeGauge(descriptor: desc("ttad_ingest_queue_depth", "Samples waiting for the processing loop."))
        ingestQueueCapacity = r.makeGauge(descriptor: desc("ttad_ingest_queue_capacity", "Capacity of the ingest queue."))
        outputQueueDepth = r.makeGauge(descriptor: desc("ttad_output_queue_depth", "Outputs waiting for the I/O thread."))
        sampleLatency = r.makeValueHistogram(descriptor: desc("ttad_sample_latency_seconds", "Time from a sample's arrival on the I/O thread to its prediction being queued for publishing."), buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5])
        batchDuration = r.makeValueHistogram(descriptor: desc("ttad_inference_batch_duration_seconds", "Time to decode, predict and encode one batch."), buckets: [0.00001, 0.00005, 0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5])
        batchSize = r.makeValueHistogram(descriptor: desc("ttad_inference_batch_size", "Samples per processing batch."), buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024])
        checkpoints = r.makeCounter(descriptor: desc("ttad_checkpoints_total", "State checkpoints written."))
        checkpointFailures = r.makeCounter(descriptor: desc("ttad_checkpoint_failures_total", "State checkpoints that failed."))
        checkpointDuration = r.makeValueHistogram(descriptor: desc("ttad_checkpoint_duration_seconds", "Time to write one checkpoint transaction."), buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5])
        lastCheckpointTimestamp = r.makeGauge(descriptor: desc("ttad_checkpoint_last_success_timestamp_seconds", "Unix time of the last successful checkpoint."))
        checkpointFailing = r.makeGauge(descriptor: desc("ttad_checkpoint_failing", "1 while the last checkpoint attempt failed (state is no longer being saved: disk full, read-only state directory); 0 after a success."))
        zapAllowed = r.makeCounter(descriptor: desc("ttad_curve_auth_total", "CURVE handshakes decided by the ZAP handler."), labels: [("result", "allowed")])
        zapDenied = r.makeCounter(descriptor: desc("ttad_curve_auth_total", "CURVE handshakes decided by the ZAP handler."), labels: [("result", "denied")])
        curve = CurveMetrics(registry: r)
        startTime = r.makeGauge(descriptor: desc("ttad_start_time_seconds", "Unix time the daemon started."))
        startTime.set(Date().timeIntervalSince1970)
        ready = r.makeGauge(descriptor: desc("ttad_ready", "1 once sockets are up and state is loaded; 0 while starting or stopping."))
        drift = DriftMetrics(registry: r, perState: driftPerState)
        outlierThreshold = r.makeGauge(descriptor: desc("ttad_outlier_threshold", "Outlier-score threshold in effect (fixed or calibrated); NaN while calibrating or when flagging is off."))
        outliersFlagged = r.makeCounter(descriptor: desc("ttad_outliers_flagged_total", "Predictions flagged as outliers (score above the threshold)."))
        states = StateMetrics(registry: r)
        adaptationSteps = r.makeCounter(descriptor: desc("ttad_adaptation_steps_total", "Adaptation steps applied (each replays the memory bank once)."))
        adaptationStepDuration = r.makeValueHistogram(descriptor: desc("ttad_adaptation_step_duration_seconds", "Time of one adaptation step (the memory bank replayed once, forward and backward)."), buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5])
        adaptationLoss = r.makeGauge(descriptor: desc("ttad_adaptation_loss", "Self-weighted entropy of the last adaptation step (nats)."))
        adaptationBankItems = r.makeGauge(descriptor: desc("ttad_adaptation_bank_items", "Samples in the adaptation memory bank."))
        adaptationDistance = r.makeGauge(descriptor: desc("ttad_adaptation_distance_from_source", "L2 distance of the adapted parameters from the source model's."))
        var resets: [ResetReason: Counter] = [:]
        for reason in ResetReason.allCases {
            resets[reason] = r.makeCounter(descriptor: desc("ttad_adaptation_resets_total", "Resets of the adapted parameters to the source by the collapse guard, by reason."), labels: [("reason", reason.label)])
        }
        adaptationResets = resets
        adaptationPausedSamples = r.makeCounter(descriptor: desc("ttad_adaptation_paused_samples_total", "Samples during which adaptation paused because the frozen predictions came in runs of one class (a label-correlated stream)."))
        adaptationWarmupSamples = r.makeCounter(descriptor: desc("ttad_adaptation_warmup_samples_total", "Of the paused samples, those of the label gate's warm-up: adaptation waits from the first sample until the frozen predictions show the stream is mixed."))
        adaptationGateClosures = r.makeCounter(descriptor: desc("ttad_adaptation_gate_closures_total", "Times the label gate closed (paused adaptation) after having been open."))
        adaptationDroppedSamples = r.makeCounter(descriptor: desc("ttad_adaptation_dropped_samples_total", "Live mode: predicted samples the adaptation worker never observed because it was behind (its queue was full). Their predictions were published as usual."))
        adaptationObservedSamples = r.makeCounter(descriptor: desc("ttad_adaptation_observed_samples_total", "Samples the adaptation preset learned from (offered to its bank or step). In live mode, with ttad_adaptation_dropped_samples_total, what the worker saw and what it skipped."))
        adaptationQueuedSamples = r.makeGauge(descriptor: desc("ttad_adaptation_queued_samples", "Live mode: predicted samples handed to the adaptation worker and not yet observed (0 when learning runs inline)."))
        adaptationLagSeconds = r.makeGauge(descriptor: desc("ttad_adaptation_lag_seconds", "Live mode: how long the oldest sample waiting for the adaptation worker has waited (0 when none waits); grows while the worker is stuck in a long step."))
        adaptationLabelCorrelation = r.makeGauge(descriptor: desc("ttad_adaptation_label_correlation", "Excess of equal neighbouring frozen predictions over chance in the label gate's window (about 0 for an exchangeable stream); NaN until the window is full."))
        promptVersion = r.makeGauge(descriptor: desc("ttad_prompt_version", "Version of the adapted parameters predictions are made with (0: the source model)."))
        httpConnectionsOpen = r.makeGauge(descriptor: desc("ttad_http_connections_open", "Connections open on the metrics port."))
        httpConnectionsRefused = r.makeCounter(descriptor: desc("ttad_http_connections_refused_total", "Metrics-port connections closed on accept because metrics.max_connections were open."), labels: [("reason", "max_connections")])
        var timeouts: [HTTPConnectionTimeout: Counter] = [:]
        for t in HTTPConnectionTimeout.allCases {
            timeouts[t] = r.makeCounter(descriptor: desc("ttad_http_connections_timed_out_total", "Metrics-port connections the daemon closed for silence: header (no complete first request within metrics.header_timeout_s), idle (no new request within metrics.idle_timeout_s)."), labels: [("timeout", t.rawValue)])
        }
        httpConnectionsTimedOut = timeouts
    }

    public func exposition() -> [UInt8] { registry.emitToBuffer() }
}

/// A full metric name (units included, as Prometheus naming asks) with its help text.
private func desc(_ name: String, _ help: String) -> MetricNameDescriptor {
    MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
}
