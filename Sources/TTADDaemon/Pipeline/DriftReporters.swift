import Foundation
import Logging
import TTADAdaptation
import TTADModel
import TTADPresets
import TTADProtocol

/// The drift monitors, one per adapted state: in global scope one for every stream, as always;
/// with `scope = "stream"` each state's streams get their own windows, reference and detectors,
/// so a foggy camera's drift is not averaged away by a clear one's, and every `drift` record and
/// drift series names its state.
///
/// Bounded like the states themselves (`max_live_states + max_saved_states` monitors): past
/// that, the least recently used monitor is forgotten and its state's next sample starts a new
/// reference window. Every monitor is checkpointed (section `drift`, or `drift_states` in stream
/// scope). Owned by the processing thread.
struct DriftReporters {
    private let section: DriftSection
    private let configuration: DriftMonitor.Configuration
    private let perState: Bool
    private let capacity: Int
    private let metrics: DriftMetrics
    private let label: (String) -> String
    private let logger: Logger
    private var reporters: [String: DriftReporter] = [:]
    /// State names, least recently used first.
    private var recency: [String] = []
    private var restored: [String: DriftMonitor]

    /// `restored`: the last checkpoint's monitors by state name (global scope: one, under
    /// `StateScopeSection.globalName`); a monitor whose configuration changed starts afresh.
    init(section: DriftSection, configuration: DriftMonitor.Configuration, scope: StateScopeSection,
         restored: [String: DriftMonitor], metrics: DriftMetrics, label: @escaping (String) -> String, logger: Logger) {
        self.section = section
        self.configuration = configuration
        perState = scope.scope == .stream
        capacity = scope.maxLiveStates + scope.maxSavedStates
        self.metrics = metrics
        self.label = label
        self.logger = logger
        self.restored = restored
    }

    /// Observes one prediction of `state`'s samples; returns the record when one is due.
    mutating func observe(state: String, _ r: ClassificationResult, features: UnsafeBufferPointer<Float>) -> DriftRecord? {
        let name = perState ? state : StateScopeSection.globalName
        var reporter = reporters.removeValue(forKey: name) ?? make(name)
        let due = reporter.observe(r, features: features)
        let record = due ? reporter.record(tsS: Date().timeIntervalSince1970) : nil
        reporters[name] = reporter
        touch(name)
        return record
    }

    /// Every monitor, for the checkpoint.
    var saved: SavedDrift {
        var all = restored   // those not seen since the restart still count
        for (name, r) in reporters { all[name] = r.monitor }
        return perState ? .states(all) : .global(all[StateScopeSection.globalName])
    }

    private mutating func make(_ name: String) -> DriftReporter {
        DriftReporter(section: section, configuration: configuration, restored: restored.removeValue(forKey: name),
                      state: perState ? name : nil, series: metrics.series(label: perState ? label(name) : nil),
                      logger: logger)
    }

    private mutating func touch(_ name: String) {
        if let i = recency.lastIndex(of: name) { recency.remove(at: i) }
        recency.append(name)
        while recency.count > capacity {
            let old = recency.removeFirst()
            reporters[old] = nil
        }
        // Restored monitors not seen again since the restart go first.
        while reporters.count + restored.count > capacity, let any = restored.keys.first {
            restored[any] = nil
        }
    }
}
