import Foundation
import XCTest
import TTADZMQ

final class ContextTests: XCTestCase {
    func testVersionIsLibzmq4() {
        let version = ZMQContext.version
        XCTAssertEqual(version.major, 4)
        XCTAssertGreaterThanOrEqual(version.minor, 3)
    }

    func testHasCapabilities() {
        XCTAssertTrue(ZMQContext.has("ipc"))
        XCTAssertFalse(ZMQContext.has("no-such-capability"))
    }

    func testShutdownAndTerminateAreIdempotent() throws {
        let context = try ZMQContext()
        XCTAssertFalse(context.isShutDown)
        context.shutdown()
        context.shutdown()
        XCTAssertTrue(context.isShutDown)
        context.terminate()
        context.terminate()
        context.shutdown()  // after terminate: a no-op, not a use-after-free
    }

    func testSocketCreationAfterShutdownOrTerminateThrowsETERM() throws {
        let context = try ZMQContext()
        context.shutdown()
        XCTAssertThrowsError(try ZMQSocket(context: context, type: .pull)) { error in
            XCTAssertTrue((error as? ZMQError)?.isTerminated == true, "\(error)")
        }
        context.terminate()
        XCTAssertThrowsError(try ZMQSocket(context: context, type: .pull)) { error in
            XCTAssertTrue((error as? ZMQError)?.isTerminated == true, "\(error)")
        }
    }

    func testShutdownFromAnotherThreadWakesBlockedReceive() throws {
        let context = try ZMQContext()
        let pull = try ZMQSocket(context: context, type: .pull)
        try pull.bind("inproc://wake-test")
        let outcome = LockedBox<String>("not finished")
        let started = DispatchSemaphore(value: 0)
        let finished = DispatchSemaphore(value: 0)
        let owner = Thread {
            started.signal()
            do {
                let message = try pull.receiveMultipart()  // no timeout: blocks until shutdown
                outcome.value = "returned \(String(describing: message))"
            } catch let error as ZMQError where error.isTerminated {
                outcome.value = "ETERM"
            } catch {
                outcome.value = "other error \(error)"
            }
            pull.close()
            finished.signal()
        }
        owner.start()
        started.wait()
        Thread.sleep(forTimeInterval: 0.05)  // let the receive block (ETERM either way)
        let start = nowMilliseconds()
        context.shutdown()
        XCTAssertEqual(finished.wait(timeout: .now() + 5), .success, "shutdown did not wake receive")
        XCTAssertEqual(outcome.value, "ETERM")
        context.terminate()
        XCTAssertLessThan(nowMilliseconds() - start, 2000)
    }

    func testTerminateDoesNotWaitForUndeliveredMessages() throws {
        let context = try ZMQContext()
        let push = try ZMQSocket(context: context, type: .push)
        try push.connect("tcp://127.0.0.1:1")  // nothing listens there
        XCTAssertTrue(try push.send([bytes("stuck")]))  // queued for a peer that never comes
        push.close()
        let start = nowMilliseconds()
        context.terminate()  // linger is 0 by default (ZMQ_BLOCKY = 0)
        XCTAssertLessThan(nowMilliseconds() - start, 1000)
    }

    func testDroppedSocketClosesItselfSoTerminateReturns() throws {
        let context = try ZMQContext(blocky: true)  // linger would be infinite by default...
        do {
            let push = try ZMQSocket(context: context, type: .push)
            try push.connect("tcp://127.0.0.1:1")
            XCTAssertTrue(try push.send([bytes("stuck")]))
        }  // ...but deinit forces linger 0 before closing
        let start = nowMilliseconds()
        context.terminate()
        XCTAssertLessThan(nowMilliseconds() - start, 1000)
    }

    func testOperationsAfterShutdownThrowETERM() throws {
        let context = try ZMQContext()
        let pair = try ZMQSocket(context: context, type: .pair)
        context.shutdown()
        XCTAssertThrowsError(try pair.send([bytes("x")], dontWait: true)) { error in
            XCTAssertTrue((error as? ZMQError)?.isTerminated == true, "\(error)")
        }
        XCTAssertThrowsError(try pair.receiveMultipart(dontWait: true)) { error in
            XCTAssertTrue((error as? ZMQError)?.isTerminated == true, "\(error)")
        }
        pair.close()
        context.terminate()
    }
}
