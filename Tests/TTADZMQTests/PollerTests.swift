import Foundation
import XCTest
import TTADZMQ

final class PollerTests: XCTestCase {
    var context: ZMQContext!

    override func setUpWithError() throws {
        context = try ZMQContext()
    }

    override func tearDown() {
        context.terminate()
        context = nil
    }

    func testTimeoutIsInMilliseconds() throws {
        let pull = try ZMQSocket(context: context, type: .pull)
        defer { pull.close() }
        try pull.bind("inproc://poll-timeout")
        let poller = ZMQPoller()
        let index = poller.add(pull, events: .readable)
        let start = nowMilliseconds()
        XCTAssertEqual(try poller.poll(timeoutMilliseconds: 50), 0)
        let elapsed = nowMilliseconds() - start
        XCTAssertGreaterThanOrEqual(elapsed, 40, "returned too early")
        XCTAssertLessThan(elapsed, 1000, "timeout treated as seconds?")
        XCTAssertFalse(poller.isReadable(index))
        XCTAssertEqual(try poller.poll(timeoutMilliseconds: 0), 0)
    }

    func testReadinessOfSocketsAndFileDescriptors() throws {
        let pull = try ZMQSocket(context: context, type: .pull)
        let push = try ZMQSocket(context: context, type: .push)
        defer { pull.close(); push.close() }
        let endpoint = try bindEphemeralTCP(pull)
        try push.connect(endpoint)

        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        defer { close(fds[0]); close(fds[1]) }

        let poller = ZMQPoller()
        let pullIndex = poller.add(pull, events: .readable)
        let pushIndex = poller.add(push, events: .writable)
        let fdIndex = poller.add(fileDescriptor: fds[0], events: .readable)
        XCTAssertEqual(poller.count, 3)

        XCTAssertEqual(try poller.poll(timeoutMilliseconds: 2000), 1)
        XCTAssertTrue(poller.isWritable(pushIndex))
        XCTAssertFalse(poller.isReadable(pullIndex))
        XCTAssertFalse(poller.isReadable(fdIndex))

        poller.setEvents([], at: pushIndex)
        XCTAssertTrue(try push.send([bytes("ping")]))
        XCTAssertEqual(try poller.poll(timeoutMilliseconds: 2000), 1)
        XCTAssertTrue(poller.isReadable(pullIndex))
        XCTAssertFalse(poller.isWritable(pushIndex))
        XCTAssertEqual(try pull.receiveMultipart(dontWait: true), [bytes("ping")])

        var byte: UInt8 = 1
        XCTAssertEqual(write(fds[1], &byte, 1), 1)
        XCTAssertEqual(try poller.poll(timeoutMilliseconds: 2000), 1)
        XCTAssertTrue(poller.isReadable(fdIndex))
        XCTAssertFalse(poller.isReadable(pullIndex))
        XCTAssertEqual(poller.items[fdIndex].returnedEvents, .readable)

        poller.removeAll()
        XCTAssertEqual(poller.count, 0)
    }

    func testPollingAClosedSocketThrowsInsteadOfUsingADanglingHandle() throws {
        let pull = try ZMQSocket(context: context, type: .pull)
        let poller = ZMQPoller()
        poller.add(pull, events: .readable)
        pull.close()
        XCTAssertThrowsError(try poller.poll(timeoutMilliseconds: 0)) { error in
            XCTAssertTrue((error as? ZMQError)?.isNotSocket == true, "\(error)")
        }
    }

    func testPollAfterShutdownThrowsETERM() throws {
        let pull = try ZMQSocket(context: context, type: .pull)
        defer { pull.close() }
        let poller = ZMQPoller()
        poller.add(pull, events: .readable)
        context.shutdown()
        XCTAssertThrowsError(try poller.poll(timeoutMilliseconds: 1000)) { error in
            XCTAssertTrue((error as? ZMQError)?.isTerminated == true, "\(error)")
        }
    }
}
