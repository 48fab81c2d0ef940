import Foundation
import Logging
import TTADAdaptation
import TTADEngine
import TTADPresets
import TTADProtocol
import TTADState

/// Size and encode/decode time of a state directory's newest checkpoint, section by section, in
/// the JSON sections were written in before state archives and as archives (`ttad
/// bench-checkpoint`). Each section is read (in whichever format it is stored), then encoded and
/// decoded both ways, so the two columns describe the same state.
public enum CheckpointFormatBench {
    public struct Row: Sendable {
        public var section: String
        public var jsonBytes: Int
        public var archiveBytes: Int
        /// Median seconds.
        public var jsonEncode: Double, archiveEncode: Double, jsonDecode: Double, archiveDecode: Double
    }

    public static func measure(directory: String, reps: Int, logger: Logger) throws -> (checkpoint: Int64, rows: [Row]) {
        let store = try StateStore.openForReading(directory: directory, logger: logger)
        defer { try? store.close() }
        guard let (info, c) = try store.latestCheckpointWithInfo() else { throw StateTransfer.Failure("\(directory) holds no checkpoint yet") }
        var rows: [Row] = []
        func add<T: Codable>(_ name: String, _ type: T.Type) throws {
            guard let bytes = c.sections[name] else { return }
            let value = try StateArchive.decodeSection(type, from: bytes)
            // The pre-archive Checkpointer's encoder.
            let enc = JSONEncoder()
            enc.outputFormatting = .sortedKeys
            let json = try enc.encode(value)
            let archive = try StateArchive.encode(value)
            rows.append(Row(section: name, jsonBytes: json.count, archiveBytes: archive.count,
                            jsonEncode: try median(reps) { _ = try enc.encode(value) },
                            archiveEncode: try median(reps) { _ = try StateArchive.encode(value) },
                            jsonDecode: try median(reps) { _ = try JSONDecoder().decode(type, from: json) },
                            archiveDecode: try median(reps) { _ = try StateArchive.decode(type, from: archive) }))
        }
        try add(Checkpointer.sequenceSection, SequenceTracker.self)
        try add(Checkpointer.countersSection, ProcessingCounters.self)
        try add(Checkpointer.driftSection, DriftMonitor.self)
        try add(Checkpointer.driftStatesSection, [String: DriftMonitor].self)
        try add(Checkpointer.outliersSection, ThresholdCalibrator.self)
        try add(Checkpointer.adaptationSection, AdaptationCheckpoint.self)
        try add(Checkpointer.adaptationStatesSection, StatesCheckpoint.self)
        return (info.id, rows)
    }

    static func median(_ reps: Int, _ body: () throws -> Void) throws -> Double {
        try body()  // warm-up
        var times: [Double] = []
        for _ in 0..<max(1, reps) {
            let t0 = DispatchTime.now().uptimeNanoseconds
            try body()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
        }
        times.sort()
        return times[times.count / 2]
    }
}
