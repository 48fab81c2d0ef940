import Foundation
import TTADAdaptation
import TTADDaemon
import TTADEngine
import TTADPresets
import TTADProtocol

/// Seed inputs for fuzz-checkpoint, encoded from real objects as the daemon's Checkpointer
/// encodes them (state archives). The *.json seeds beside them were written by this code before
/// archives existed and stay, so the fuzzer also runs the migration path (drift-states.json, whose
/// section came after, is written here in that JSON).
enum CheckpointSeeds {
    static func write(into dir: URL, presets: Presets) throws {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        func save(_ name: String, _ section: Section, _ bytes: [UInt8]) throws {
            try Data([section.rawValue] + bytes).write(to: dir.appendingPathComponent(name))
        }

        var seq = SequenceTracker(maxStreams: 8)
        for (stream, s) in [("cam-1", 0), ("cam-1", 1), ("cam-2", 5), ("cam-1", 4)] { _ = seq.observe(stream: stream, seq: UInt64(s)) }
        try save("sequence.archive", .sequence, try StateArchive.encode(seq))

        var counters = ProcessingCounters()
        counters.samplesProcessed = 120
        counters.rejected = ["bad_json": 2, "payload_length": 1]
        counters.dropped = ["queue_full": 3]
        counters.sequenceMissing = 4
        counters.restarts = 1
        try save("counters.archive", .counters, try StateArchive.encode(counters))

        func driftMonitor(_ entropy: Float) throws -> DriftMonitor {
            var m = DriftMonitor(configuration: try DriftMonitor.Configuration(classCount: 3, window: 4, embeddingDimension: 2))
            for k in 0..<6 {
                _ = try m.observe(entropy: entropy + Float(k) * 0.1, confidence: 0.8, predictedClass: k % 3, frozenClass: (k + 1) % 3,
                                  embedding: [Float(k), 1])
            }
            return m
        }
        try save("drift.archive", .drift, try StateArchive.encode(try driftMonitor(0.3)))
        // One monitor per state (scope = "stream"). The drift_states section existed as JSON
        // before archives did, so its JSON seed is written here too, with the pre-archive
        // Checkpointer's encoder.
        let states = ["cam-1": try driftMonitor(0.2), "cam-2": try driftMonitor(0.6)]
        try save("drift-states.archive", .driftStates, try StateArchive.encode(states))
        let json = JSONEncoder()
        json.outputFormatting = .sortedKeys
        try save("drift-states.json", .driftStates, Array(try json.encode(states)))

        var calibrating = try ThresholdCalibrator(sampleCount: 8)
        for s: Float in [0.1, 0.2, 0.4] { _ = calibrating.observe(s) }
        try save("outliers-calibrating.archive", .outliers, try StateArchive.encode(calibrating))
        try save("outliers-fixed.archive", .outliers, try StateArchive.encode(try ThresholdCalibrator(fixedThreshold: 0.7)))

        // Each preset's state after a little work (tda: a few batches fill its caches).
        for _ in 0..<3 { presets.scoreEmbeddingBatch() }
        for (name, preset) in presets.all {
            guard let c = preset.checkpoint() else { continue }
            try save("adaptation-\(name.rawValue).archive", .adaptation, try StateArchive.encode(c))
        }
    }
}
