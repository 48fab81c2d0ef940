import Foundation
import TTADProtocol
import TTADZMQ
import XCTest
@testable import TTADDaemon

/// Samples in over real sockets, predictions out: PULL and SUB ingest, tcp and ipc.
final class DaemonIngestTests: XCTestCase {
    func testPullOverTCPPredictsEverySampleInOrder() throws {
        let env = try TestDaemonEnvironment()
        let (daemon, client) = try env.startWithClient()
        defer { daemon.stop(reason: "test") }

        for seq in 0..<20 {
            let cls = seq % 4
            try client.sendEmbedding(stream: seq < 10 ? "camA" : "camB", seq: UInt64(seq % 10),
                                     values: TestDaemonEnvironment.embedding(forClass: cls), label: .index(cls))
        }
        let preds = try client.receive(count: 20).compactMap(\.prediction)
        XCTAssertEqual(preds.count, 20)
        for p in preds {
            guard case .index(let label)? = p.label else { return XCTFail("label not echoed: \(p)") }
            XCTAssertEqual(p.top.first?.index, label, "\(p)")
            XCTAssertEqual(p.top.first?.className, TestDaemonEnvironment.classNames[label])
            XCTAssertEqual(p.top.count, 3)
            XCTAssertEqual(p.id, "\(p.stream)-\(p.seq)")
            XCTAssertGreaterThan(p.entropy, 0)
            XCTAssertEqual(p.promptVersion, 0)
            XCTAssertNotNil(p.latencySeconds)
            XCTAssertFalse(p.outlier)
            let sum = p.top.reduce(Float(0)) { $0 + $1.p }
            XCTAssertLessThanOrEqual(sum, 1.0001)
        }
        // PULL is lossless and the loop is single-threaded: per-stream order is kept.
        XCTAssertEqual(preds.filter { $0.stream == "camA" }.map(\.seq), Array(0..<10))
        XCTAssertEqual(preds.filter { $0.stream == "camB" }.map(\.seq), Array(0..<10))
        let m = daemon.metrics.exposition()
        XCTAssertEqual(metricValue(m, "ttad_samples_processed_total"), Double(20 + client.probesSent))
        XCTAssertEqual(metricValue(m, "ttad_sequence_missing_total"), 0)
    }

    func testIPCEndpoints() throws {
        let env = try TestDaemonEnvironment()
        env.config.ingest.endpoints = ["ipc://\(env.directory.path)/in.sock"]
        env.config.publish.endpoints = ["ipc://\(env.directory.path)/out.sock"]
        let (daemon, client) = try env.startWithClient()
        defer { daemon.stop(reason: "test") }
        try client.sendEmbedding(stream: "s", seq: 0, values: TestDaemonEnvironment.embedding(forClass: 2))
        let p = try client.receive(count: 1).first?.prediction
        XCTAssertEqual(p?.top.first?.className, "gamma")
    }

    func testSubIngestFiltersByTopicPrefix() throws {
        let env = try TestDaemonEnvironment()
        env.config.ingest.pattern = .sub
        env.config.ingest.topics = ["cam", "probe"]
        let (daemon, client) = try env.startWithClient(inputType: .pub)
        defer { daemon.stop(reason: "test") }
        for seq in 0..<5 {
            try client.sendEmbedding(stream: "cam7", seq: UInt64(seq), values: TestDaemonEnvironment.embedding(forClass: 1))
            try client.sendEmbedding(stream: "door1", seq: UInt64(seq), values: TestDaemonEnvironment.embedding(forClass: 1))
        }
        let out = try client.receive(count: 6, timeout: 2)
        let streams = Set(out.compactMap(\.prediction).map(\.stream))
        XCTAssertEqual(out.compactMap(\.prediction).count, 5)
        XCTAssertEqual(streams, ["cam7"], "door1 is not subscribed")
        XCTAssertEqual(daemon.config.ingest.effectiveOverflow, .dropOldest)
    }

    func testSequenceGapIsCountedAndAnnounced() throws {
        let env = try TestDaemonEnvironment()
        let (daemon, client) = try env.startWithClient()
        defer { daemon.stop(reason: "test") }
        for seq: UInt64 in [0, 1, 5, 6, 0] {
            try client.sendEmbedding(stream: "g", seq: seq, values: TestDaemonEnvironment.embedding(forClass: 0))
        }
        let out = try client.receive(count: 7, timeout: 5)
        XCTAssertEqual(out.compactMap(\.prediction).count, 5)
        let events = out.compactMap(\.event)
        let gap = events.first { $0.kind == "gap" }
        let detail = gap.map { JSONValue.object($0.detail) }
        XCTAssertEqual(detail?["last_seq"], .int(1))
        XCTAssertEqual(detail?["seq"], .int(5))
        XCTAssertEqual(detail?["missing"], .int(3))
        XCTAssertEqual(detail?["gaps"], .int(1))
        // The gap is published before the restart that followed it (a held gap is flushed first).
        XCTAssertEqual(events.map(\.kind).filter { $0 == "gap" || $0 == "restart" }, ["gap", "restart"])
        let m = daemon.metrics.exposition()
        XCTAssertEqual(metricValue(m, "ttad_sequence_missing_total"), 3)
        XCTAssertEqual(metricValue(m, "ttad_sequence_restarts_total"), 1)
    }

    func testOutlierThresholdFlagsFarEmbeddings() throws {
        let env = try TestDaemonEnvironment()
        env.config.classifier.outlierThreshold = 0.5
        let (daemon, client) = try env.startWithClient()
        defer { daemon.stop(reason: "test") }
        // Equal weight on the last 4 axes, where no class lives: cosine 0 with every class.
        let far: [Float] = [0, 0, 0, 0, 1, 1, 1, 1]
        try client.sendEmbedding(stream: "o", seq: 0, values: far)
        try client.sendEmbedding(stream: "o", seq: 1, values: TestDaemonEnvironment.embedding(forClass: 3, noise: 0))
        let preds = try client.receive(count: 2).compactMap(\.prediction)
        XCTAssertEqual(preds.map(\.outlier), [true, false])
        XCTAssertEqual(Double(preds[0].outlierScore ?? 0), 1, accuracy: 1e-5)
        XCTAssertEqual(Double(preds[1].outlierScore ?? 1), 0, accuracy: 1e-5)
    }
}
