import Foundation
import GRDB

/// Severity of a ``StateEvent``; stored as its raw string.
public enum StateEventSeverity: String, Sendable, Codable, CaseIterable {
    case debug, info, notice, warning, error, critical
}

/// An entry for the durable event log: what happened to the service and its state, kept across
/// restarts (unlike the journal, which rotates) so that "when did the detector alarm / the prompts
/// reset / the state get moved aside" can be answered months later.
///
/// Kinds used by the store itself: `checkpoint`, `created`, `moved_aside`, `fingerprint_adopted`.
/// The daemon adds its own (`start`, `stop`, `reset`, `alarm`, `restart`, …); kinds are free text.
public struct StateEvent: Sendable, Equatable {
    public var kind: String
    public var severity: StateEventSeverity
    /// JSON text (an object, by convention). Not validated: the caller owns the format.
    public var detail: String
    public var at: Date

    public init(kind: String, severity: StateEventSeverity = .info, detail: String = "{}", at: Date = Date()) {
        self.kind = kind
        self.severity = severity
        self.detail = detail
        self.at = at
    }

    /// Convenience: `detail` is the JSON object of `fields` (keys sorted, so identical events have
    /// identical text).
    public init(kind: String, severity: StateEventSeverity = .info, fields: [String: String], at: Date = Date()) {
        self.init(kind: kind, severity: severity, detail: Self.json(fields), at: at)
    }

    static func json(_ fields: [String: String]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(fields) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}

/// An event read back from the log.
public struct StoredEvent: Sendable, Equatable {
    /// Row id: increases with every append, so it orders events even within one millisecond.
    public var id: Int64
    public var kind: String
    /// Parsed severity; unknown strings (from a future version) read as `.info`.
    public var severity: StateEventSeverity
    public var detail: String
    /// Millisecond precision.
    public var at: Date
}

extension StateStore {
    /// Appends `event` in its own transaction.
    ///
    /// Bounded size: the table keeps at most `options.maxEvents` rows. Because ids come from
    /// `AUTOINCREMENT` (never reused, no gaps: only the oldest rows are ever deleted, and a rolled
    /// back insert rolls its sequence number back too), "the last N events" is exactly
    /// `id > lastID - N`. Each append therefore deletes by primary-key range — one B-tree seek,
    /// usually deleting one row — instead of counting or scanning the table.
    public func appendEvent(_ event: StateEvent) throws {
        try database().write { db in try self.insertEvent(event, db) }
    }

    /// Newest first, at most `limit` events, optionally only those of `kind` (uses the
    /// `(kind, id)` index).
    public func events(limit: Int, kind: String? = nil) throws -> [StoredEvent] {
        guard limit > 0 else { return [] }
        return try database().read { db in
            let rows: [Row]
            if let kind {
                rows = try Row.fetchAll(db, sql: """
                    SELECT id, at_ms, kind, severity, detail FROM event WHERE kind = ? ORDER BY id DESC LIMIT ?
                    """, arguments: [kind, limit])
            } else {
                rows = try Row.fetchAll(db, sql: """
                    SELECT id, at_ms, kind, severity, detail FROM event ORDER BY id DESC LIMIT ?
                    """, arguments: [limit])
            }
            return rows.map { row in
                StoredEvent(
                    id: Int64.fromDatabaseValue(row[0]) ?? 0,
                    kind: String.fromDatabaseValue(row[2]) ?? "",
                    severity: String.fromDatabaseValue(row[3]).flatMap(StateEventSeverity.init(rawValue:)) ?? .info,
                    detail: String.fromDatabaseValue(row[4]) ?? "",
                    at: Millis.date(Int64.fromDatabaseValue(row[1]) ?? 0))
            }
        }
    }

    /// Number of rows in the event log.
    public func eventCount() throws -> Int {
        try database().read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM event") ?? 0 }
    }

    /// Inserts and prunes inside the caller's transaction (shared with checkpoint writes).
    func insertEvent(_ event: StateEvent, _ db: Database) throws {
        try db.execute(
            sql: "INSERT INTO event (at_ms, kind, severity, detail) VALUES (?, ?, ?, ?)",
            arguments: [Millis.from(event.at), event.kind, event.severity.rawValue, event.detail])
        let lastID = db.lastInsertedRowID
        let keep = Int64(max(1, options.maxEvents))
        if lastID > keep {
            try db.execute(sql: "DELETE FROM event WHERE id <= ?", arguments: [lastID - keep])
        }
    }
}
