import Foundation
import Logging
import TTADAdaptation
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
            let dec = JSONDecoder()
            if let b = c.sections[Self.sequenceSection] { r.sequences = try dec.decode(SequenceTracker.self, from: Data(b)) }
            if let b = c.sections[Self.countersSection] { r.counters = try dec.decode(ProcessingCounters.self, from: Data(b)) }
            if let b = c.sections[Self.driftSection] { r.drift[StateScopeSection.globalName] = try dec.decode(DriftMonitor.self, from: Data(b)) }
            if let b = c.sections[Self.driftStatesSection] { r.drift = try dec.decode([String: DriftMonitor].self, from: Data(b)) }
            if let b = c.sections[Self.outliersSection] { r.outliers = try dec.decode(ThresholdCalibrator.self, from: Data(b)) }
            if let b = c.sections[Self.adaptationSection] { r.adaptation = try dec.decode(AdaptationCheckpoint.self, from: Data(b)) }
            if let b = c.sections[Self.adaptationStatesSection] { r.adaptationStates = try dec.decode(StatesCheckpoint.self, from: Data(b)) }
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
            let enc = JSONEncoder()
            enc.outputFormatting = .sortedKeys
            var c = Checkpoint(samplesProcessed: counters.samplesProcessed, promptVersion: Int64(adaptation.version))
            c.sections[Self.sequenceSection] = Array(try enc.encode(sequences))
            c.sections[Self.countersSection] = Array(try enc.encode(counters))
            switch drift {
            case .global(nil): break
            case .global(let m?): c.sections[Self.driftSection] = Array(try enc.encode(m))
            case .states(let all): c.sections[Self.driftStatesSection] = Array(try enc.encode(all))
            }
            if let outliers { c.sections[Self.outliersSection] = Array(try enc.encode(outliers)) }
            switch adaptation {
            case .global(nil):
                break
            case .global(let adaptation?):
                c.sections[Self.adaptationSection] = Array(try enc.encode(adaptation))
                // The adapted tensors also go in as a prompt snapshot: kept longer, inspectable alone.
                if let p = adaptation.adaptedTensors {
                    c.promptSnapshot = PromptSnapshot(version: Int64(adaptation.version), tensors: p, shapes: p.mapValues { [$0.count] })
                }
            case .streams(let states):
                c.sections[Self.adaptationStatesSection] = Array(try enc.encode(states))
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
