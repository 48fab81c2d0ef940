import Foundation
import TTADProtocol
import XCTest
@testable import TTADDaemon

/// `heartbeat` events: a subscriber's positive sign that its subscription is live, published
/// while no sample flows; none when `publish.heartbeat_s = 0`.
final class DaemonHeartbeatTests: XCTestCase {
    func testHeartbeatsArriveWithoutSamplesAndCarryTheCounters() throws {
        let env = try TestDaemonEnvironment()
        env.config.publish.heartbeatSeconds = 0.2
        let (daemon, client) = try env.startWithClient()
        defer { daemon.stop(reason: "test") }
        let beats = try client.receive(count: 2, timeout: 10) { $0.event?.kind == EventKind.heartbeat }.compactMap(\.event)
        XCTAssertEqual(beats.count, 2)
        let uptimes = beats.compactMap { b -> Double? in
            if case .double(let u)? = b.detail.first(where: { $0.key == "uptime_s" })?.value { return u }
            return nil
        }
        XCTAssertEqual(uptimes.count, 2)
        XCTAssertGreaterThanOrEqual(uptimes[1] - uptimes[0], 0.15, "one per heartbeat_s: \(uptimes)")
        // The connection probe may have been processed: count from what the heartbeat says.
        guard case .int(let before)? = beats[1].detail.first(where: { $0.key == "samples_processed" })?.value else {
            return XCTFail("no samples_processed: \(beats[1])")
        }
        // After a sample, the next heartbeat counts it.
        try client.sendEmbedding(stream: "h", seq: 0, values: TestDaemonEnvironment.embedding(forClass: 1))
        let after = try client.receive(count: 2, timeout: 10) { $0.prediction?.stream == "h" || $0.event?.kind == EventKind.heartbeat }
        XCTAssertEqual(after.compactMap(\.prediction).count, 1)
        let next = try XCTUnwrap(try client.receive(count: 1, timeout: 10) { $0.event?.kind == EventKind.heartbeat }.first?.event)
        XCTAssertEqual(next.detail.first { $0.key == "samples_processed" }?.value, .int(before + 1))
    }

    func testNoHeartbeatsWhenTurnedOff() throws {
        let env = try TestDaemonEnvironment()
        env.config.publish.heartbeatSeconds = 0
        let (daemon, client) = try env.startWithClient()
        defer { daemon.stop(reason: "test") }
        XCTAssertTrue(try client.receive(count: 1, timeout: 1.5) { $0.event?.kind == EventKind.heartbeat }.isEmpty)
    }
}
