import Foundation
import TTADProtocol
import TTADState
import XCTest
@testable import TTADDaemon

/// State survives restarts; state that belongs to another model is moved aside, not reused.
final class DaemonStateTests: XCTestCase {
    func testRestartContinuesFromTheFinalCheckpoint() throws {
        let env = try TestDaemonEnvironment()
        var probes: UInt64 = 0
        do {
            let daemon = env.makeDaemon()
            try daemon.start()
            XCTAssertEqual(daemon.openOutcome, .created)
            let client = try TestClient(ingest: daemon.endpoints.ingest[0], publish: daemon.endpoints.publish[0])
            try client.waitUntilConnected()
            probes = client.probesSent
            for seq in 0..<10 {
                try client.sendEmbedding(stream: "r", seq: UInt64(seq), values: TestDaemonEnvironment.embedding(forClass: 0))
            }
            XCTAssertEqual(try client.receive(count: 10).compactMap(\.prediction).count, 10)
            XCTAssertEqual(daemon.stop(reason: "test restart"), .clean)
        }
        let daemon = env.makeDaemon()
        try daemon.start()
        defer { daemon.stop(reason: "test") }
        guard case .restored(let last)? = daemon.openOutcome else { return XCTFail("\(String(describing: daemon.openOutcome))") }
        XCTAssertEqual(last?.reason, "shutdown")
        XCTAssertEqual(last?.samplesProcessed, Int64(10 + probes))

        let client = try TestClient(ingest: daemon.endpoints.ingest[0], publish: daemon.endpoints.publish[0])
        try client.waitUntilConnected()
        // The stream continues where it was: no gap, no restart reported.
        for seq in 10..<15 {
            try client.sendEmbedding(stream: "r", seq: UInt64(seq), values: TestDaemonEnvironment.embedding(forClass: 0))
        }
        XCTAssertEqual(try client.receive(count: 5).compactMap(\.prediction).count, 5)
        var m = daemon.metrics.exposition()
        XCTAssertEqual(metricValue(m, "ttad_sequence_missing_total"), 0)
        XCTAssertEqual(metricValue(m, "ttad_sequence_restarts_total"), 0)
        XCTAssertEqual(metricValue(m, "ttad_samples_out_of_order_total"), 0)
        // ...and a real gap after the restart is still seen.
        try client.sendEmbedding(stream: "r", seq: 20, values: TestDaemonEnvironment.embedding(forClass: 0))
        _ = try client.receive(count: 1) { $0.prediction != nil }
        m = daemon.metrics.exposition()
        XCTAssertEqual(metricValue(m, "ttad_sequence_missing_total"), 5)
    }

    func testStopWritesFinalCheckpointAndEventLog() throws {
        let env = try TestDaemonEnvironment()
        let daemon = env.makeDaemon()
        try daemon.start()
        let client = try TestClient(ingest: daemon.endpoints.ingest[0], publish: daemon.endpoints.publish[0])
        try client.waitUntilConnected()
        let probes = client.probesSent
        XCTAssertEqual(daemon.stop(reason: "test"), .clean)
        var opts = StateStoreOptions()
        opts.exclusiveLock = true
        let (store, outcome) = try StateStore.open(directory: env.config.daemon.stateDirectory,
                                                   fingerprint: try FingerprintMaker.make(config: env.config),
                                                   logger: .init(label: "t"), options: opts)
        defer { try? store.close() }
        guard case .restored(let info?) = outcome else { return XCTFail("\(outcome)") }
        XCTAssertEqual(info.reason, "shutdown")
        // Probes that were answered before the stop are in the checkpoint.
        XCTAssertGreaterThanOrEqual(info.samplesProcessed, 1)
        XCTAssertLessThanOrEqual(info.samplesProcessed, Int64(probes))
        let kinds = try store.events(limit: 10).map(\.kind)
        XCTAssertTrue(kinds.contains("start"), "\(kinds)")
        XCTAssertTrue(kinds.contains("stop"), "\(kinds)")
    }

    func testChangedModelMovesOldStateAside() throws {
        let env = try TestDaemonEnvironment()
        do {
            let daemon = env.makeDaemon()
            try daemon.start()
            daemon.stop(reason: "test")
        }
        try TestDaemonEnvironment.writeClasses(to: env.embeddingsPath, scale: 2)
        let daemon = env.makeDaemon()
        try daemon.start()
        defer { daemon.stop(reason: "test") }
        guard case .movedAside(let reason, let path)? = daemon.openOutcome else {
            return XCTFail("\(String(describing: daemon.openOutcome))")
        }
        XCTAssertTrue(reason.contains("model_sha256"), reason)
        XCTAssertTrue(FileManager.default.fileExists(atPath: path), path)
    }

    func testCorruptDatabaseIsMovedAsideAndTheDaemonRuns() throws {
        let env = try TestDaemonEnvironment()
        let dir = env.config.daemon.stateDirectory
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let garbage = Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        try garbage.write(to: URL(fileURLWithPath: dir + "/ttad.sqlite"))
        let daemon = env.makeDaemon()
        try daemon.start()
        defer { daemon.stop(reason: "test") }
        guard case .movedAside(let reason, let path)? = daemon.openOutcome else {
            return XCTFail("\(String(describing: daemon.openOutcome))")
        }
        XCTAssertTrue(reason.hasPrefix("corrupt"), reason)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), garbage, "the original bytes are kept")
    }

    func testBadClassEmbeddingsFailStartWithAClearError() throws {
        let env = try TestDaemonEnvironment()
        try Data("not a safetensors file".utf8).write(to: URL(fileURLWithPath: env.embeddingsPath))
        let daemon = env.makeDaemon()
        XCTAssertThrowsError(try daemon.start()) { e in
            XCTAssertTrue("\(e)".contains(env.embeddingsPath), "\(e)")
        }
    }
}

final class DaemonCheckpointTests: XCTestCase {
    func testPeriodicCheckpointIsWrittenAndAnnounced() throws {
        let env = try TestDaemonEnvironment()
        env.config.state.checkpointEverySamples = 5
        let (daemon, client) = try env.startWithClient()
        defer { daemon.stop(reason: "test") }
        for seq in 0..<12 {
            try client.sendEmbedding(stream: "c", seq: UInt64(seq), values: TestDaemonEnvironment.embedding(forClass: 1))
        }
        let events = try client.receive(count: 1, timeout: 5) { $0.event?.kind == "checkpoint" }.compactMap(\.event)
        XCTAssertEqual(events.first?.detail.first { $0.key == "reason" }?.value, .string("periodic"))
        XCTAssertGreaterThanOrEqual(metricValue(daemon.metrics.exposition(), "ttad_checkpoints_total") ?? 0, 1)
        XCTAssertGreaterThan(metricValue(daemon.metrics.exposition(), "ttad_checkpoint_last_success_timestamp_seconds") ?? 0, 0)
    }
}
