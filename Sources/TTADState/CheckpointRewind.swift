import Foundation
import GRDB

extension StateStore {
    /// One section of one stored checkpoint, verified against its CRC-32; nil when that
    /// checkpoint or section is not stored. Lets a caller look into an older checkpoint without
    /// loading all of it (``latestCheckpoint()`` only reads the newest that verifies).
    public func section(_ name: String, ofCheckpoint id: Int64) throws -> [UInt8]? {
        try database().read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT data, crc32 FROM checkpoint_section WHERE checkpoint_id = ? AND name = ?",
                                             arguments: [id, name]) else { return nil }
            guard let data = Data.fromDatabaseValue(row[0]), let crc = Int64.fromDatabaseValue(row[1]) else {
                throw StateStoreError.damagedBlob(path: self.path, what: "checkpoint \(id) section '\(name)': missing data or checksum")
            }
            let bytes = [UInt8](data)
            guard UInt32(truncatingIfNeeded: crc) == CRC32.checksum(bytes) else {
                throw StateStoreError.damagedBlob(path: self.path, what: "checkpoint \(id) section '\(name)': CRC-32 mismatch")
            }
            return bytes
        }
    }

    /// Deletes every checkpoint newer than `id` (one transaction), so that the next restore starts
    /// from `id`, and records a `rewind` event. Returns how many were deleted.
    ///
    /// Why: a run whose outputs are kept outside the store (`ttad eval --resume`'s predictions
    /// file) can only continue from a checkpoint those outputs reach; a newer one would skip
    /// samples whose predictions were never written.
    @discardableResult
    public func discardCheckpoints(newerThan id: Int64) throws -> Int {
        try database().write { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM checkpoint WHERE id = ?", arguments: [id]) == true else {
                throw StateStoreError.invalidCheckpoint("no checkpoint \(id) to rewind to")
            }
            try db.execute(sql: "DELETE FROM checkpoint WHERE id > ?", arguments: [id])
            let deleted = db.changesCount
            if deleted > 0 {
                try self.insertEvent(StateEvent(kind: "rewind", severity: .notice, fields: [
                    "to_checkpoint": "\(id)", "discarded": "\(deleted)",
                ], at: Date()), db)
            }
            return deleted
        }
    }
}
