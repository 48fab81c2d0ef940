import Foundation
import TTADProtocol
import XCTest

final class SequenceTrackerTests: XCTestCase {
    func testObservations() {
        var t = SequenceTracker()
        XCTAssertEqual(t.observe(stream: "a", seq: 5), .first)
        XCTAssertEqual(t.observe(stream: "a", seq: 6), .inOrder)
        XCTAssertEqual(t.observe(stream: "a", seq: 10), .gap(missing: 3))
        XCTAssertEqual(t.lastSeq(stream: "a"), 10)
        XCTAssertEqual(t.observe(stream: "a", seq: 10), .duplicateOrReordered)
        XCTAssertEqual(t.observe(stream: "a", seq: 8), .duplicateOrReordered, "late message")
        XCTAssertEqual(t.lastSeq(stream: "a"), 10, "late messages do not move last")
        XCTAssertEqual(t.observe(stream: "a", seq: 11), .inOrder)
        XCTAssertEqual(t.observe(stream: "a", seq: 0), .restart)
        XCTAssertEqual(t.lastSeq(stream: "a"), 0)
        XCTAssertEqual(t.observe(stream: "a", seq: 1), .inOrder)
        XCTAssertEqual(t.observe(stream: "b", seq: 0), .first)
        XCTAssertEqual(t.observe(stream: "b", seq: 0), .duplicateOrReordered, "0 after 0 is a duplicate, not a restart")
        XCTAssertEqual(t.observe(stream: "b", seq: 2), .gap(missing: 1))
        XCTAssertEqual(t.lastSeqs, ["a": 1, "b": 2])
        XCTAssertEqual(t.count, 2)
    }

    func testLargeValues() {
        var t = SequenceTracker()
        _ = t.observe(stream: "a", seq: 0)
        XCTAssertEqual(t.observe(stream: "a", seq: UInt64.max), .gap(missing: UInt64.max - 1))
        XCTAssertEqual(t.observe(stream: "a", seq: 0), .restart)
    }

    func testEvictsLeastRecentlySeen() {
        var t = SequenceTracker(maxStreams: 8)
        for i in 0..<8 { _ = t.observe(stream: "s\(i)", seq: 1) }
        _ = t.observe(stream: "s0", seq: 2) // s0 is now the most recent; s1 the least
        XCTAssertEqual(t.observe(stream: "new", seq: 1), .first)
        XCTAssertEqual(t.count, 8)
        XCTAssertNil(t.lastSeq(stream: "s1"), "least recently seen evicted")
        XCTAssertEqual(t.lastSeq(stream: "s0"), 2)
        XCTAssertEqual(t.observe(stream: "s1", seq: 2), .first, "forgotten stream starts over")
        for i in 0..<1000 { _ = t.observe(stream: "x\(i)", seq: 0) }
        XCTAssertLessThanOrEqual(t.count, 8)
    }

    func testForgetAndRemoveAll() {
        var t = SequenceTracker()
        _ = t.observe(stream: "a", seq: 1)
        t.forget(stream: "a")
        XCTAssertEqual(t.observe(stream: "a", seq: 5), .first)
        t.removeAll()
        XCTAssertEqual(t.count, 0)
    }

    func testCodableRoundTrip() throws {
        var t = SequenceTracker(maxStreams: 100)
        _ = t.observe(stream: "a", seq: 3)
        _ = t.observe(stream: "b", seq: 9)
        let data = try JSONEncoder().encode(t)
        var back = try JSONDecoder().decode(SequenceTracker.self, from: data)
        XCTAssertEqual(back, t)
        XCTAssertEqual(back.maxStreams, 100)
        XCTAssertEqual(back.observe(stream: "a", seq: 4), .inOrder)
        XCTAssertEqual(back.observe(stream: "b", seq: 12), .gap(missing: 2))
    }
}
