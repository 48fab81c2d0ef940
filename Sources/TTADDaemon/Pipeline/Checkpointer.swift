import Foundation
import Logging
import TTADAdaptation
import TTADEngine
import TTADPresets
import TTADProtocol
import TTADState

/// What a restart continues from.
struct RestoredState {
    var sequences = SequenceTracker()
    var counters = ProcessingCounters()
    /// The drift monitor(s), by state name (global scope: one, under `StateScopeSection.globalName`).
    var drift: [String: DriftMonitor] = [:]
    var outliers: ThresholdCalibrator?
    var adaptation: AdaptationCheckpoint?
    /// `scope = "stream"`'s states (a checkpoint has this or `adaptation`, per the scope it was
    /// written in).
    var adaptationStates: StatesCheckpoint?
    var fromCheckpoint: CheckpointInfo?
}

/// The adapted state a checkpoint saves: the one preset's in global scope, every state's in
/// stream scope.
enum SavedAdaptation {
    case global(AdaptationCheckpoint?)
    case streams(StatesCheckpoint)

    var version: Int {
        switch self {
        case .global(let c): return c?.version ?? 0
        case .streams(let c): return c.version
        }
    }
}

/// The drift monitors a checkpoint saves: the one in global scope, every state's in stream scope.
enum SavedDrift {
    case global(DriftMonitor?)
    case states([String: DriftMonitor])
}

/// Writes the daemon's state into the store and reads it back at start.
///
/// A failed checkpoint is logged and counted, never fatal: the daemon keeps predicting and the
/// previous checkpoint stays intact (each write is one transaction). `ttad_checkpoint_failing`
/// stays 1 (and /healthz's text says so) until a later attempt succeeds, since the failures
/// counter alone cannot tell an operator whether state is still not being saved.
final class Checkpointer: @unchecked Sendable {
    static let sequenceSection = "sequence"
    static let countersSection = "counters"
    static let driftSection = "drift"
    static let driftStatesSection = "drift_states"
    static let outliersSection = "outliers"
    static let adaptationSection = "adaptation"
    static let adaptationStatesSection = "adaptation_states"

    let store: StateStore
    private let metrics: DaemonMetrics
    private let health: HealthState
    private let logger: Logger

    init(store: StateStore, metrics: DaemonMetrics, health: HealthState, logger: Logger) {
        self.store = store
        self.metrics = metrics
        self.health = health
        self.logger = logger
    }

    func restore() -> RestoredState {
        var r = RestoredState()
        do {
            guard let (info, c) = try store.latestCheckpointWithInfo() else { return r }
            // decodeSection also reads the JSON sections written before state archives existed.
            func read<T: Decodable>(_ t: T.Type, _ name: String) throws -> T? {
                try c.sections[name].map { try StateArchive.decodeSection(t, from: $0) }
            }
            if let s = try read(SequenceTracker.self, Self.sequenceSection) { r.sequences = s }
            if let s = try read(ProcessingCounters.self, Self.countersSection) { r.counters = s }
            // `drift` (global scope, and every checkpoint before per-state monitors) is the one
            // monitor under the global name; `drift_states` holds every state's.
            if let m = try read(DriftMonitor.self, Self.driftSection) { r.drift[StateScopeSection.globalName] = m }
            if let all = try read([String: DriftMonitor].self, Self.driftStatesSection) { r.drift = all }
            r.outliers = try read(ThresholdCalibrator.self, Self.outliersSection)
            r.adaptation = try read(AdaptationCheckpoint.self, Self.adaptationSection)
            r.adaptationStates = try read(StatesCheckpoint.self, Self.adaptationStatesSection)
            r.fromCheckpoint = info
        } catch {
            // The store already vouched for the file; a section we cannot read is our bug or a
            // downgrade. Start from zero rather than refuse to run, and say so.
            logger.error("checkpoint sections unreadable, starting from fresh state: \(error)")
            r = RestoredState()
        }
        return r
    }

    @discardableResult
    func write(sequences: SequenceTracker, counters: ProcessingCounters, drift: SavedDrift = .global(nil), outliers: ThresholdCalibrator?,
               adaptation: SavedAdaptation = .global(nil), reason: String) -> CheckpointInfo? {
        let t0 = DispatchTime.now().uptimeNanoseconds
        do {
            // Every section is a state archive: tensors raw, the rest a small JSON part.
            var c = Checkpoint(samplesProcessed: counters.samplesProcessed, promptVersion: Int64(adaptation.version))
            c.sections[Self.sequenceSection] = try StateArchive.encode(sequences)
            c.sections[Self.countersSection] = try StateArchive.encode(counters)
            switch drift {
            case .global(nil): break
            case .global(let m?): c.sections[Self.driftSection] = try StateArchive.encode(m)
            case .states(let all): c.sections[Self.driftStatesSection] = try StateArchive.encode(all)
            }
            if let outliers { c.sections[Self.outliersSection] = try StateArchive.encode(outliers) }
            switch adaptation {
            case .global(nil):
                break
            case .global(let adaptation?):
                c.sections[Self.adaptationSection] = try StateArchive.encode(adaptation)
                // The adapted tensors also go in as a prompt snapshot: kept longer, inspectable alone.
                if let p = adaptation.adaptedTensors {
                    c.promptSnapshot = PromptSnapshot(version: Int64(adaptation.version), tensors: p, shapes: p.mapValues { [$0.count] })
                }
            case .streams(let states):
                c.sections[Self.adaptationStatesSection] = try StateArchive.encode(states)
            }
            let info = try store.writeCheckpoint(c, reason: reason)
            metrics.checkpoints.increment()
            metrics.checkpointDuration.record(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
            metrics.lastCheckpointTimestamp.set(Date().timeIntervalSince1970)
            health.setCheckpointFailing(false)
            metrics.checkpointFailing.set(0.0)
            return info
        } catch {
            metrics.checkpointFailures.increment()
            health.setCheckpointFailing(true)
            metrics.checkpointFailing.set(1.0)
            logger.error("checkpoint failed (previous checkpoint kept): \(error)")
            return nil
        }
    }
}

