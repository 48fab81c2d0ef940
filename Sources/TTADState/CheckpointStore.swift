import Foundation
import GRDB

/// Points inside ``StateStore/writeCheckpoint(_:reason:)``'s transaction where tests inject a
/// failure, to prove that a checkpoint interrupted at any step leaves the previous one intact.
enum CheckpointWriteStage: String, Sendable, CaseIterable {
    case afterCheckpointRow, afterSections, afterPromptSnapshot, afterEvent, afterPrune
}

/// A prompt tensor encoded outside the write transaction.
private struct EncodedTensor: Sendable {
    var name: String
    var shapeJSON: String
    var count: Int
    var data: Data
    var crc: UInt32
}

extension StateStore {
    /// Writes `checkpoint` atomically and returns its summary.
    ///
    /// One transaction: the checkpoint row, its sections, the prompt snapshot (if any), a
    /// `checkpoint` event, and pruning (checkpoints beyond `options.keepCheckpoints`, prompt
    /// versions beyond `options.keepPromptVersions`, events beyond `options.maxEvents`). Either all
    /// of it is committed or none: a kill at any moment loses at most the work since the previous
    /// committed checkpoint. Blobs are encoded and checksummed *before* the transaction starts so
    /// the write lock is held only for the inserts.
    @discardableResult
    public func writeCheckpoint(_ checkpoint: Checkpoint, reason: String) throws -> CheckpointInfo {
        try writeCheckpoint(checkpoint, reason: reason, failAt: nil)
    }

    /// Implementation of ``writeCheckpoint(_:reason:)`` with an optional injected failure.
    func writeCheckpoint(_ checkpoint: Checkpoint, reason: String,
                         failAt: (@Sendable (CheckpointWriteStage) throws -> Void)?) throws -> CheckpointInfo {
        for name in checkpoint.sections.keys where name.isEmpty {
            throw StateStoreError.invalidCheckpoint("section name is empty")
        }
        try checkpoint.promptSnapshot?.validate()

        let sections = checkpoint.sections.sorted { $0.key < $1.key }
            .map { (name: $0.key, data: Data($0.value), crc: CRC32.checksum($0.value)) }
        let snapshot = checkpoint.promptSnapshot
        let tensors: [EncodedTensor] = (snapshot?.tensors ?? [:]).sorted { $0.key < $1.key }.map { name, values in
            let bytes = FloatBlob.encode(values)
            let shape = snapshot?.shapes[name] ?? []
            return EncodedTensor(name: name, shapeJSON: "[" + shape.map(String.init).joined(separator: ",") + "]",
                                 count: values.count, data: Data(bytes), crc: CRC32.checksum(bytes))
        }
        let bytes = sections.reduce(0) { $0 + $1.data.count } + tensors.reduce(0) { $0 + $1.data.count }
        let createdMs = Millis.now()
        let keepCheckpoints = max(1, options.keepCheckpoints)
        let keepVersions = max(1, options.keepPromptVersions)
        let fail: @Sendable (CheckpointWriteStage) throws -> Void = failAt ?? { _ in }

        let id: Int64 = try database().write { db in
            // The snapshot this checkpoint points at: the one it carries, or an already stored
            // snapshot of its prompt version (prompts unchanged since it was written).
            var snapshotVersion: Int64? = snapshot?.version
            if snapshotVersion == nil,
               try Bool.fetchOne(db, sql: "SELECT 1 FROM prompt_snapshot WHERE version = ?",
                                 arguments: [checkpoint.promptVersion]) == true {
                snapshotVersion = checkpoint.promptVersion
            }
            try db.execute(sql: """
                INSERT INTO checkpoint (created_at_ms, samples_processed, prompt_version, prompt_snapshot_version, reason, bytes)
                VALUES (?, ?, ?, ?, ?, ?)
                """, arguments: [createdMs, checkpoint.samplesProcessed, checkpoint.promptVersion,
                                 snapshotVersion, reason, bytes])
            let id = db.lastInsertedRowID
            try fail(.afterCheckpointRow)

            for s in sections {
                try db.execute(sql: "INSERT INTO checkpoint_section (checkpoint_id, name, data, crc32) VALUES (?, ?, ?, ?)",
                               arguments: [id, s.name, s.data, Int64(s.crc)])
            }
            try fail(.afterSections)

            if let snapshot {
                // Same version written again (e.g. after a prompt reset restarted the counter):
                // the new content wins; the cascade removes the old tensors.
                try db.execute(sql: "DELETE FROM prompt_snapshot WHERE version = ?", arguments: [snapshot.version])
                try db.execute(sql: "INSERT INTO prompt_snapshot (version, created_at_ms, written_by_checkpoint) VALUES (?, ?, ?)",
                               arguments: [snapshot.version, createdMs, id])
                for t in tensors {
                    try db.execute(sql: """
                        INSERT INTO prompt_tensor (version, name, shape, element_count, data, crc32)
                        VALUES (?, ?, ?, ?, ?, ?)
                        """, arguments: [snapshot.version, t.name, t.shapeJSON, t.count, t.data, Int64(t.crc)])
                }
            }
            try fail(.afterPromptSnapshot)

            try self.insertEvent(StateEvent(kind: "checkpoint", severity: .info, fields: [
                "id": "\(id)", "samples_processed": "\(checkpoint.samplesProcessed)",
                "prompt_version": "\(checkpoint.promptVersion)", "reason": reason, "bytes": "\(bytes)",
            ], at: Millis.date(createdMs)), db)
            try fail(.afterEvent)

            try db.execute(sql: """
                DELETE FROM checkpoint WHERE id NOT IN (SELECT id FROM checkpoint ORDER BY id DESC LIMIT ?)
                """, arguments: [keepCheckpoints])
            try db.execute(sql: """
                DELETE FROM prompt_snapshot
                WHERE version NOT IN (SELECT version FROM prompt_snapshot
                                      ORDER BY written_by_checkpoint DESC, version DESC LIMIT ?)
                  AND version NOT IN (SELECT prompt_snapshot_version FROM checkpoint
                                      WHERE prompt_snapshot_version IS NOT NULL)
                """, arguments: [keepVersions])
            try fail(.afterPrune)
            return id
        }
        let info = CheckpointInfo(id: id, createdAt: Millis.date(createdMs), samplesProcessed: checkpoint.samplesProcessed,
                                  promptVersion: checkpoint.promptVersion, reason: reason, bytes: bytes)
        logger.debug("checkpoint written", metadata: ["id": "\(id)", "bytes": "\(bytes)", "reason": "\(reason)"])
        return info
    }

    /// The newest checkpoint with all its sections and its prompt snapshot, or nil if none.
    ///
    /// Every blob is verified against its CRC-32. If the newest checkpoint is damaged, it is
    /// logged at `error` level and the next older one is tried, so one flipped bit costs one
    /// checkpoint interval rather than all adapted state. Throws
    /// ``StateStoreError/allCheckpointsDamaged(path:count:)`` if none verifies.
    public func latestCheckpoint() throws -> Checkpoint? {
        try latestCheckpointWithInfo()?.checkpoint
    }

    /// Like ``latestCheckpoint()``, with the summary of the checkpoint returned.
    public func latestCheckpointWithInfo() throws -> (info: CheckpointInfo, checkpoint: Checkpoint)? {
        try database().read { db in
            let infos = try self.checkpointInfos(db)
            for info in infos {
                do {
                    return (info, try self.loadCheckpoint(info, db))
                } catch let error as StateStoreError {
                    self.logger.error("checkpoint failed verification; falling back to an older one", metadata: [
                        "id": "\(info.id)", "error": "\(error)", "path": "\(self.path)",
                    ])
                }
            }
            if infos.isEmpty { return nil }
            throw StateStoreError.allCheckpointsDamaged(path: self.path, count: infos.count)
        }
    }

    /// Summary of the newest checkpoint (no blobs read), or nil.
    public func latestCheckpointInfo() throws -> CheckpointInfo? {
        try database().read { db in try self.checkpointInfos(db, limit: 1).first }
    }

    /// Summaries of all stored checkpoints, newest first.
    public func checkpoints() throws -> [CheckpointInfo] {
        try database().read { db in try self.checkpointInfos(db) }
    }

    /// A stored prompt snapshot, verified against its checksums, or nil if that version is not
    /// (or no longer) stored.
    public func promptSnapshot(version: Int64) throws -> PromptSnapshot? {
        try database().read { db in try self.loadSnapshot(version: version, db) }
    }

    /// Stored prompt versions, ascending.
    public func promptVersions() throws -> [Int64] {
        try database().read { db in try Int64.fetchAll(db, sql: "SELECT version FROM prompt_snapshot ORDER BY version") }
    }

    // MARK: - Reading

    private func checkpointInfos(_ db: Database, limit: Int = -1) throws -> [CheckpointInfo] {
        try Row.fetchAll(db, sql: """
            SELECT id, created_at_ms, samples_processed, prompt_version, reason, bytes
            FROM checkpoint ORDER BY id DESC LIMIT ?
            """, arguments: [limit]).map { row in
            CheckpointInfo(
                id: try int64(row, 0, "checkpoint.id"),
                createdAt: Millis.date(try int64(row, 1, "checkpoint.created_at_ms")),
                samplesProcessed: try int64(row, 2, "checkpoint.samples_processed"),
                promptVersion: try int64(row, 3, "checkpoint.prompt_version"),
                reason: String.fromDatabaseValue(row[4]) ?? "",
                bytes: Int(try int64(row, 5, "checkpoint.bytes")))
        }
    }

    private func loadCheckpoint(_ info: CheckpointInfo, _ db: Database) throws -> Checkpoint {
        var sections: [String: [UInt8]] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT name, data, crc32 FROM checkpoint_section WHERE checkpoint_id = ?",
                                    arguments: [info.id]) {
            let name = String.fromDatabaseValue(row[0]) ?? ""
            let bytes = try verifiedBlob(row, dataIndex: 1, crcIndex: 2, what: "checkpoint \(info.id) section '\(name)'")
            sections[name] = bytes
        }
        var snapshot: PromptSnapshot?
        let snapshotVersion = try Int64.fetchOne(db, sql: "SELECT prompt_snapshot_version FROM checkpoint WHERE id = ?",
                                                 arguments: [info.id])
        if let snapshotVersion {
            guard let s = try loadSnapshot(version: snapshotVersion, db) else {
                throw StateStoreError.damagedBlob(path: path, what: "checkpoint \(info.id) references missing prompt snapshot v\(snapshotVersion)")
            }
            snapshot = s
        }
        return Checkpoint(samplesProcessed: info.samplesProcessed, promptVersion: info.promptVersion,
                          sections: sections, promptSnapshot: snapshot)
    }

    private func loadSnapshot(version: Int64, _ db: Database) throws -> PromptSnapshot? {
        guard try Bool.fetchOne(db, sql: "SELECT 1 FROM prompt_snapshot WHERE version = ?", arguments: [version]) == true else {
            return nil
        }
        var tensors: [String: [Float]] = [:]
        var shapes: [String: [Int]] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT name, shape, element_count, data, crc32 FROM prompt_tensor WHERE version = ?",
                                    arguments: [version]) {
            let name = String.fromDatabaseValue(row[0]) ?? ""
            let what = "prompt snapshot v\(version) tensor '\(name)'"
            let bytes = try verifiedBlob(row, dataIndex: 3, crcIndex: 4, what: what)
            let values = try FloatBlob.decode(bytes)
            guard let shapeText = String.fromDatabaseValue(row[1]),
                  let shape = try? JSONDecoder().decode([Int].self, from: Data(shapeText.utf8)),
                  Int64.fromDatabaseValue(row[2]) == Int64(values.count),
                  shape.reduce(1, *) == values.count else {
                throw StateStoreError.damagedBlob(path: path, what: "\(what): shape/element count inconsistent")
            }
            tensors[name] = values
            shapes[name] = shape
        }
        return PromptSnapshot(version: version, tensors: tensors, shapes: shapes)
    }

    private func verifiedBlob(_ row: Row, dataIndex: Int, crcIndex: Int, what: String) throws -> [UInt8] {
        guard let data = Data.fromDatabaseValue(row[dataIndex]), let crc = Int64.fromDatabaseValue(row[crcIndex]) else {
            throw StateStoreError.damagedBlob(path: path, what: "\(what): missing data or checksum")
        }
        let bytes = [UInt8](data)
        guard UInt32(truncatingIfNeeded: crc) == CRC32.checksum(bytes) else {
            throw StateStoreError.damagedBlob(path: path, what: "\(what): CRC-32 mismatch")
        }
        return bytes
    }

    private func int64(_ row: Row, _ index: Int, _ what: String) throws -> Int64 {
        guard let v = Int64.fromDatabaseValue(row[index]) else {
            throw StateStoreError.damagedBlob(path: path, what: "\(what) is NULL or mistyped")
        }
        return v
    }
}
