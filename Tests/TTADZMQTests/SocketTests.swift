import Foundation
import XCTest
import TTADZMQ

final class SocketTests: XCTestCase {
    var context: ZMQContext!

    override func setUpWithError() throws {
        context = try ZMQContext()
    }

    override func tearDown() {
        context.terminate()
        context = nil
    }

    func testLastEndpointResolvesEphemeralPort() throws {
        let pull = try ZMQSocket(context: context, type: .pull)
        defer { pull.close() }
        XCTAssertEqual(try pull.lastEndpoint, "")
        let endpoint = try bindEphemeralTCP(pull)
        XCTAssertTrue(endpoint.hasPrefix("tcp://127.0.0.1:"), endpoint)
        XCTAssertFalse(endpoint.hasSuffix(":*"))
        XCTAssertGreaterThan(Int(endpoint.split(separator: ":").last!) ?? 0, 0)
    }

    func testUnbindAndDisconnect() throws {
        let pull = try ZMQSocket(context: context, type: .pull)
        let push = try ZMQSocket(context: context, type: .push)
        defer { pull.close(); push.close() }
        let endpoint = try bindEphemeralTCP(pull)
        try push.connect(endpoint)
        try push.disconnect(endpoint)
        XCTAssertThrowsError(try push.disconnect(endpoint))
        try pull.unbind(endpoint)
        XCTAssertThrowsError(try pull.unbind(endpoint)) { error in
            XCTAssertTrue((error as? ZMQError)?.operation.contains("zmq_unbind") == true)
        }
    }

    func testBadEndpointErrorNamesTheEndpoint() throws {
        let pull = try ZMQSocket(context: context, type: .pull)
        defer { pull.close() }
        XCTAssertThrowsError(try pull.bind("nonsense://x")) { error in
            let zmqError = error as? ZMQError
            XCTAssertEqual(zmqError?.operation, "zmq_bind(nonsense://x)")
            XCTAssertFalse(zmqError?.message.isEmpty ?? true)
            XCTAssertTrue("\(error)".contains("nonsense://x"))
        }
    }

    func testOptionErrorNamesTheOption() throws {
        let push = try ZMQSocket(context: context, type: .push)
        defer { push.close() }
        XCTAssertThrowsError(try push.subscribe("topic")) { error in
            let zmqError = error as? ZMQError
            XCTAssertEqual(zmqError?.code, EINVAL)
            XCTAssertEqual(zmqError?.operation, "zmq_setsockopt(ZMQ_SUBSCRIBE)")
        }
    }

    func testOptionsCanBeSetAndReadBack() throws {
        let socket = try ZMQSocket(context: context, type: .dealer)
        defer { socket.close() }
        XCTAssertEqual(try socket.int32Option(13 /* ZMQ_RCVMORE */, name: "ZMQ_RCVMORE"), 0)
        XCTAssertEqual(try socket.int32Option(17 /* ZMQ_LINGER */, name: "ZMQ_LINGER"), 0,
                       "BLOCKY=0 context gives linger 0 by default")
        try socket.setSendHighWaterMark(10)
        try socket.setReceiveHighWaterMark(20)
        try socket.setLinger(milliseconds: 5)
        try socket.setMaxMessageSize(4096)
        try socket.setReconnectInterval(milliseconds: 100, max: 5000)
        try socket.setHeartbeat(interval: 1000, timeout: 3000, ttl: 3000)
        try socket.setImmediate(true)
        try socket.setReceiveTimeout(milliseconds: 250)
        try socket.setSendTimeout(milliseconds: 250)
        try socket.setRoutingID(bytes("me"))
        XCTAssertEqual(try socket.int32Option(23 /* ZMQ_SNDHWM */, name: "ZMQ_SNDHWM"), 10)
        XCTAssertEqual(try socket.int32Option(24 /* ZMQ_RCVHWM */, name: "ZMQ_RCVHWM"), 20)
        XCTAssertEqual(try socket.int32Option(17, name: "ZMQ_LINGER"), 5)
        XCTAssertEqual(try socket.int64Option(22 /* ZMQ_MAXMSGSIZE */, name: "ZMQ_MAXMSGSIZE"), 4096)
        XCTAssertEqual(try socket.int32Option(27 /* ZMQ_RCVTIMEO */, name: "ZMQ_RCVTIMEO"), 250)
        let router = try ZMQSocket(context: context, type: .router)
        defer { router.close() }
        try router.setRouterMandatory(true)
        let xpub = try ZMQSocket(context: context, type: .xpub)
        defer { xpub.close() }
        try xpub.setXPubNoDrop(true)
    }

    func testClosedSocketIsIdempotentAndThrowsENOTSOCK() throws {
        let socket = try ZMQSocket(context: context, type: .pair)
        socket.close()
        socket.close()
        XCTAssertTrue(socket.isClosed)
        XCTAssertThrowsError(try socket.bind("inproc://closed")) { error in
            XCTAssertTrue((error as? ZMQError)?.isNotSocket == true, "\(error)")
        }
        XCTAssertThrowsError(try socket.send([bytes("x")])) { error in
            XCTAssertTrue((error as? ZMQError)?.isNotSocket == true, "\(error)")
        }
        XCTAssertThrowsError(try socket.receiveMultipart(dontWait: true))
        XCTAssertThrowsError(try socket.setLinger(milliseconds: 0))
        XCTAssertNil(socket.lastReceivedProperty("Socket-Type"))
    }

    func testSendOnReceiveOnlySocketThrows() throws {
        let sub = try ZMQSocket(context: context, type: .sub)
        defer { sub.close() }
        XCTAssertThrowsError(try sub.send([bytes("x")], dontWait: true)) { error in
            XCTAssertEqual((error as? ZMQError)?.code, ENOTSUP)
        }
    }

    func testSendingNoFramesIsRejected() throws {
        let pair = try ZMQSocket(context: context, type: .pair)
        defer { pair.close() }
        XCTAssertThrowsError(try pair.send([])) { error in
            XCTAssertEqual((error as? ZMQError)?.code, EINVAL)
        }
    }

    func testEventsAndFileDescriptor() throws {
        let pull = try ZMQSocket(context: context, type: .pull)
        let push = try ZMQSocket(context: context, type: .push)
        defer { pull.close(); push.close() }
        try pull.bind("inproc://events")
        XCTAssertGreaterThanOrEqual(try pull.fileDescriptor, 0)
        XCTAssertFalse(try pull.events.contains(.readable))
        XCTAssertFalse(try push.events.contains(.writable), "no peer yet")
        try push.connect("inproc://events")
        XCTAssertTrue(try push.events.contains(.writable))
        XCTAssertTrue(try push.send([bytes("hi")]))
        XCTAssertTrue(try pull.events.contains(.readable))
        XCTAssertEqual(try pull.receiveMultipart(dontWait: true), [bytes("hi")])
    }

    func testSocketTypesCanAllBeCreated() throws {
        for type in ZMQSocketType.allCases {
            let socket = try ZMQSocket(context: context, type: type)
            XCTAssertEqual(socket.type, type)
            XCTAssertFalse(type.description.isEmpty)
            socket.close()
        }
    }
}
