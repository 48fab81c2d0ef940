import CZMQ
import TTADZMQ
import XCTest
@testable import TTADDaemon

/// The ingest socket's options as libzmq reports them back.
final class SocketOptionsTests: XCTestCase {
    private func heartbeat(_ c: IngestSection) throws -> (timeout: Int32, ttl: Int32, interval: Int32) {
        let context = try ZMQContext()
        let s = try ZMQSocket(context: context, type: .pull)
        defer { s.close(); context.terminate() }
        try SocketOptions.configureIngest(s, c)
        return (try s.int32Option(ZMQ_HEARTBEAT_TIMEOUT, name: "ZMQ_HEARTBEAT_TIMEOUT"),
                try s.int32Option(ZMQ_HEARTBEAT_TTL, name: "ZMQ_HEARTBEAT_TTL"),
                try s.int32Option(ZMQ_HEARTBEAT_IVL, name: "ZMQ_HEARTBEAT_IVL"))
    }

    /// Under `block` the daemon stops reading a full ingest pipe, and libzmq then cannot see the
    /// producer's PONGs: a heartbeat timeout would drop the live connection and the samples in
    /// its kernel buffers (tools/zmq_backpressure_repro.c). So no timeout there; PINGs and the
    /// TTL stay, and the other overflow policies, which keep reading, keep the timeout.
    func testBlockingIngestHasNoHeartbeatTimeoutButKeepsPingsAndTTL() throws {
        var c = IngestSection()
        XCTAssertEqual(c.effectiveOverflow, .block)
        let blocking = try heartbeat(c)
        XCTAssertEqual(blocking.timeout, 0)
        XCTAssertEqual(blocking.interval, Int32(c.heartbeatIntervalMs))
        XCTAssertEqual(blocking.ttl, Int32(c.heartbeatTimeoutMs))

        c.overflow = .dropOldest
        XCTAssertEqual(try heartbeat(c).timeout, Int32(c.heartbeatTimeoutMs))
        c.overflow = .dropNewest
        XCTAssertEqual(try heartbeat(c).timeout, Int32(c.heartbeatTimeoutMs))
    }
}
