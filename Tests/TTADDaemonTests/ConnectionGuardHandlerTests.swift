import HTTPTypes
import Logging
import NIOCore
import NIOEmbedded
import NIOHTTPTypes
import XCTest
@testable import TTADDaemon

/// The metrics port's per-connection guard on an embedded channel, whose clock only moves when
/// the test moves it: the cap, the header deadline and the idle deadline, each with its counter.
final class ConnectionGuardHandlerTests: XCTestCase {
    private var metrics = DaemonMetrics(version: "test", mode: "embedding")

    private func makeGate(maxConnections: Int) -> HTTPConnectionGate {
        metrics = DaemonMetrics(version: "test", mode: "embedding")
        let limits = HTTPConnectionLimits(maxConnections: maxConnections, headerTimeoutSeconds: 5, idleTimeoutSeconds: 30)
        return HTTPConnectionGate(limits: limits, metrics: metrics, logger: Logger(label: "test"))
    }

    private func connect(_ gate: HTTPConnectionGate, loop: EmbeddedEventLoop = EmbeddedEventLoop()) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel(handler: ConnectionGuardHandler(gate: gate), loop: loop)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return channel
    }

    private func value(_ series: String) -> Double? {
        metricValue(metrics.exposition(), series)
    }

    func testConnectionsBeyondTheCapAreClosedAtOnceAndCounted() throws {
        let gate = makeGate(maxConnections: 2)
        let first = try connect(gate), second = try connect(gate)
        let third = try connect(gate)
        XCTAssertTrue(first.isActive)
        XCTAssertTrue(second.isActive)
        XCTAssertFalse(third.isActive, "a connection beyond the cap stayed open")
        XCTAssertEqual(value("ttad_http_connections_refused_total{reason=\"max_connections\"}"), 1)
        XCTAssertEqual(value("ttad_http_connections_open"), 2)

        // A closed connection frees its place.
        try first.close().wait()
        XCTAssertEqual(value("ttad_http_connections_open"), 1)
        let fourth = try connect(gate)
        XCTAssertTrue(fourth.isActive)
        XCTAssertEqual(value("ttad_http_connections_refused_total{reason=\"max_connections\"}"), 1)
        _ = try? second.finish()
        _ = try? fourth.finish()
    }

    func testASilentConnectionIsClosedAtTheHeaderTimeout() throws {
        let gate = makeGate(maxConnections: 4)
        let loop = EmbeddedEventLoop()
        let channel = try connect(gate, loop: loop)
        loop.advanceTime(by: .milliseconds(4900))
        XCTAssertTrue(channel.isActive)
        loop.advanceTime(by: .milliseconds(200))
        XCTAssertFalse(channel.isActive, "no request within header_timeout_s, still open")
        XCTAssertEqual(value("ttad_http_connections_timed_out_total{timeout=\"header\"}"), 1)
        XCTAssertEqual(value("ttad_http_connections_timed_out_total{timeout=\"idle\"}"), 0)
        XCTAssertEqual(value("ttad_http_connections_open"), 0)
    }

    func testAKeepAliveConnectionLastsUntilTheIdleTimeoutAfterItsResponse() throws {
        let gate = makeGate(maxConnections: 4)
        let loop = EmbeddedEventLoop()
        let channel = try connect(gate, loop: loop)
        loop.advanceTime(by: .seconds(1))
        try channel.writeInbound(HTTPRequestPart.head(HTTPRequest(method: .get, scheme: nil, authority: nil, path: "/metrics")))
        try channel.writeInbound(HTTPRequestPart.end(nil))
        // Past the header deadline: a connection that sent a request is not cut by it.
        loop.advanceTime(by: .seconds(10))
        XCTAssertTrue(channel.isActive)
        try channel.writeOutbound(HTTPResponsePart.head(HTTPResponse(status: .ok)))
        try channel.writeOutbound(HTTPResponsePart.end(nil))
        loop.advanceTime(by: .seconds(29))
        XCTAssertTrue(channel.isActive, "closed before idle_timeout_s after the response")
        loop.advanceTime(by: .seconds(2))
        XCTAssertFalse(channel.isActive, "idle past idle_timeout_s, still open")
        XCTAssertEqual(value("ttad_http_connections_timed_out_total{timeout=\"idle\"}"), 1)
        XCTAssertEqual(value("ttad_http_connections_timed_out_total{timeout=\"header\"}"), 0)
    }
}
