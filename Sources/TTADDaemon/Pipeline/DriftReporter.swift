import Foundation
import Logging
import TTADAdaptation
import TTADEngine
import TTADModel
import TTADProtocol

/// Feeds every prediction to the drift monitor, keeps the drift metrics current and, every
/// `publish_every_samples`, hands back a `drift` record: the window's mean entropy and
/// confidence, the divergence of its predicted-class histogram from the reference window, the
/// shift of its mean (unit-normalised) embedding, and the alarms raised since the last record.
///
/// Owned by the processing thread, like the predictor. Its monitor is checkpointed (section
/// `drift`, or `drift_states` with one per state), so a restart continues the windows and
/// detectors instead of starting over. `DriftReporters` keeps one per adapted state.
struct DriftReporter {
    private(set) var monitor: DriftMonitor
    /// The state whose samples this monitor sees, named in its records (nil in global scope).
    let state: String?
    private let series: DriftMetrics.Series
    private let publishEvery: Int
    private var sincePublish = 0
    private var pending: DriftAlarms = []
    /// The current sample's embedding, unit-normalised; empty when embedding shift is off.
    private var unit: [Float]

    static func configuration(_ s: DriftSection, classCount: Int, featureDimension: Int) throws -> DriftMonitor.Configuration {
        try DriftMonitor.Configuration(
            classCount: classCount, window: s.window, embeddingDimension: s.embeddingShift ? featureDimension : 0,
            pageHinkley: PageHinkley.Configuration(delta: s.pageHinkleyDelta, threshold: s.pageHinkleyThreshold),
            adwin: ADWIN.Configuration(delta: s.adwinDelta))
    }

    /// `cfg` from `configuration(_:classCount:featureDimension:)` (which validates the section);
    /// `restored`: a monitor from the last checkpoint, used only if its configuration matches.
    init(section: DriftSection, configuration cfg: DriftMonitor.Configuration, restored: DriftMonitor?,
         state: String?, series: DriftMetrics.Series, logger: Logger) {
        self.state = state
        self.series = series
        if let restored, restored.configuration == cfg {
            monitor = restored
        } else {
            if restored != nil { logger.notice("drift settings changed since the last checkpoint: the drift monitor starts afresh") }
            monitor = DriftMonitor(configuration: cfg)
        }
        publishEvery = section.publishEverySamples
        unit = [Float](repeating: 0, count: cfg.embeddingDimension)
    }

    /// Observes one prediction; returns true when a `drift` record is due.
    mutating func observe(_ r: ClassificationResult, features: UnsafeBufferPointer<Float>) -> Bool {
        let confidence = r.top.first?.probability ?? .nan
        var alarms: DriftAlarms = []
        do {
            if !unit.isEmpty {
                alarms = try unit.withUnsafeMutableBufferPointer { u in
                    _ = u.initialize(fromContentsOf: features)
                    VectorOps.l2Normalize(inPlace: u)
                    return try monitor.observe(entropy: r.entropy, confidence: confidence, predictedClass: r.predicted,
                                               frozenClass: nil, embedding: UnsafeBufferPointer(u))
                }
            } else {
                alarms = try monitor.observe(entropy: r.entropy, confidence: confidence, predictedClass: r.predicted, frozenClass: nil)
            }
        } catch {
            // Only a class index or length bug of ours can land here; the sample is still published.
            return false
        }
        if alarms.contains(.entropy) { series.alarms[.entropyShift]!.increment() }
        if alarms.contains(.confidence) { series.alarms[.confidenceShift]!.increment() }
        pending.formUnion(alarms)
        sincePublish += 1
        return sincePublish >= publishEvery
    }

    /// The record of the current window (and the metrics updated to it); clears pending alarms.
    mutating func record(tsS: Double) -> DriftRecord {
        let s = monitor.snapshot()
        func v(_ x: Double?) -> Double { x ?? .nan }
        series.meanEntropy.set(v(s.meanEntropy))
        series.meanConfidence.set(v(s.meanConfidence))
        series.classDivergence.set(v(s.classDivergence))
        series.embeddingShift.set(v(s.embeddingShift))
        var stats = [
            NamedValue("mean_entropy", v(s.meanEntropy)),
            NamedValue("mean_confidence", v(s.meanConfidence)),
            NamedValue("class_divergence_bits", v(s.classDivergence)),
        ]
        if !unit.isEmpty { stats.append(NamedValue("embedding_shift", v(s.embeddingShift))) }
        stats.append(NamedValue("samples_observed", Double(s.sampleCount)))
        stats.append(NamedValue("reference_complete", s.referenceComplete ? 1 : 0))
        var names: [String] = []
        if pending.contains(.entropy) { names.append(DriftAlarmName.entropyShift.rawValue) }
        if pending.contains(.confidence) { names.append(DriftAlarmName.confidenceShift.rawValue) }
        pending = []
        sincePublish = 0
        return DriftRecord(tsS: tsS, window: s.windowCount, stats: stats, alarms: names, state: state)
    }
}
