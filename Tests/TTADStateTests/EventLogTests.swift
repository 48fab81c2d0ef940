import Foundation
import GRDB
import XCTest
@testable import TTADState

final class EventLogTests: StateTestCase {
    func testAppendListNewestFirstAndFilter() throws {
        let (store, _) = try open()
        defer { try? store.close() }
        let t0 = Date(timeIntervalSince1970: 1_700_000_000.123)
        try store.appendEvent(StateEvent(kind: "start", severity: .notice, detail: #"{"pid":1}"#, at: t0))
        try store.appendEvent(StateEvent(kind: "alarm", severity: .warning, fields: ["detector": "drift", "score": "3.2"],
                                         at: t0.addingTimeInterval(1)))
        try store.appendEvent(StateEvent(kind: "stop", severity: .info, at: t0.addingTimeInterval(2)))

        let all = try store.events(limit: 10)
        XCTAssertEqual(all.map(\.kind), ["stop", "alarm", "start", "created"])
        XCTAssertEqual(all.map(\.id), all.map(\.id).sorted(by: >))
        XCTAssertEqual(all[1].severity, .warning)
        XCTAssertEqual(all[1].detail, #"{"detector":"drift","score":"3.2"}"#)
        XCTAssertEqual(all[2].detail, #"{"pid":1}"#)
        XCTAssertEqual(all[2].at, t0, "millisecond precision round trip")
        XCTAssertEqual(all[0].detail, "{}")

        XCTAssertEqual(try store.events(limit: 2).map(\.kind), ["stop", "alarm"])
        XCTAssertEqual(try store.events(limit: 10, kind: "alarm").map(\.kind), ["alarm"])
        XCTAssertEqual(try store.events(limit: 10, kind: "reset"), [])
        XCTAssertEqual(try store.events(limit: 0), [])
    }

    func testEventsSurviveReopen() throws {
        let (store, _) = try open()
        try store.appendEvent(StateEvent(kind: "restart", severity: .error, fields: ["cause": "watchdog"]))
        try store.close()
        let (reopened, _) = try open()
        defer { try? reopened.close() }
        let restart = try reopened.events(limit: 1, kind: "restart")
        XCTAssertEqual(restart.first?.severity, .error)
        XCTAssertEqual(restart.first?.detail, #"{"cause":"watchdog"}"#)
    }

    func testTableIsBoundedToMaxEvents() throws {
        var options = StateStoreOptions()
        options.maxEvents = 10
        let (store, _) = try open(options: options)
        defer { try? store.close() }
        for i in 0..<25 { try store.appendEvent(StateEvent(kind: "tick", fields: ["i": "\(i)"])) }
        XCTAssertEqual(try store.eventCount(), 10)
        let kept = try store.events(limit: 100)
        XCTAssertEqual(kept.count, 10)
        XCTAssertEqual(kept.first?.detail, #"{"i":"24"}"#)
        XCTAssertEqual(kept.last?.detail, #"{"i":"15"}"#)

        // Checkpoint events count against the same bound.
        for n in 0..<12 { try store.writeCheckpoint(Checkpoint(samplesProcessed: Int64(n), promptVersion: 0), reason: "p") }
        XCTAssertEqual(try store.eventCount(), 10)
        XCTAssertEqual(try store.events(limit: 100, kind: "tick"), [])
    }

    func testPruningUsesTheIdRangeNotACount() throws {
        // The prune statement must be a primary-key range delete, never a full scan.
        let (store, _) = try open()
        defer { try? store.close() }
        let plan = try store.database().read { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN DELETE FROM event WHERE id <= 5").map { $0["detail"] as String? ?? "" }
        }
        XCTAssertTrue(plan.contains { $0.contains("INTEGER PRIMARY KEY") || $0.contains("rowid") }, "\(plan)")
        let filtered = try store.database().read { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN SELECT * FROM event WHERE kind = 'x' ORDER BY id DESC LIMIT 5")
                .map { $0["detail"] as String? ?? "" }
        }
        XCTAssertTrue(filtered.contains { $0.contains("event_kind_id") }, "\(filtered)")
    }

    func testUnknownSeverityReadsAsInfo() throws {
        let (store, _) = try open()
        defer { try? store.close() }
        try store.database().write { db in
            try db.execute(sql: "INSERT INTO event (at_ms, kind, severity, detail) VALUES (0, 'future', 'emergency', '{}')")
        }
        XCTAssertEqual(try store.events(limit: 1).first?.severity, .info)
    }
}
