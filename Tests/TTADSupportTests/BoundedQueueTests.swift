import XCTest
@testable import TTADSupport

final class BoundedQueueTests: XCTestCase {
    func testFIFOAndBatches() {
        let q = BoundedQueue<Int>(capacity: 4)
        for i in 0..<3 { XCTAssertEqual(q.offer(i, evictOldest: false), .accepted) }
        var out: [Int] = []
        XCTAssertTrue(q.takeBatch(max: 2, timeout: 0, into: &out))
        XCTAssertEqual(out, [0, 1])
        XCTAssertTrue(q.takeBatch(max: 10, timeout: 0, into: &out))
        XCTAssertEqual(out, [0, 1, 2])
        XCTAssertEqual(q.count, 0)
    }

    func testDropNewestRefusesWhenFull() {
        let q = BoundedQueue<Int>(capacity: 2)
        XCTAssertEqual(q.offer(1, evictOldest: false), .accepted)
        XCTAssertEqual(q.offer(2, evictOldest: false), .accepted)
        XCTAssertEqual(q.offer(3, evictOldest: false), .full)
        var out: [Int] = []
        _ = q.takeBatch(max: 10, timeout: 0, into: &out)
        XCTAssertEqual(out, [1, 2])
    }

    func testDropOldestEvicts() {
        let q = BoundedQueue<Int>(capacity: 2)
        _ = q.offer(1, evictOldest: true)
        _ = q.offer(2, evictOldest: true)
        XCTAssertEqual(q.offer(3, evictOldest: true), .acceptedEvictingOldest)
        XCTAssertEqual(q.offer(4, evictOldest: true), .acceptedEvictingOldest)
        var out: [Int] = []
        _ = q.takeBatch(max: 10, timeout: 0, into: &out)
        XCTAssertEqual(out, [3, 4])
    }

    func testOnRoomFiresWhenAFullQueueDrains() {
        let q = BoundedQueue<Int>(capacity: 1)
        let fired = expectation(description: "room")
        q.onRoom = { fired.fulfill() }
        _ = q.offer(1, evictOldest: false)
        var out: [Int] = []
        _ = q.takeBatch(max: 1, timeout: 0, into: &out)
        wait(for: [fired], timeout: 1)
    }

    func testCloseDrainsThenEnds() {
        let q = BoundedQueue<Int>(capacity: 4)
        _ = q.offer(7, evictOldest: false)
        q.close()
        XCTAssertEqual(q.offer(8, evictOldest: false), .closed)
        var out: [Int] = []
        XCTAssertTrue(q.takeBatch(max: 10, timeout: 1, into: &out))
        XCTAssertEqual(out, [7])
        XCTAssertFalse(q.takeBatch(max: 10, timeout: 1, into: &out))
    }

    func testTakeWaitsForAProducer() {
        let q = BoundedQueue<Int>(capacity: 4)
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.05) { _ = q.offer(5, evictOldest: false) }
        var out: [Int] = []
        let t0 = Date()
        _ = q.takeBatch(max: 1, timeout: 5, into: &out)
        XCTAssertEqual(out, [5])
        XCTAssertLessThan(Date().timeIntervalSince(t0), 2)
    }

    func testTakeTimesOutWhenIdle() {
        let q = BoundedQueue<Int>(capacity: 4)
        var out: [Int] = []
        let t0 = Date()
        XCTAssertTrue(q.takeBatch(max: 1, timeout: 0.05, into: &out))
        XCTAssertTrue(out.isEmpty)
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(t0), 0.04)
    }

    /// Deterministic mode's lossless offer: waits for a taker to make room, keeps FIFO order.
    func testOfferWaitingBlocksUntilATakeMakesRoom() {
        let q = BoundedQueue<Int>(capacity: 2)
        _ = q.offer(1, evictOldest: false)
        _ = q.offer(2, evictOldest: false)
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.1) {
            var out: [Int] = []
            _ = q.takeBatch(max: 1, timeout: 0, into: &out)
        }
        let t0 = Date()
        XCTAssertEqual(q.offerWaiting(3, timeout: 5), .accepted)
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(t0), 0.05, "returned before there was room")
        var out: [Int] = []
        _ = q.takeBatch(max: 10, timeout: 0, into: &out)
        XCTAssertEqual(out, [2, 3])
    }

    func testOfferWaitingGivesUpAfterItsTimeoutAndOnClose() {
        let q = BoundedQueue<Int>(capacity: 1)
        _ = q.offer(1, evictOldest: false)
        XCTAssertEqual(q.offerWaiting(2, timeout: 0.05), .full)
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.05) { q.close() }
        XCTAssertEqual(q.offerWaiting(2, timeout: 5), .closed)
        var out: [Int] = []
        _ = q.takeBatch(max: 10, timeout: 0, into: &out)
        XCTAssertEqual(out, [1])
    }
}
