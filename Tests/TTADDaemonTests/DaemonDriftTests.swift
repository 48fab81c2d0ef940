import Foundation
import TTADProtocol
import XCTest
@testable import TTADDaemon

/// The drift monitor inside the daemon: `drift` messages every N samples with the window's
/// statistics, an alarm after a real shift, the drift metrics, and detectors that survive a restart.
final class DaemonDriftTests: XCTestCase {
    /// Confident class-0 embeddings, then ambiguous ones that the classifier calls class 2.
    private static let confident = TestDaemonEnvironment.embedding(forClass: 0, noise: 0)
    private static let ambiguous: [Float] = [0.9, 0.9, 1, 0.9, 0, 0, 0, 0]

    private func driftRecords(_ client: TestClient, count: Int, timeout: Double = 20) throws -> [DriftRecord] {
        try client.receive(count: count, timeout: timeout) { if case .drift = $0 { return true } else { return false } }
            .compactMap { if case .drift(let d) = $0 { return d } else { return nil } }
    }

    private func stat(_ d: DriftRecord, _ name: String) -> Double? { d.stats.first { $0.name == name }?.value }

    func testShiftRaisesAnAlarmAndMovesTheStatisticsThenSurvivesARestart() throws {
        let env = try TestDaemonEnvironment()
        env.config.drift.window = 64
        env.config.drift.publishEverySamples = 64
        env.config.drift.pageHinkleyThreshold = 20
        var (daemon, client) = try env.startWithClient()
        let probes = Int(client.probesSent)
        // Fill the rest of the first 64-sample window (the reference) with confident samples.
        var seq: UInt64 = 0
        func send(_ v: [Float], _ n: Int) throws {
            for _ in 0..<n { try client.sendEmbedding(stream: "cam", seq: seq, values: v); seq += 1 }
        }
        try send(Self.confident, 256 - probes)
        let calm = try driftRecords(client, count: 4)
        XCTAssertEqual(calm.count, 4)
        for d in calm {
            XCTAssertEqual(d.window, 64)
            XCTAssertEqual(d.alarms, [], "no alarm on a stationary stream")
            XCTAssertEqual(stat(d, "class_divergence_bits") ?? -1, 0, accuracy: 0.05)
        }
        XCTAssertEqual(stat(calm[3], "samples_observed"), 256)
        XCTAssertEqual(stat(calm[3], "reference_complete"), 1)

        try send(Self.ambiguous, 256)
        let shifted = try driftRecords(client, count: 4)
        XCTAssertEqual(shifted.count, 4)
        XCTAssertTrue(shifted.contains { $0.alarms.contains("entropy_shift") }, "\(shifted.map(\.alarms))")
        let last = try XCTUnwrap(shifted.last)
        XCTAssertGreaterThan(stat(last, "mean_entropy")!, stat(calm[3], "mean_entropy")! + 0.3)
        XCTAssertLessThan(stat(last, "mean_confidence")!, stat(calm[3], "mean_confidence")!)
        XCTAssertEqual(stat(last, "class_divergence_bits") ?? 0, 1, accuracy: 0.01, "window predicts class 2, the reference class 0")
        XCTAssertGreaterThan(stat(last, "embedding_shift")!, 0.3)
        let m = daemon.metrics.exposition()
        XCTAssertGreaterThanOrEqual(metricValue(m, "ttad_drift_alarms_total{alarm=\"entropy_shift\"}") ?? 0, 1)
        XCTAssertEqual(metricValue(m, "ttad_drift_class_divergence_bits") ?? 0, 1, accuracy: 0.01)

        // Restart on the same state: the monitor continues (sample count, reference) rather than
        // learning the shifted stream as its new reference.
        daemon.stop(reason: "test restart")
        (daemon, client) = try env.startWithClient()
        defer { daemon.stop(reason: "test") }
        let more = 64 - Int(client.probesSent)
        for i in 0..<more { try client.sendEmbedding(stream: "cam", seq: seq + UInt64(i), values: Self.ambiguous) }
        let after = try driftRecords(client, count: 1)
        let d = try XCTUnwrap(after.first)
        XCTAssertEqual(stat(d, "samples_observed"), Double(512 + 64))
        // Still far from the reference (the new client's class-0 probes sit in this window too).
        XCTAssertGreaterThan(stat(d, "class_divergence_bits") ?? 0, 0.8)
    }

    /// `scope = "stream"`: each state has its own windows, reference and detectors; a shift on
    /// one camera leaves the other's statistics alone, every record and series names its state,
    /// and each state's monitor comes back after a restart.
    func testEachStatesMonitorIsItsOwnInStreamScope() throws {
        let env = try TestDaemonEnvironment()
        env.config.adaptationStates.scope = .stream
        env.config.drift.window = 32
        env.config.drift.publishEverySamples = 32
        env.config.drift.pageHinkleyThreshold = 10
        try ConfigLoader.validate(env.config)
        var (daemon, client) = try env.startWithClient()
        var seq = ["cam-a": UInt64(0), "cam-b": UInt64(0)]
        func send(_ stream: String, _ v: [Float], _ n: Int) throws {
            for _ in 0..<n { try client.sendEmbedding(stream: stream, seq: seq[stream]!, values: v); seq[stream]! += 1 }
        }
        for _ in 0..<2 { try send("cam-a", Self.confident, 32); try send("cam-b", Self.confident, 32) }
        for _ in 0..<4 { try send("cam-a", Self.confident, 32); try send("cam-b", Self.ambiguous, 32) }
        let records = try driftRecords(client, count: 12).filter { $0.state?.hasPrefix("cam-") == true }
        let a = records.filter { $0.state == "cam-a" }, b = records.filter { $0.state == "cam-b" }
        XCTAssertEqual(a.count, 6, "\(records.map { $0.state ?? "-" })")
        XCTAssertEqual(b.count, 6)
        for d in a {
            XCTAssertEqual(d.alarms, [], "cam-a never shifted")
            XCTAssertEqual(stat(d, "class_divergence_bits") ?? -1, 0, accuracy: 0.05, "cam-a's window is its own")
        }
        XCTAssertEqual(stat(b.last!, "class_divergence_bits") ?? 0, 1, accuracy: 0.01)
        XCTAssertTrue(b.contains { $0.alarms.contains("entropy_shift") }, "\(b.map(\.alarms))")
        let m = daemon.metrics.exposition()
        XCTAssertEqual(metricValue(m, "ttad_drift_class_divergence_bits{state=\"cam-a\"}") ?? -1, 0, accuracy: 0.05)
        XCTAssertEqual(metricValue(m, "ttad_drift_class_divergence_bits{state=\"cam-b\"}") ?? 0, 1, accuracy: 0.01)
        XCTAssertGreaterThanOrEqual(metricValue(m, "ttad_drift_alarms_total{state=\"cam-b\",alarm=\"entropy_shift\"}") ?? 0, 1)
        XCTAssertEqual(metricValue(m, "ttad_drift_alarms_total{state=\"cam-a\",alarm=\"entropy_shift\"}") ?? 0, 0)

        daemon.stop(reason: "test restart")
        (daemon, client) = try env.startWithClient()
        defer { daemon.stop(reason: "test") }
        try send("cam-a", Self.confident, 32)
        let after = try XCTUnwrap(try driftRecords(client, count: 1).first { $0.state == "cam-a" })
        XCTAssertEqual(stat(after, "samples_observed"), Double(6 * 32 + 32), "cam-a's monitor continued")
    }

    func testDisabledMonitorPublishesNothing() throws {
        let env = try TestDaemonEnvironment()
        env.config.drift.enabled = false
        env.config.drift.window = 16
        env.config.drift.publishEverySamples = 16
        let (daemon, client) = try env.startWithClient()
        defer { daemon.stop(reason: "test") }
        for i in 0..<64 { try client.sendEmbedding(stream: "cam", seq: UInt64(i), values: Self.confident) }
        let got = try client.receive(count: 64, timeout: 10) { if case .prediction = $0 { return true } else { return false } }
        XCTAssertEqual(got.count, 64)
        XCTAssertEqual(try driftRecords(client, count: 1, timeout: 1).count, 0)
    }
}
