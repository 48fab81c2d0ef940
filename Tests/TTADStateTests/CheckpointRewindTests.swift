import Foundation
import GRDB
import XCTest
@testable import TTADState

/// `section(_:ofCheckpoint:)` reads into an older checkpoint; `discardCheckpoints(newerThan:)`
/// makes an older checkpoint the one a restart continues from.
final class CheckpointRewindTests: StateTestCase {
    private func checkpoint(_ n: Int64) -> Checkpoint {
        Checkpoint(samplesProcessed: n * 10, promptVersion: n,
                   sections: ["sequence": Array("{\"cam\": \(n)}".utf8), "other": deterministicBytes(100, seed: UInt64(n))])
    }

    func testSectionOfAnOlderCheckpoint() throws {
        let (store, _) = try open()
        defer { try? store.close() }
        let infos = try (1...3).map { try store.writeCheckpoint(checkpoint($0), reason: "periodic") }
        XCTAssertEqual(try store.section("sequence", ofCheckpoint: infos[0].id), Array("{\"cam\": 1}".utf8))
        XCTAssertEqual(try store.section("sequence", ofCheckpoint: infos[2].id), Array("{\"cam\": 3}".utf8))
        XCTAssertNil(try store.section("missing", ofCheckpoint: infos[0].id))
        XCTAssertNil(try store.section("sequence", ofCheckpoint: infos[2].id + 100))
        // A flipped byte is caught by the checksum, not returned.
        try store.database().write { db in
            try db.execute(sql: "UPDATE checkpoint_section SET data = ? WHERE checkpoint_id = ? AND name = 'sequence'",
                           arguments: [Data("{\"cam\": 9}".utf8), infos[1].id])
        }
        XCTAssertThrowsError(try store.section("sequence", ofCheckpoint: infos[1].id)) { error in
            XCTAssertTrue("\(error)".contains("CRC-32"), "\(error)")
        }
    }

    func testDiscardingNewerCheckpointsMakesTheOlderOneLatestAcrossReopen() throws {
        var (store, _) = try open()
        let infos = try (1...3).map { try store.writeCheckpoint(checkpoint($0), reason: "periodic") }
        XCTAssertEqual(try store.discardCheckpoints(newerThan: infos[0].id), 2)
        XCTAssertEqual(try store.checkpoints(), [infos[0]])
        let rewind = try XCTUnwrap(try store.events(limit: 10, kind: "rewind").first)
        XCTAssertTrue(rewind.detail.contains("\"discarded\":\"2\""), rewind.detail)
        let orphans = try store.database().read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM checkpoint_section WHERE checkpoint_id NOT IN (SELECT id FROM checkpoint)")
        }
        XCTAssertEqual(orphans, 0, "sections go with their checkpoint")
        try store.close()

        (store, _) = try open()
        defer { try? store.close() }
        let latest = try XCTUnwrap(try store.latestCheckpointWithInfo())
        XCTAssertEqual(latest.info, infos[0])
        XCTAssertEqual(latest.checkpoint.sections["sequence"], Array("{\"cam\": 1}".utf8))
        // Nothing newer: nothing deleted, no event. A checkpoint that does not exist: an error.
        XCTAssertEqual(try store.discardCheckpoints(newerThan: infos[0].id), 0)
        XCTAssertEqual(try store.events(limit: 10, kind: "rewind").count, 1)
        XCTAssertThrowsError(try store.discardCheckpoints(newerThan: infos[2].id + 5))
        // Ids stay monotonic after a rewind: the next checkpoint is newer than every deleted one.
        let next = try store.writeCheckpoint(checkpoint(4), reason: "periodic")
        XCTAssertGreaterThan(next.id, infos[2].id)
    }
}
