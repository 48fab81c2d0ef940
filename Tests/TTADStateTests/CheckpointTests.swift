import Foundation
import GRDB
import XCTest
@testable import TTADState

final class CheckpointTests: StateTestCase {
    private func snapshot(_ version: Int64, seed: Float = 0) -> PromptSnapshot {
        let ctx = (0..<(4 * 8)).map { Float($0) * 0.25 - 3 + seed }
        return PromptSnapshot(
            version: version,
            tensors: ["ctx": ctx, "tricky": trickyFloats, "scalar": [seed], "empty": []],
            shapes: ["ctx": [4, 8], "tricky": [trickyFloats.count], "scalar": [], "empty": [0, 3]])
    }

    private func checkpoint(_ n: Int64, snapshot: PromptSnapshot? = nil) -> Checkpoint {
        Checkpoint(
            samplesProcessed: n * 1000,
            promptVersion: snapshot?.version ?? n,
            sections: [
                "sequence": Array("{\"cam0\": \(n)}".utf8),
                "counters": deterministicBytes(64, seed: UInt64(n)),
                "memory_bank": deterministicBytes(20_000, seed: UInt64(n) + 100),
                "detectors": [],
            ],
            promptSnapshot: snapshot)
    }

    private func assertSame(_ a: Checkpoint?, _ b: Checkpoint, file: StaticString = #filePath, line: UInt = #line) {
        guard let a else { return XCTFail("no checkpoint", file: file, line: line) }
        XCTAssertEqual(a.samplesProcessed, b.samplesProcessed, file: file, line: line)
        XCTAssertEqual(a.promptVersion, b.promptVersion, file: file, line: line)
        XCTAssertEqual(a.sections, b.sections, file: file, line: line)
        switch (a.promptSnapshot, b.promptSnapshot) {
        case (nil, nil): break
        case let (x?, y?): XCTAssertTrue(x.isBitwiseEqual(to: y), "prompt snapshot differs", file: file, line: line)
        default: XCTFail("prompt snapshot presence differs", file: file, line: line)
        }
    }

    func testRoundTripAcrossReopenIsBitwiseIdentical() throws {
        let original = checkpoint(7, snapshot: snapshot(3, seed: -0.0))
        let (store, _) = try open()
        let info = try store.writeCheckpoint(original, reason: "shutdown")
        XCTAssertEqual(info.reason, "shutdown")
        XCTAssertEqual(info.samplesProcessed, 7000)
        XCTAssertEqual(info.promptVersion, 3)
        XCTAssertEqual(info.bytes, original.sections.values.reduce(0) { $0 + $1.count } + (32 + trickyFloats.count + 1) * 4)
        try store.close()

        let (reopened, outcome) = try open()
        defer { try? reopened.close() }
        XCTAssertEqual(outcome, .restored(lastCheckpoint: info))
        let restored = try reopened.latestCheckpoint()
        assertSame(restored, original)
        let tricky = try XCTUnwrap(restored?.promptSnapshot?.tensors["tricky"])
        XCTAssertEqual(bits(tricky), bits(trickyFloats), "negative zero, subnormals and NaN payloads survive")
        XCTAssertEqual(restored?.promptSnapshot?.tensors["scalar"]?.first?.bitPattern, (-0.0 as Float).bitPattern)
        XCTAssertEqual(restored?.promptSnapshot?.shapes["scalar"], [])
        XCTAssertEqual(restored?.promptSnapshot?.shapes["empty"], [0, 3])
        XCTAssertEqual(restored?.sections["detectors"], [], "empty sections are kept, not dropped")
        let direct = try XCTUnwrap(try reopened.promptSnapshot(version: 3))
        XCTAssertTrue(direct.isBitwiseEqual(to: original.promptSnapshot!))
        XCTAssertNil(try reopened.promptSnapshot(version: 99))
        XCTAssertEqual(try reopened.latestCheckpointWithInfo()?.info, info)
    }

    func testOldCheckpointsArePrunedWithTheirSections() throws {
        let (store, _) = try open()
        defer { try? store.close() }
        var infos: [CheckpointInfo] = []
        for n in 1...5 { infos.append(try store.writeCheckpoint(checkpoint(Int64(n)), reason: "periodic")) }
        XCTAssertEqual(try store.checkpoints(), Array(infos.suffix(3).reversed()))
        XCTAssertEqual(try store.latestCheckpointInfo(), infos.last)
        let orphanSections = try store.database().read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM checkpoint_section WHERE checkpoint_id NOT IN (SELECT id FROM checkpoint)")
        }
        XCTAssertEqual(orphanSections, 0, "sections cascade with their checkpoint")
        XCTAssertEqual(try store.events(limit: 100, kind: "checkpoint").count, 5, "each write logs an event")
        // ids keep increasing after pruning (AUTOINCREMENT), so they order checkpoints forever.
        XCTAssertEqual(infos.map(\.id), infos.map(\.id).sorted())
    }

    func testPromptVersionsArePrunedButReferencedOnesKept() throws {
        var options = StateStoreOptions()
        options.keepCheckpoints = 3
        options.keepPromptVersions = 1
        let (store, _) = try open(options: options)
        defer { try? store.close() }
        try store.writeCheckpoint(checkpoint(1, snapshot: snapshot(1)), reason: "p")
        try store.writeCheckpoint(checkpoint(2, snapshot: snapshot(2)), reason: "p")
        XCTAssertEqual(try store.promptVersions(), [1, 2], "v1 is still referenced by a kept checkpoint")
        for v in Int64(3)...5 { try store.writeCheckpoint(checkpoint(v, snapshot: snapshot(v)), reason: "p") }
        XCTAssertEqual(try store.promptVersions(), [3, 4, 5])
        let orphanTensors = try store.database().read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM prompt_tensor WHERE version NOT IN (SELECT version FROM prompt_snapshot)")
        }
        XCTAssertEqual(orphanTensors, 0)
    }

    func testDefaultPromptVersionRetentionIsSixteen() throws {
        let (store, _) = try open()
        defer { try? store.close() }
        for v in Int64(1)...20 {
            try store.writeCheckpoint(checkpoint(v, snapshot: PromptSnapshot(version: v, tensors: ["p": [Float(v)]], shapes: ["p": [1]])),
                                      reason: "p")
        }
        XCTAssertEqual(try store.promptVersions(), Array(5...20))
        XCTAssertEqual(try store.promptSnapshot(version: 5)?.tensors["p"], [5])
        XCTAssertNil(try store.promptSnapshot(version: 4))
    }

    func testCheckpointWithoutSnapshotReferencesStoredVersion() throws {
        let (store, _) = try open()
        defer { try? store.close() }
        let snap = snapshot(9)
        try store.writeCheckpoint(checkpoint(1, snapshot: snap), reason: "p")
        var next = checkpoint(2)
        next.promptVersion = 9
        let info = try store.writeCheckpoint(next, reason: "p")
        XCTAssertEqual(info.bytes, next.sections.values.reduce(0) { $0 + $1.count }, "the referenced snapshot is not rewritten")
        let latest = try store.latestCheckpoint()
        XCTAssertTrue(try XCTUnwrap(latest?.promptSnapshot).isBitwiseEqual(to: snap))
        var unknown = checkpoint(3)
        unknown.promptVersion = 77
        try store.writeCheckpoint(unknown, reason: "p")
        XCTAssertNil(try store.latestCheckpoint()?.promptSnapshot)
    }

    func testRewritingAVersionReplacesIt() throws {
        let (store, _) = try open()
        defer { try? store.close() }
        try store.writeCheckpoint(checkpoint(1, snapshot: snapshot(1, seed: 1)), reason: "p")
        let replacement = PromptSnapshot(version: 1, tensors: ["only": [2, 3]], shapes: ["only": [2]])
        try store.writeCheckpoint(checkpoint(2, snapshot: replacement), reason: "after reset")
        XCTAssertTrue(try XCTUnwrap(store.promptSnapshot(version: 1)).isBitwiseEqual(to: replacement))
        XCTAssertEqual(try store.promptVersions(), [1])
    }

    func testFailedTransactionLeavesPreviousCheckpointIntact() throws {
        let (store, _) = try open()
        defer { try? store.close() }
        let a = checkpoint(1, snapshot: snapshot(1))
        let infoA = try store.writeCheckpoint(a, reason: "A")
        let eventsBefore = try store.eventCount()
        struct Boom: Error {}
        for stage in CheckpointWriteStage.allCases {
            let b = checkpoint(2, snapshot: snapshot(2, seed: 5))
            XCTAssertThrowsError(try store.writeCheckpoint(b, reason: "B", failAt: { if $0 == stage { throw Boom() } }),
                                 "stage \(stage)") { XCTAssertTrue($0 is Boom) }
            assertSame(try store.latestCheckpoint(), a)
            XCTAssertEqual(try store.checkpoints(), [infoA], "stage \(stage)")
            XCTAssertEqual(try store.promptVersions(), [1], "stage \(stage)")
            XCTAssertEqual(try store.eventCount(), eventsBefore, "stage \(stage)")
        }
        // The store is still fully usable, and ids were not burnt by the rolled-back attempts.
        let infoB = try store.writeCheckpoint(checkpoint(2), reason: "B")
        XCTAssertEqual(infoB.id, infoA.id + 1)
        try store.close()
        let (reopened, outcome) = try open()
        defer { try? reopened.close() }
        XCTAssertEqual(outcome, .restored(lastCheckpoint: infoB))
    }

    func testInvalidSnapshotIsRejectedBeforeWriting() throws {
        let (store, _) = try open()
        defer { try? store.close() }
        let bad: [PromptSnapshot] = [
            PromptSnapshot(version: 1, tensors: ["x": [1, 2, 3]], shapes: ["x": [2, 2]]),
            PromptSnapshot(version: 1, tensors: ["x": [1]], shapes: ["y": [1]]),
            PromptSnapshot(version: 1, tensors: ["x": []], shapes: ["x": [-1, 0]]),
            PromptSnapshot(version: 1, tensors: ["x": [1]], shapes: ["x": [Int.max, 4]]),
        ]
        for snap in bad {
            XCTAssertThrowsError(try store.writeCheckpoint(checkpoint(1, snapshot: snap), reason: "bad")) { error in
                guard case .invalidCheckpoint = error as? StateStoreError else { return XCTFail("\(error)") }
            }
        }
        XCTAssertThrowsError(try store.writeCheckpoint(Checkpoint(samplesProcessed: 0, promptVersion: 0, sections: ["": [1]]), reason: "bad"))
        XCTAssertNil(try store.latestCheckpoint())
    }

    func testDamagedNewestCheckpointFallsBackToOlderOne() throws {
        let (store, _) = try open()
        defer { try? store.close() }
        let older = checkpoint(1)
        try store.writeCheckpoint(older, reason: "p")
        let newer = try store.writeCheckpoint(checkpoint(2), reason: "p")
        // Flip one byte of a blob behind the store's back (simulated bit rot).
        try store.database().write { db in
            try db.execute(sql: """
                UPDATE checkpoint_section SET data = CAST(zeroblob(length(data)) AS BLOB)
                WHERE checkpoint_id = ? AND name = 'memory_bank'
                """, arguments: [newer.id])
        }
        assertSame(try store.latestCheckpoint(), older)
        XCTAssertTrue(logs.lines.contains { $0.level == .error && $0.message.contains("verification") })

        try store.database().write { db in
            try db.execute(sql: "UPDATE checkpoint_section SET crc32 = crc32 + 1 WHERE name = 'sequence'")
        }
        XCTAssertThrowsError(try store.latestCheckpoint()) { error in
            guard case .allCheckpointsDamaged(_, 2) = error as? StateStoreError else { return XCTFail("\(error)") }
        }
    }

    func testDamagedPromptTensorIsDetected() throws {
        let (store, _) = try open()
        defer { try? store.close() }
        try store.writeCheckpoint(checkpoint(1, snapshot: snapshot(1)), reason: "p")
        try store.database().write { db in
            try db.execute(sql: "UPDATE prompt_tensor SET data = X'00000000' || substr(data, 5) WHERE name = 'ctx'")
        }
        XCTAssertThrowsError(try store.promptSnapshot(version: 1)) { error in
            guard case .damagedBlob = error as? StateStoreError else { return XCTFail("\(error)") }
        }
    }
}
