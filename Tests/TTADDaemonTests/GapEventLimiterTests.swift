import TTADProtocol
import XCTest
@testable import TTADDaemon

/// The coalescing of `gap` events, exactly as docs/protocol.md §5.2 describes it. Time is passed
/// in, so nothing here waits.
final class GapEventLimiterTests: XCTestCase {
    private func fields(_ e: EventRecord) -> [String: JSONValue] {
        XCTAssertEqual(e.kind, EventKind.gap)
        return Dictionary(uniqueKeysWithValues: e.detail.map { ($0.key, $0.value) })
    }

    func testFirstGapOfAQuietStreamIsPublishedAloneWithSeqMinusLastMinusOne() {
        var l = GapEventLimiter(interval: 1)
        XCTAssertTrue(l.due(now: 100).isEmpty)
        l.note(stream: "cam1", lastSeq: 10, seq: 14, missing: 3)
        let out = l.due(now: 100)
        XCTAssertEqual(out.count, 1)
        XCTAssertEqual(fields(out[0]), ["stream": .string("cam1"), "last_seq": .int(10), "seq": .int(14),
                                         "missing": .int(3), "gaps": .int(1)])
        XCTAssertTrue(l.due(now: 100.1).isEmpty, "nothing held")
    }

    func testGapsWithinTheIntervalAreOneEventWithSpanCountAndSummedMissing() {
        var l = GapEventLimiter(interval: 1)
        l.note(stream: "s", lastSeq: 0, seq: 2, missing: 1)
        XCTAssertEqual(l.due(now: 10).count, 1)
        // 2 → 5 (2 missing), 5 → 6 in order, 6 → 10 (3 missing), 10 → 20 (9 missing).
        l.note(stream: "s", lastSeq: 2, seq: 5, missing: 2)
        XCTAssertTrue(l.due(now: 10.5).isEmpty, "held: the stream had an event 0.5 s ago")
        l.note(stream: "s", lastSeq: 6, seq: 10, missing: 3)
        l.note(stream: "s", lastSeq: 10, seq: 20, missing: 9)
        XCTAssertTrue(l.due(now: 10.99).isEmpty)
        let out = l.due(now: 11)
        XCTAssertEqual(out.count, 1)
        let f = fields(out[0])
        XCTAssertEqual(f["last_seq"], .int(2), "last seq before the span's first gap")
        XCTAssertEqual(f["seq"], .int(20), "seq that ended the span's last gap")
        XCTAssertEqual(f["gaps"], .int(3))
        XCTAssertEqual(f["missing"], .int(14), "summed, not seq − last_seq − 1 (17): 5 and 6 were received")
    }

    /// docs/protocol.md §5.2's example: 10, 14, 15, 20, 22 within a second.
    func testTheProtocolDocExample() {
        var l = GapEventLimiter(interval: 1)
        l.note(stream: "cam1", lastSeq: 10, seq: 14, missing: 3)
        XCTAssertEqual(l.due(now: 5).map(fields), [["stream": .string("cam1"), "last_seq": .int(10), "seq": .int(14),
                                                    "missing": .int(3), "gaps": .int(1)]])
        l.note(stream: "cam1", lastSeq: 15, seq: 20, missing: 4)
        l.note(stream: "cam1", lastSeq: 20, seq: 22, missing: 1)
        XCTAssertTrue(l.due(now: 5.5).isEmpty)
        XCTAssertEqual(l.due(now: 6).map(fields), [["stream": .string("cam1"), "last_seq": .int(15), "seq": .int(22),
                                                    "missing": .int(5), "gaps": .int(2)]])
    }

    func testStreamsAreLimitedIndependently() {
        var l = GapEventLimiter(interval: 1)
        l.note(stream: "a", lastSeq: 0, seq: 2, missing: 1)
        XCTAssertEqual(l.due(now: 0).count, 1)
        l.note(stream: "a", lastSeq: 2, seq: 4, missing: 1)
        l.note(stream: "b", lastSeq: 0, seq: 3, missing: 2)
        let out = l.due(now: 0.2)
        XCTAssertEqual(out.map { fields($0)["stream"] }, [.string("b")])
        XCTAssertEqual(l.due(now: 1).map { fields($0)["stream"] }, [.string("a")])
    }

    func testFlushBeforeARestartAndAtTheEnd() {
        var l = GapEventLimiter(interval: 1)
        l.note(stream: "a", lastSeq: 0, seq: 2, missing: 1)
        _ = l.due(now: 0)
        l.note(stream: "a", lastSeq: 2, seq: 9, missing: 6)
        XCTAssertNil(l.flush(stream: "b", now: 0.1))
        let held = l.flush(stream: "a", now: 0.1)
        XCTAssertEqual(held.flatMap { fields($0)["missing"] }, .int(6))
        XCTAssertNil(l.flush(stream: "a", now: 0.1))
        // After the restart a new span starts; it waits for the interval since the flush.
        l.note(stream: "a", lastSeq: 0, seq: 3, missing: 2)
        l.note(stream: "c", lastSeq: 7, seq: 9, missing: 1)
        XCTAssertEqual(l.due(now: 0.5).map { fields($0)["stream"] }, [.string("c")])
        l.note(stream: "c", lastSeq: 9, seq: 12, missing: 2)
        let rest = l.flushAll().map(fields).sorted { "\($0["stream"]!)" < "\($1["stream"]!)" }
        XCTAssertEqual(rest.map { $0["stream"] }, [.string("a"), .string("c")])
        XCTAssertEqual(rest.map { $0["last_seq"] }, [.int(0), .int(9)])
        XCTAssertTrue(l.flushAll().isEmpty)
        XCTAssertTrue(l.due(now: 100).isEmpty)
    }
}
