import Foundation
import GRDB
import XCTest
@testable import TTADState

final class RecoveryTests: StateTestCase {
    /// The fresh database left after a move-aside must be fully usable and record why.
    private func assertFreshAndUsable(_ store: StateStore, reason: String, file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertNil(try store.latestCheckpoint(), file: file, line: line)
        let info = try store.writeCheckpoint(Checkpoint(samplesProcessed: 1, promptVersion: 0, sections: ["x": [9]]), reason: "after")
        XCTAssertEqual(try store.latestCheckpointInfo(), info, file: file, line: line)
        let moved = try store.events(limit: 10, kind: "moved_aside")
        XCTAssertEqual(moved.count, 1, file: file, line: line)
        XCTAssertEqual(moved.first?.severity, .critical, file: file, line: line)
        XCTAssertTrue(moved.first?.detail.contains(reason) ?? false, "\(moved)", file: file, line: line)
        XCTAssertTrue(try store.integrityCheck(), file: file, line: line)
    }

    func testGarbageFileIsMovedAsideAsCorruptWithBytesPreserved() throws {
        let garbage = deterministicBytes(10_000, seed: 42)
        XCTAssertTrue(FileManager.default.createFile(atPath: dbPath, contents: Data(garbage)))
        let (store, outcome) = try open()
        defer { try? store.close() }
        let moved = try XCTUnwrap(assertMovedAside(outcome, token: "corrupt"))
        XCTAssertEqual(try readBytes(moved.movedTo), garbage, "the original bytes are preserved, not repaired")
        try assertFreshAndUsable(store, reason: moved.reason)
    }

    func testForeignSQLiteWithOtherApplicationIDIsMovedAside() throws {
        try makeForeignDatabase(applicationID: 0x1234_5678)
        let originalBytes = try readBytes(dbPath)
        let (store, outcome) = try open()
        defer { try? store.close() }
        let moved = try XCTUnwrap(assertMovedAside(outcome, token: "foreign"))
        XCTAssertTrue(moved.reason.contains("0x12345678"), moved.reason)
        XCTAssertEqual(try readBytes(moved.movedTo), originalBytes)
        // The moved file is still that app's database.
        let queue = try DatabaseQueue(path: moved.movedTo)
        XCTAssertEqual(try queue.read { try String.fetchOne($0, sql: "SELECT name FROM photos") }, "cat.jpg")
        try queue.close()
        try assertFreshAndUsable(store, reason: moved.reason)
    }

    func testForeignSQLiteWithoutApplicationIDIsMovedAside() throws {
        try makeForeignDatabase(applicationID: 0)
        let (store, outcome) = try open()
        defer { try? store.close() }
        let moved = try XCTUnwrap(assertMovedAside(outcome, token: "foreign"))
        XCTAssertTrue(moved.reason.contains("photos"), moved.reason)
    }

    func testFingerprintMismatchMovesAsideNamingTheField() throws {
        let (store, _) = try open()
        try store.writeCheckpoint(Checkpoint(samplesProcessed: 5, promptVersion: 1, sections: ["a": [1]]), reason: "p")
        try store.close()

        var other = Self.fingerprint
        other.modelSHA256 = String(repeating: "ff", count: 32)
        let (fresh, outcome) = try open(other)
        defer { try? fresh.close() }
        let moved = try XCTUnwrap(assertMovedAside(outcome, token: "fingerprint"))
        XCTAssertTrue(moved.reason.hasPrefix("fingerprint: model_sha256 differs"), moved.reason)
        XCTAssertFalse(moved.reason.contains("config_sha256"), moved.reason)
        XCTAssertEqual(try fresh.storedFingerprint(), other)
        XCTAssertNil(try fresh.latestCheckpoint())

        // The old state is intact at its new path, under the old fingerprint.
        let queue = try DatabaseQueue(path: moved.movedTo)
        XCTAssertEqual(try queue.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM checkpoint") }, 1)
        try queue.close()
    }

    func testEveryFingerprintFieldIsCompared() throws {
        let base = Self.fingerprint
        var model = base; model.modelID = "siglip"
        var config = base; config.configSHA256 = "00"
        XCTAssertEqual(Recovery.verdict(stored: base, current: base, policy: .moveAside), .match)
        guard case let .moveAside(r1) = Recovery.verdict(stored: base, current: model, policy: .moveAside) else { return XCTFail() }
        XCTAssertTrue(r1.description.hasPrefix("fingerprint: model_id differs (stored clip-vit-b32, now siglip)"), r1.description)
        guard case let .moveAside(r2) = Recovery.verdict(stored: base, current: config, policy: .moveAside) else { return XCTFail() }
        XCTAssertTrue(r2.description.hasPrefix("fingerprint: config_sha256 differs"), r2.description)
        XCTAssertEqual(Recovery.verdict(stored: base, current: config, policy: .moveAsideIfModelChanged), .adopt([.configSHA256]))
        guard case .moveAside = Recovery.verdict(stored: base, current: model, policy: .moveAsideIfModelChanged) else { return XCTFail() }
        XCTAssertEqual(Recovery.verdict(stored: base, current: model, policy: .adopt), .adopt([.modelID]))
    }

    func testConfigChangeIsAdoptedWhenPolicyAllows() throws {
        let (store, _) = try open()
        let info = try store.writeCheckpoint(Checkpoint(samplesProcessed: 5, promptVersion: 1), reason: "p")
        try store.close()

        var changed = Self.fingerprint
        changed.configSHA256 = String(repeating: "0d", count: 32)
        var options = StateStoreOptions()
        options.onFingerprintMismatch = .moveAsideIfModelChanged
        let (kept, outcome) = try open(changed, options: options)
        defer { try? kept.close() }
        XCTAssertEqual(outcome, .restored(lastCheckpoint: info))
        XCTAssertEqual(try kept.storedFingerprint(), changed)
        let adopted = try kept.events(limit: 5, kind: "fingerprint_adopted")
        XCTAssertEqual(adopted.count, 1)
        XCTAssertTrue(adopted[0].detail.contains("config_sha256"))
        XCTAssertTrue(logs.lines.contains { $0.level == .warning && $0.message.contains("fingerprint") })
    }

    func testNewerSchemaVersionIsMovedAside() throws {
        let (store, _) = try open()
        try store.close()
        let queue = try DatabaseQueue(path: dbPath)
        try queue.write { try $0.execute(sql: "UPDATE meta SET schema_version = 99") }
        try queue.close()

        let (fresh, outcome) = try open()
        defer { try? fresh.close() }
        let moved = try XCTUnwrap(assertMovedAside(outcome, token: "newer_schema"))
        XCTAssertTrue(moved.reason.contains("99"), moved.reason)
    }

    func testUnknownMigrationIsMovedAside() throws {
        let (store, _) = try open()
        try store.close()
        let queue = try DatabaseQueue(path: dbPath)
        try queue.write { try $0.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v7_from_the_future')") }
        try queue.close()

        let (fresh, outcome) = try open()
        defer { try? fresh.close() }
        let moved = try XCTUnwrap(assertMovedAside(outcome, token: "newer_schema"))
        XCTAssertTrue(moved.reason.contains("v7_from_the_future"), moved.reason)
    }

    func testTruncatedDatabaseIsMovedAsideNotCrash() throws {
        let (store, _) = try open()
        for n in 1...3 {
            try store.writeCheckpoint(Checkpoint(samplesProcessed: Int64(n), promptVersion: 0,
                                                 sections: ["memory_bank": deterministicBytes(100_000, seed: UInt64(n))]),
                                      reason: "p")
        }
        for i in 0..<50 { try store.appendEvent(StateEvent(kind: "alarm", fields: ["i": "\(i)"])) }
        try store.close()
        let full = try readBytes(dbPath)
        XCTAssertGreaterThan(full.count, 200_000)
        let half = Array(full.prefix(full.count / 2))
        try Data(half).write(to: URL(fileURLWithPath: dbPath))
        for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: dbPath + suffix) }

        let (fresh, outcome) = try open()
        defer { try? fresh.close() }
        let moved = try XCTUnwrap(assertMovedAside(outcome, token: "corrupt"))
        XCTAssertEqual(try readBytes(moved.movedTo), half)
        try assertFreshAndUsable(fresh, reason: moved.reason)
    }

    func testTruncatedDatabaseWithoutUsablePageCountIsCaughtBySQLite() throws {
        // Same cut, but with the header's page count invalidated, so the size shortcut cannot
        // decide and SQLite itself has to hit the missing pages.
        let (store, _) = try open()
        for n in 1...3 {
            try store.writeCheckpoint(Checkpoint(samplesProcessed: Int64(n), promptVersion: 0,
                                                 sections: ["memory_bank": deterministicBytes(100_000, seed: UInt64(n))]),
                                      reason: "p")
        }
        try store.close()
        var half = Array(try readBytes(dbPath).prefix(upTo: 40 * 4096 + 123))
        half[92] ^= 0xFF   // "version-valid-for" no longer matches the change counter
        try Data(half).write(to: URL(fileURLWithPath: dbPath))
        for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: dbPath + suffix) }
        XCTAssertNil(SQLiteHeader(half)?.pageCount)

        let (fresh, outcome) = try open()
        defer { try? fresh.close() }
        let moved = try XCTUnwrap(assertMovedAside(outcome, token: "corrupt"))
        XCTAssertEqual(try readBytes(moved.movedTo), half)
        try assertFreshAndUsable(fresh, reason: moved.reason)
    }

    func testCompanionFilesMoveWithTheDatabase() throws {
        XCTAssertTrue(FileManager.default.createFile(atPath: dbPath, contents: Data(deterministicBytes(5000, seed: 1))))
        XCTAssertTrue(FileManager.default.createFile(atPath: dbPath + "-journal", contents: Data([1, 2, 3])))
        let (store, outcome) = try open()
        defer { try? store.close() }
        let moved = try XCTUnwrap(assertMovedAside(outcome, token: "corrupt"))
        XCTAssertEqual(try readBytes(moved.movedTo + "-journal"), [1, 2, 3])
        XCTAssertFalse(FileManager.default.fileExists(atPath: dbPath + "-journal"))
    }

    func testOrphanWALWithoutDatabaseIsMovedAside() throws {
        let wal = deterministicBytes(4096, seed: 3)
        XCTAssertTrue(FileManager.default.createFile(atPath: dbPath + "-wal", contents: Data(wal)))
        let (store, outcome) = try open()
        defer { try? store.close() }
        let moved = try XCTUnwrap(assertMovedAside(outcome, token: "orphan"))
        XCTAssertEqual(try readBytes(moved.movedTo + "-wal"), wal)
        XCTAssertTrue(try store.integrityCheck())
    }

    func testRepeatedMoveAsideNeverOverwritesEarlierOnes() throws {
        var movedPaths: Set<String> = []
        for seed in UInt64(1)...3 {
            XCTAssertTrue(FileManager.default.createFile(atPath: dbPath, contents: Data(deterministicBytes(3000, seed: seed))))
            for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: dbPath + suffix) }
            let (store, outcome) = try open()
            try store.close()
            let moved = try XCTUnwrap(assertMovedAside(outcome, token: "corrupt"))
            XCTAssertEqual(try readBytes(moved.movedTo), deterministicBytes(3000, seed: seed))
            movedPaths.insert(moved.movedTo)
            try FileManager.default.removeItem(atPath: dbPath)
        }
        XCTAssertEqual(movedPaths.count, 3)
    }

    func testCrashImageWithUncheckpointedWALRestores() throws {
        // Copy the files of a live store: exactly what a kill -9 leaves behind. The main file's
        // header is still the pre-migration one (application_id 0); only the WAL knows better.
        let (store, _) = try open()
        let checkpoint = Checkpoint(samplesProcessed: 77, promptVersion: 2, sections: ["counters": [4, 2]],
                                    promptSnapshot: PromptSnapshot(version: 2, tensors: ["p": trickyFloats], shapes: ["p": [trickyFloats.count]]))
        let info = try store.writeCheckpoint(checkpoint, reason: "before kill")
        let crashDir = dir + "/crash"
        try FileManager.default.createDirectory(atPath: crashDir, withIntermediateDirectories: false)
        for suffix in ["", "-wal"] {
            try FileManager.default.copyItem(atPath: dbPath + suffix, toPath: crashDir + "/ttad.sqlite" + suffix)
        }
        try store.close()
        let header = try XCTUnwrap(SQLiteHeader(try readBytes(crashDir + "/ttad.sqlite")))
        XCTAssertEqual(header.applicationID, 0, "scenario check: the identity is only in the WAL")

        let (recovered, outcome) = try StateStore.open(directory: crashDir, fingerprint: Self.fingerprint, logger: logs.logger)
        defer { try? recovered.close() }
        XCTAssertEqual(outcome, .restored(lastCheckpoint: info))
        let restored = try XCTUnwrap(recovered.latestCheckpoint())
        XCTAssertEqual(restored.sections, checkpoint.sections)
        XCTAssertTrue(try XCTUnwrap(restored.promptSnapshot).isBitwiseEqual(to: checkpoint.promptSnapshot!))
    }

    func testDamagedPagesAreCaughtByQuickCheck() throws {
        let (store, _) = try open()
        for n in 1...3 {
            try store.writeCheckpoint(Checkpoint(samplesProcessed: Int64(n), promptVersion: 0,
                                                 sections: ["memory_bank": deterministicBytes(30_000, seed: UInt64(n))]),
                                      reason: "p")
        }
        try store.close()
        var bytes = try readBytes(dbPath)
        let pageSize = try XCTUnwrap(SQLiteHeader(bytes)).pageSize
        for i in pageSize..<(5 * pageSize) { bytes[i] = 0xFF }   // pages 2–5: schema b-trees
        try Data(bytes).write(to: URL(fileURLWithPath: dbPath))

        let (fresh, outcome) = try open()
        defer { try? fresh.close() }
        let moved = try XCTUnwrap(assertMovedAside(outcome, token: "corrupt"))
        XCTAssertEqual(try readBytes(moved.movedTo), bytes)
        try assertFreshAndUsable(fresh, reason: moved.reason)
    }

    func testDatabaseLockedByAnotherToolIsLeftUntouched() throws {
        let (store, _) = try open()
        let info = try store.writeCheckpoint(Checkpoint(samplesProcessed: 3, promptVersion: 0), reason: "p")
        try store.close()

        // e.g. an operator's sqlite3 shell in exclusive locking mode, mid-write.
        var config = Configuration()
        config.prepareDatabase { db in try db.execute(sql: "PRAGMA locking_mode = EXCLUSIVE") }
        let holder = try DatabaseQueue(path: dbPath, configuration: config)
        try holder.write { try $0.execute(sql: "INSERT INTO event (at_ms, kind, severity, detail) VALUES (0, 'x', 'info', '{}')") }

        var options = StateStoreOptions()
        options.busyTimeout = 0.2
        XCTAssertThrowsError(try open(options: options)) { error in
            guard case .databaseBusy = error as? StateStoreError else { return XCTFail("\(error)") }
        }
        XCTAssertEqual(try directoryListing().filter { $0.contains(".corrupt.") }, [], "busy is not corruption")
        try holder.close()

        let (again, outcome) = try open()
        defer { try? again.close() }
        XCTAssertEqual(outcome, .restored(lastCheckpoint: info))
    }

    func testMoveAsideFileNameFormat() {
        let date = Date(timeIntervalSince1970: 1_738_367_999) // 2025-01-31 23:59:59 UTC
        XCTAssertEqual(MoveAside.utcStamp(date), "20250131T235959Z")
        XCTAssertEqual(MoveAsideReason.fingerprint("model_sha256 differs").description, "fingerprint: model_sha256 differs")
    }

    // MARK: - Helpers

    private func makeForeignDatabase(applicationID: Int32) throws {
        let queue = try DatabaseQueue(path: dbPath)
        try queue.write { db in
            try db.execute(sql: "CREATE TABLE photos (id INTEGER PRIMARY KEY, name TEXT)")
            try db.execute(sql: "INSERT INTO photos (name) VALUES ('cat.jpg')")
            try db.execute(sql: "PRAGMA application_id = \(applicationID)")
        }
        try queue.close()
    }
}
