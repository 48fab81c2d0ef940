import Foundation
import Logging
import TTADAdaptation
import TTADEngine
import TTADPresets
import TTADProtocol
import TTADState
import XCTest
@testable import TTADDaemon

/// The Checkpointer across the change to state archives: a store whose newest checkpoint has
/// the JSON sections of before is restored (an upgraded daemon continues), the next checkpoint
/// is written as archives and restores to the same state (the drift sections in both their JSON
/// forms too), and a damaged archive is treated as any unreadable checkpoint was: logged, fresh
/// state.
final class CheckpointerMigrationTests: XCTestCase {
    private var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("ttad-ckpt-migration-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    private func checkpointer() throws -> Checkpointer {
        let (store, _) = try StateStore.open(directory: dir.path, fingerprint: StateFingerprint(modelID: "m", modelSHA256: "a", configSHA256: "b"),
                                             logger: Logger(label: "t"))
        return Checkpointer(store: store, metrics: DaemonMetrics(version: "t", mode: "embedding"), health: HealthState(), logger: Logger(label: "t"))
    }

    /// tda's state as the code before archives checkpointed it (a fuzz seed of commit eb96135).
    private func legacyTDASection() throws -> [UInt8] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("TTADPresetsTests/Fixtures/legacy-checkpoint/adaptation-tda.json")
        return Array(try Data(contentsOf: url))
    }

    private func canonical<T: Encodable>(_ v: T) throws -> String {
        let enc = JSONEncoder()
        enc.outputFormatting = .sortedKeys
        return String(decoding: try enc.encode(v), as: UTF8.self)
    }

    func testPreArchiveCheckpointIsContinuedAndRewrittenAsArchives() throws {
        var seq = SequenceTracker(maxStreams: 8)
        _ = seq.observe(stream: "cam-1", seq: 41)
        _ = seq.observe(stream: "cam-2", seq: 7)
        var counters = ProcessingCounters()
        counters.samplesProcessed = 48
        counters.rejected = ["bad_json": 2]
        let legacyTDA = try legacyTDASection()
        let old = try JSONDecoder().decode(AdaptationCheckpoint.self, from: Data(legacyTDA))
        XCTAssertNotNil(old.tda)
        let enc = JSONEncoder()
        enc.outputFormatting = .sortedKeys  // the pre-archive Checkpointer's encoder
        let c = try checkpointer()
        _ = try c.store.writeCheckpoint(Checkpoint(samplesProcessed: 48, promptVersion: Int64(old.version), sections: [
            Checkpointer.sequenceSection: Array(try enc.encode(seq)),
            Checkpointer.countersSection: Array(try enc.encode(counters)),
            Checkpointer.adaptationSection: legacyTDA,
        ]), reason: "periodic")

        let r = c.restore()
        XCTAssertNotNil(r.fromCheckpoint, "the pre-archive checkpoint is continued")
        XCTAssertEqual(r.counters, counters)
        XCTAssertEqual(r.sequences.lastSeq(stream: "cam-1"), 41)
        XCTAssertEqual(r.sequences.lastSeq(stream: "cam-2"), 7)
        let adaptation = try XCTUnwrap(r.adaptation)
        XCTAssertEqual(try canonical(adaptation), try canonical(old))

        XCTAssertNotNil(c.write(sequences: r.sequences, counters: r.counters, outliers: nil, adaptation: .global(adaptation),
                                reason: "periodic"))
        let (_, next) = try XCTUnwrap(try c.store.latestCheckpointWithInfo())
        for name in [Checkpointer.sequenceSection, Checkpointer.countersSection, Checkpointer.adaptationSection] {
            XCTAssertTrue(StateArchive.isArchive(try XCTUnwrap(next.sections[name])), "\(name) is written as an archive")
        }
        let again = c.restore()
        XCTAssertEqual(again.counters, counters)
        XCTAssertEqual(again.sequences.lastSeq(stream: "cam-1"), 41)
        XCTAssertEqual(try canonical(try XCTUnwrap(again.adaptation)), try canonical(old))
        try c.store.close()
    }

    private func driftMonitor(_ entropy: Float) throws -> DriftMonitor {
        var m = DriftMonitor(configuration: try DriftMonitor.Configuration(classCount: 3, window: 4, embeddingDimension: 2))
        for k in 0..<6 {
            _ = try m.observe(entropy: entropy + Float(k) * 0.1, confidence: 0.8, predictedClass: k % 3, frozenClass: (k + 1) % 3,
                              embedding: [Float(k), 1])
        }
        return m
    }

    /// Both JSON forms of drift state before archives: the single `drift` section (global scope,
    /// and every checkpoint before per-state monitors) and `drift_states` (one monitor per state).
    /// Each is continued and the next checkpoint writes it as an archive.
    func testPreArchiveDriftSectionsAreContinuedAndRewrittenAsArchives() throws {
        let enc = JSONEncoder()
        enc.outputFormatting = .sortedKeys  // the pre-archive Checkpointer's encoder
        let one = try driftMonitor(0.3)
        let states = ["cam-1": try driftMonitor(0.2), "cam-2": try driftMonitor(0.6)]
        let cases: [(String, [UInt8], [String: DriftMonitor], SavedDrift, String)] = [
            (Checkpointer.driftSection, Array(try enc.encode(one)), [StateScopeSection.globalName: one], .global(one), Checkpointer.driftSection),
            (Checkpointer.driftStatesSection, Array(try enc.encode(states)), states, .states(states), Checkpointer.driftStatesSection),
        ]
        for (name, json, expected, saved, written) in cases {
            let c = try checkpointer()
            _ = try c.store.writeCheckpoint(Checkpoint(samplesProcessed: 6, promptVersion: 0, sections: [name: json]), reason: "periodic")
            let r = c.restore()
            XCTAssertNotNil(r.fromCheckpoint, "\(name) in JSON is continued")
            XCTAssertEqual(r.drift, expected, name)

            XCTAssertNotNil(c.write(sequences: r.sequences, counters: r.counters, drift: saved, outliers: nil, reason: "periodic"))
            let (_, next) = try XCTUnwrap(try c.store.latestCheckpointWithInfo())
            XCTAssertTrue(StateArchive.isArchive(try XCTUnwrap(next.sections[written])), "\(written) is written as an archive")
            XCTAssertEqual(c.restore().drift, expected, "\(name) after its archive round trip")
            try c.store.close()
            try FileManager.default.removeItem(at: dir)
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        }
    }

    func testDamagedArchiveStartsFresh() throws {
        var counters = ProcessingCounters()
        counters.samplesProcessed = 9
        let archive = try StateArchive.encode(try JSONDecoder().decode(AdaptationCheckpoint.self, from: Data(try legacyTDASection())))
        let c = try checkpointer()
        _ = try c.store.writeCheckpoint(Checkpoint(samplesProcessed: 9, promptVersion: 1, sections: [
            Checkpointer.countersSection: try StateArchive.encode(counters),
            Checkpointer.adaptationSection: Array(archive.dropLast(5)),
        ]), reason: "periodic")
        let r = c.restore()
        XCTAssertNil(r.fromCheckpoint)
        XCTAssertNil(r.adaptation)
        XCTAssertEqual(r.counters, ProcessingCounters())
        try c.store.close()
    }
}
