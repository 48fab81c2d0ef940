import Foundation
import TTADProtocol
import XCTest
@testable import TTADDaemon

/// What happens when input outruns the daemon: every sample is accounted for, either
/// predicted or counted as dropped under the configured policy.
final class DaemonOverflowTests: XCTestCase {
    private func burst(policy: OverflowPolicy, pattern: IngestPattern, count: Int) throws -> (received: Double, processed: Double, dropped: [DropReason: Double], predictions: Int) {
        let env = try TestDaemonEnvironment()
        env.config.ingest.pattern = pattern
        env.config.ingest.topics = [""]
        env.config.ingest.overflow = policy
        env.config.ingest.queueCapacity = 2
        env.config.classifier.maxBatch = 1
        let (daemon, client) = try env.startWithClient(inputType: pattern == .pull ? .push : .pub)
        defer { daemon.stop(reason: "test") }
        // Baseline after the connection probes have settled (under SUB some probes are lost
        // before the subscription is up, so probes sent ≠ probes received).
        Thread.sleep(forTimeInterval: 0.3)
        client.drain()
        let before = daemon.metrics.exposition()
        let receivedBefore = metricValue(before, "ttad_samples_received_total") ?? 0
        let processedBefore = metricValue(before, "ttad_samples_processed_total") ?? 0
        let payload = TestDaemonEnvironment.embedding(forClass: 2)
        for seq in 0..<count {
            try client.sendEmbedding(stream: "burst", seq: UInt64(seq), values: payload)
        }
        // Quiescence: nothing more arrives for a while.
        var predictions = 0
        while true {
            let got = try client.receive(count: count, timeout: 1.5) { $0.prediction?.stream == "burst" }
            if got.isEmpty { break }
            predictions += got.count
        }
        let m = daemon.metrics.exposition()
        var dropped: [DropReason: Double] = [:]
        for r in DropReason.allCases {
            dropped[r] = metricValue(m, "ttad_samples_dropped_total{reason=\"\(r.rawValue)\"}") ?? -1
        }
        return ((metricValue(m, "ttad_samples_received_total") ?? -1) - receivedBefore,
                (metricValue(m, "ttad_samples_processed_total") ?? -1) - processedBefore, dropped, predictions)
    }

    func testDropOldestAccountsForEverySample() throws {
        let r = try burst(policy: .dropOldest, pattern: .sub, count: 3000)
        XCTAssertEqual(r.processed, Double(r.predictions))
        XCTAssertEqual(r.received, r.processed + r.dropped[.queueEvicted]!, "received = predicted + evicted")
        XCTAssertEqual(r.dropped[.queueFull], 0)
        XCTAssertGreaterThan(r.dropped[.queueEvicted]!, 0, "a 2-slot queue under a 3000-sample burst evicts")
    }

    func testDropNewestAccountsForEverySample() throws {
        let r = try burst(policy: .dropNewest, pattern: .sub, count: 3000)
        XCTAssertEqual(r.processed, Double(r.predictions))
        XCTAssertEqual(r.received, r.processed + r.dropped[.queueFull]!, "received = predicted + refused")
        XCTAssertEqual(r.dropped[.queueEvicted], 0)
        XCTAssertGreaterThan(r.dropped[.queueFull]!, 0)
    }

    func testBlockLosesNothing() throws {
        let r = try burst(policy: .block, pattern: .pull, count: 3000)
        XCTAssertEqual(r.predictions, 3000)
        XCTAssertEqual(r.received, 3000)
        XCTAssertEqual(r.dropped.values.reduce(0, +), 0)
    }
}
