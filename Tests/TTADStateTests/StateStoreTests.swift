import Foundation
import GRDB
import XCTest
@testable import TTADState

final class StateStoreTests: StateTestCase {
    func testCreateWriteCloseReopenRestores() throws {
        let (store, outcome) = try open()
        XCTAssertEqual(outcome, .created)
        XCTAssertEqual(store.path, dbPath)
        let info = try store.writeCheckpoint(Checkpoint(samplesProcessed: 42, promptVersion: 1, sections: ["counters": [1, 2, 3]]),
                                             reason: "test")
        try store.close()

        let (reopened, outcome2) = try open()
        defer { try? reopened.close() }
        XCTAssertEqual(outcome2, .restored(lastCheckpoint: info))
        XCTAssertEqual(try reopened.latestCheckpoint()?.sections, ["counters": [1, 2, 3]])
    }

    func testReopenWithoutCheckpointRestoresNil() throws {
        let (store, _) = try open()
        try store.close()
        let (reopened, outcome) = try open()
        defer { try? reopened.close() }
        XCTAssertEqual(outcome, .restored(lastCheckpoint: nil))
    }

    func testWALModeIdentityAndPragmas() throws {
        let (store, _) = try open()
        defer { try? store.close() }
        let pragmas = try store.database().write { db in
            (journal: try String.fetchOne(db, sql: "PRAGMA journal_mode"),
             sync: try Int.fetchOne(db, sql: "PRAGMA synchronous"),
             appID: try Int64.fetchOne(db, sql: "PRAGMA application_id"),
             userVersion: try Int64.fetchOne(db, sql: "PRAGMA user_version"),
             fk: try Int.fetchOne(db, sql: "PRAGMA foreign_keys"),
             busy: try Int.fetchOne(db, sql: "PRAGMA busy_timeout"))
        }
        XCTAssertEqual(pragmas.journal, "wal")
        XCTAssertEqual(pragmas.sync, 1, "synchronous = NORMAL")
        XCTAssertEqual(pragmas.appID, 0x5454_4144)
        XCTAssertEqual(pragmas.userVersion, Schema.currentVersion)
        XCTAssertEqual(pragmas.fk, 1)
        XCTAssertEqual(pragmas.busy, 5000)
        XCTAssertTrue(try store.integrityCheck())
    }

    func testMetaRecordsFingerprintAndCreator() throws {
        var options = StateStoreOptions()
        options.creatorVersion = "ttad 9.9.9-test"
        let (store, _) = try open(options: options)
        defer { try? store.close() }
        XCTAssertEqual(try store.storedFingerprint(), Self.fingerprint)
        let meta = try store.database().read { db in try Row.fetchOne(db, sql: "SELECT * FROM meta") }
        XCTAssertEqual(meta?["schema_version"], Schema.currentVersion)
        XCTAssertEqual(meta?["created_by"], "ttad 9.9.9-test")
        let createdMs: Int64 = try XCTUnwrap(meta?["created_at_ms"])
        XCTAssertLessThan(abs(Double(createdMs) / 1000 - Date().timeIntervalSince1970), 60)
        XCTAssertEqual(try store.events(limit: 10).map(\.kind), ["created"])
    }

    func testCloseTruncatesWALAndRejectsFurtherUse() throws {
        let (store, _) = try open()
        try store.writeCheckpoint(Checkpoint(samplesProcessed: 1, promptVersion: 0, sections: ["a": [UInt8](repeating: 7, count: 50_000)]),
                                  reason: "test")
        try store.close()
        let walSize = (try? FileManager.default.attributesOfItem(atPath: dbPath + "-wal")[.size] as? Int) ?? 0
        XCTAssertEqual(walSize, 0, "WAL must be checkpointed and truncated on close")
        XCTAssertThrowsError(try store.latestCheckpoint()) { error in
            guard case .closed = error as? StateStoreError else { return XCTFail("\(error)") }
        }
        XCTAssertNoThrow(try store.close(), "second close is a no-op")
    }

    func testSecondOpenOfSameDirectoryIsRefusedWhileLocked() throws {
        let (store, _) = try open()
        XCTAssertThrowsError(try open()) { error in
            guard case let .lockedByAnotherProcess(path, holder) = error as? StateStoreError else { return XCTFail("\(error)") }
            XCTAssertEqual(path, self.dir + "/ttad.lock")
            XCTAssertTrue(holder.contains("\(getpid())"))
        }
        try store.close()
        let (again, outcome) = try open()
        XCTAssertEqual(outcome, .restored(lastCheckpoint: nil))
        try again.close()
    }

    func testMissingDirectoryIsCreated() throws {
        dir += "/nested/state"
        let (store, outcome) = try open()
        defer { try? store.close() }
        XCTAssertEqual(outcome, .created)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dbPath))
    }

    func testDirectoryPathBlockedByRegularFile() throws {
        let blocker = dir + "/not-a-dir"
        XCTAssertTrue(FileManager.default.createFile(atPath: blocker, contents: Data([1])))
        for target in [blocker, blocker + "/state"] {
            XCTAssertThrowsError(try StateStore.open(directory: target, fingerprint: Self.fingerprint, logger: logs.logger)) { error in
                guard case let .directoryNotWritable(path, _) = error as? StateStoreError else { return XCTFail("\(error)") }
                XCTAssertEqual(path, target)
                XCTAssertTrue("\(error)".contains(target), "message names the path: \(error)")
            }
        }
    }

    func testUnwritableDirectoryThrowsClearError() throws {
        var target = dir + "/readonly"
        if geteuid() != 0 {
            try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: false)
            XCTAssertEqual(chmod(target, 0o555), 0)
        } else {
            // Root ignores permission bits; sysfs refuses file creation even to root.
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: "/sys/kernel", isDirectory: &isDir), isDir.boolValue else {
                throw XCTSkip("running as root and no sysfs to provide an unwritable directory")
            }
            target = "/sys/kernel"
        }
        defer { if target.hasPrefix(dir) { _ = chmod(target, 0o755) } }
        XCTAssertThrowsError(try StateStore.open(directory: target, fingerprint: Self.fingerprint, logger: logs.logger)) { error in
            guard case let .directoryNotWritable(path, reason) = error as? StateStoreError else { return XCTFail("\(error)") }
            XCTAssertEqual(path, target)
            XCTAssertTrue("\(error)".contains("'\(target)'"), "\(error)")
            XCTAssertFalse(reason.isEmpty)
        }
    }

    func testEmptyFileIsInitialisedInPlace() throws {
        XCTAssertTrue(FileManager.default.createFile(atPath: dbPath, contents: Data()))
        let (store, outcome) = try open()
        defer { try? store.close() }
        XCTAssertEqual(outcome, .created)
        XCTAssertEqual(try directoryListing().filter { $0.contains(".corrupt.") || $0.contains(".foreign.") }, [])
    }

    func testConcurrentWritersAndReaders() throws {
        let (store, _) = try open()
        defer { try? store.close() }
        let failures = LogCapture()
        DispatchQueue.concurrentPerform(iterations: 8) { i in
            do {
                for j in 0..<5 {
                    if i % 2 == 0 {
                        try store.writeCheckpoint(
                            Checkpoint(samplesProcessed: Int64(i * 100 + j), promptVersion: 0, sections: ["s": [UInt8(i), UInt8(j)]]),
                            reason: "concurrent")
                    } else {
                        try store.appendEvent(StateEvent(kind: "alarm", fields: ["i": "\(i)"]))
                        _ = try store.latestCheckpoint()
                    }
                }
            } catch {
                failures.append(.init(level: .error, message: "\(error)"))
            }
        }
        XCTAssertEqual(failures.lines.map(\.message), [])
        XCTAssertEqual(try store.checkpoints().count, 3)
        XCTAssertEqual(try store.events(limit: 1000, kind: "checkpoint").count, 20)
        XCTAssertEqual(try store.events(limit: 1000, kind: "alarm").count, 20)
    }
}
