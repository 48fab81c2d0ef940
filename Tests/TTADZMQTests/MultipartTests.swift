import Foundation
import XCTest
import TTADZMQ

final class MultipartTests: XCTestCase {
    var context: ZMQContext!
    var directory: String!

    override func setUpWithError() throws {
        context = try ZMQContext()
        directory = try makeTemporaryDirectory()
    }

    override func tearDown() {
        context.terminate()
        context = nil
        removeDirectory(directory)
    }

    /// Frames around libzmq's small-message boundary (≤ 33 bytes live inside zmq_msg_t).
    private static let boundaryFrames: [[UInt8]] = [
        [], pattern(1), pattern(33, seed: 1), pattern(34, seed: 2), [], pattern(1 << 20, seed: 3),
    ]

    private func roundTrip(bindTo endpoint: String) throws {
        let pull = try ZMQSocket(context: context, type: .pull)
        let push = try ZMQSocket(context: context, type: .push)
        defer { pull.close(); push.close() }
        try pull.bind(endpoint)
        try push.connect(try pull.lastEndpoint)
        XCTAssertTrue(try push.send(Self.boundaryFrames))
        XCTAssertTrue(try push.send([pattern(33)]))
        XCTAssertTrue(try push.send([[]]))
        XCTAssertEqual(try receive(pull), Self.boundaryFrames)
        if !endpoint.hasPrefix("inproc") {
            // ZMTP handshake metadata of the message just received (valid until the next receive).
            XCTAssertEqual(pull.lastReceivedProperty("Socket-Type"), "PUSH")
        }
        XCTAssertEqual(try receive(pull), [pattern(33)])
        XCTAssertEqual(try receive(pull), [[]])
        XCTAssertNil(try pull.receiveMultipart(dontWait: true))
    }

    func testPushPullOverTCPLoopback() throws {
        try roundTrip(bindTo: "tcp://127.0.0.1:*")
    }

    func testPushPullOverIPC() throws {
        try roundTrip(bindTo: "ipc://\(directory!)/push.ipc")
    }

    func testPairOverInproc() throws {
        let a = try ZMQSocket(context: context, type: .pair)
        let b = try ZMQSocket(context: context, type: .pair)
        defer { a.close(); b.close() }
        try a.bind("inproc://pair")
        try b.connect("inproc://pair")
        XCTAssertTrue(try a.send(Self.boundaryFrames))
        XCTAssertEqual(try receive(b), Self.boundaryFrames)
        XCTAssertTrue(try b.send([bytes("reply"), []]))
        XCTAssertEqual(try receive(a), [bytes("reply"), []])
    }

    func testZeroCopySendOfRawBuffers() throws {
        let a = try ZMQSocket(context: context, type: .pair)
        let b = try ZMQSocket(context: context, type: .pair)
        defer { a.close(); b.close() }
        try a.bind("inproc://raw")
        try b.connect("inproc://raw")
        let storage = pattern(100)
        let sent = try storage.withUnsafeBytes { buffer in
            try a.send(parts: [UnsafeRawBufferPointer(rebasing: buffer[0..<10]),
                               UnsafeRawBufferPointer(rebasing: buffer[10..<10]),
                               UnsafeRawBufferPointer(rebasing: buffer[10..<100])])
        }
        XCTAssertTrue(sent)
        XCTAssertEqual(try receive(b), [Array(storage[0..<10]), [], Array(storage[10..<100])])
        XCTAssertThrowsError(try a.send(parts: [UnsafeRawBufferPointer]()))
    }

    func testPubSubTopicFiltering() throws {
        let pub = try ZMQSocket(context: context, type: .pub)
        let sub = try ZMQSocket(context: context, type: .sub)
        defer { pub.close(); sub.close() }
        let endpoint = try bindEphemeralTCP(pub)
        try sub.subscribe("topic.a")
        try sub.connect(endpoint)
        // Slow joiner: the subscription reaches the publisher asynchronously, so publish until
        // the first matching message arrives (bounded).
        var seen: [[UInt8]]?
        let deadline = nowMilliseconds() + 5000
        var sequence = 0
        while seen == nil && nowMilliseconds() < deadline {
            sequence += 1
            XCTAssertTrue(try pub.send([bytes("topic.b"), bytes("b\(sequence)")]))
            XCTAssertTrue(try pub.send([bytes("topic.a"), bytes("a\(sequence)")]))
            seen = try receive(sub, within: 20)
        }
        XCTAssertEqual(seen?.first, bytes("topic.a"))
        // Now subscribed: a non-matching message sent *before* a matching one must be filtered.
        XCTAssertTrue(try pub.send([bytes("topic.b"), bytes("final-b")]))
        XCTAssertTrue(try pub.send([bytes("topic.a.sub"), bytes("final-a")]))
        var received: [[UInt8]]?
        repeat {
            received = try receive(sub, within: 2000)
            XCTAssertNotNil(received)
            XCTAssertTrue(received?.first.map { $0.starts(with: bytes("topic.a")) } ?? false)
        } while received != nil && received?.last != bytes("final-a")
        try sub.unsubscribe("topic.a")
    }

    func testTooManyPartsIsDrainedAndReported() throws {
        let a = try ZMQSocket(context: context, type: .pair)
        let b = try ZMQSocket(context: context, type: .pair)
        defer { a.close(); b.close() }
        try a.bind("inproc://parts")
        try b.connect("inproc://parts")
        let big = (0..<20).map { pattern(5, seed: $0) }
        XCTAssertTrue(try a.send(big))
        XCTAssertTrue(try a.send([bytes("next"), bytes("message")]))
        XCTAssertThrowsError(try receive(b, maxParts: 16)) { error in
            guard let tooMany = error as? ZMQTooManyPartsError else {
                return XCTFail("unexpected \(error)")
            }
            XCTAssertEqual(tooMany.partCount, 20)
            XCTAssertEqual(tooMany.maxParts, 16)
            XCTAssertEqual(tooMany.firstParts, Array(big.prefix(16)))
        }
        // Still in sync: the next receive returns the next message, not a stray part.
        XCTAssertEqual(try receive(b, maxParts: 16), [bytes("next"), bytes("message")])
        XCTAssertTrue(try a.send(Array(big.prefix(16))))
        XCTAssertEqual(try receive(b, maxParts: 16), Array(big.prefix(16)), "exactly maxParts is fine")
    }

    func testNonBlockingReceiveAndSendReportEAGAINAsNilAndFalse() throws {
        let pull = try ZMQSocket(context: context, type: .pull)
        let push = try ZMQSocket(context: context, type: .push)
        defer { pull.close(); push.close() }
        XCTAssertNil(try pull.receiveMultipart(dontWait: true))
        try push.setSendHighWaterMark(1)  // before bind: inproc captures the binder's options
        try push.bind("inproc://eagain")
        XCTAssertFalse(try push.send([bytes("nobody")], dontWait: true), "PUSH without peers")
        try pull.setReceiveHighWaterMark(1)
        try pull.connect("inproc://eagain")
        // The binder learns about the new pipe asynchronously; wait until PUSH can send.
        let poller = ZMQPoller()
        poller.add(push, events: .writable)
        XCTAssertEqual(try poller.poll(timeoutMilliseconds: 2000), 1)
        var accepted = 0
        while try push.send([bytes("x"), bytes("y")], dontWait: true) {
            accepted += 1
            if accepted > 10_000 { break }
        }
        XCTAssertGreaterThan(accepted, 0)
        XCTAssertLessThanOrEqual(accepted, 10, "HWM should stop the sender quickly")
        // Whatever was accepted arrives whole; the refused message left nothing behind.
        for _ in 0..<accepted {
            XCTAssertEqual(try receive(pull), [bytes("x"), bytes("y")])
        }
        XCTAssertNil(try pull.receiveMultipart(dontWait: true))
    }

    func testReceiveTimeoutReturnsNilAfterTheTimeout() throws {
        let pull = try ZMQSocket(context: context, type: .pull)
        defer { pull.close() }
        try pull.bind("inproc://timeout")
        try pull.setReceiveTimeout(milliseconds: 50)
        let start = nowMilliseconds()
        XCTAssertNil(try pull.receiveMultipart())
        let elapsed = nowMilliseconds() - start
        XCTAssertGreaterThanOrEqual(elapsed, 40)
        XCTAssertLessThan(elapsed, 2000)
    }

    func testSendTimeoutReturnsFalse() throws {
        let push = try ZMQSocket(context: context, type: .push)
        defer { push.close() }
        try push.bind("inproc://send-timeout")
        try push.setSendTimeout(milliseconds: 50)
        let start = nowMilliseconds()
        XCTAssertFalse(try push.send([bytes("x")]))
        XCTAssertGreaterThanOrEqual(nowMilliseconds() - start, 40)
    }

    func testOversizedFrameIsNotDeliveredButOtherConnectionsWork() throws {
        let pull = try ZMQSocket(context: context, type: .pull)
        defer { pull.close() }
        try pull.setMaxMessageSize(1024)
        let endpoint = try bindEphemeralTCP(pull)

        let offender = try ZMQSocket(context: context, type: .push)
        defer { offender.close() }
        try offender.setReconnectInterval(milliseconds: -1, max: 0)  // stay disconnected
        try offender.connect(endpoint)
        XCTAssertTrue(try offender.send([bytes("header"), pattern(1025)]))
        XCTAssertNil(try receive(pull, within: 300), "oversized frame must not be delivered")

        let wellBehaved = try ZMQSocket(context: context, type: .push)
        defer { wellBehaved.close() }
        try wellBehaved.connect(endpoint)
        XCTAssertTrue(try wellBehaved.send([bytes("header"), pattern(1024)]))
        XCTAssertEqual(try receive(pull), [bytes("header"), pattern(1024)])
        XCTAssertNil(try receive(pull, within: 100))
    }
}
