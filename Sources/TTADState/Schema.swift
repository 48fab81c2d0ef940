import Foundation
import GRDB

/// The database layout and its migrations.
///
/// Identity: every ttad database carries ``applicationID`` in its header (`PRAGMA application_id`,
/// visible to `file(1)` and the `sqlite3` shell) and a single-row `meta` table. A database without
/// both is not ours and is never written to.
///
/// Versioning: migrations are registered in order with GRDB's `DatabaseMigrator`, which records
/// the applied identifiers in `grdb_migrations`. Each migration also bumps `meta.schema_version`
/// and `PRAGMA user_version`, so the version is readable without GRDB. A database that contains a
/// migration this build does not know, or a higher `schema_version`, was written by a newer ttad:
/// it is moved aside rather than opened, because this build cannot know what the newer columns
/// mean. **Never edit a shipped migration; append a new one and bump ``currentVersion``.**
///
/// Tables (version 1):
/// - `meta(id=1, schema_version, model_id, model_sha256, config_sha256, created_at_ms, created_by)`
/// - `checkpoint(id AUTOINCREMENT, created_at_ms, samples_processed, prompt_version,
///    prompt_snapshot_version NULL, reason, bytes)`
/// - `checkpoint_section(checkpoint_id → checkpoint ON DELETE CASCADE, name, data BLOB, crc32)`
/// - `prompt_snapshot(version PK, created_at_ms, written_by_checkpoint)`
/// - `prompt_tensor(version → prompt_snapshot ON DELETE CASCADE, name, shape JSON, element_count,
///    data BLOB little-endian float32, crc32)`
/// - `event(id AUTOINCREMENT, at_ms, kind, severity, detail JSON)` + index `(kind, id)`
///
/// Times are integer milliseconds since the Unix epoch (exact round trip, sortable, readable with
/// `datetime(x/1000, 'unixepoch')`).
enum Schema {
    /// `PRAGMA application_id` of ttad state databases: ASCII "TTAD" (0x54544144).
    static let applicationID: Int32 = 0x5454_4144
    /// The newest schema version this build knows.
    static let currentVersion: Int64 = 1

    /// Builds the migrator. `fingerprint` and `createdBy` seed the `meta` row when the first
    /// migration runs on a fresh database.
    static func migrator(fingerprint: StateFingerprint, createdBy: String) -> DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1_initial") { db in
            try db.execute(sql: """
                CREATE TABLE meta (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    schema_version INTEGER NOT NULL,
                    model_id TEXT NOT NULL,
                    model_sha256 TEXT NOT NULL,
                    config_sha256 TEXT NOT NULL,
                    created_at_ms INTEGER NOT NULL,
                    created_by TEXT NOT NULL
                );
                CREATE TABLE checkpoint (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    created_at_ms INTEGER NOT NULL,
                    samples_processed INTEGER NOT NULL,
                    prompt_version INTEGER NOT NULL,
                    prompt_snapshot_version INTEGER,
                    reason TEXT NOT NULL,
                    bytes INTEGER NOT NULL
                );
                CREATE TABLE checkpoint_section (
                    checkpoint_id INTEGER NOT NULL REFERENCES checkpoint(id) ON DELETE CASCADE,
                    name TEXT NOT NULL,
                    data BLOB NOT NULL,
                    crc32 INTEGER NOT NULL,
                    PRIMARY KEY (checkpoint_id, name)
                );
                CREATE TABLE prompt_snapshot (
                    version INTEGER PRIMARY KEY,
                    created_at_ms INTEGER NOT NULL,
                    written_by_checkpoint INTEGER NOT NULL
                );
                CREATE TABLE prompt_tensor (
                    version INTEGER NOT NULL REFERENCES prompt_snapshot(version) ON DELETE CASCADE,
                    name TEXT NOT NULL,
                    shape TEXT NOT NULL,
                    element_count INTEGER NOT NULL,
                    data BLOB NOT NULL,
                    crc32 INTEGER NOT NULL,
                    PRIMARY KEY (version, name)
                );
                CREATE TABLE event (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    at_ms INTEGER NOT NULL,
                    kind TEXT NOT NULL,
                    severity TEXT NOT NULL,
                    detail TEXT NOT NULL
                );
                CREATE INDEX event_kind_id ON event(kind, id);
                """)
            // Header fields are transactional: they commit or roll back with the tables above, so
            // a crash mid-creation never leaves a file that claims to be ours without a meta row.
            try db.execute(sql: "PRAGMA application_id = \(applicationID)")
            try db.execute(
                sql: """
                    INSERT INTO meta (id, schema_version, model_id, model_sha256, config_sha256, created_at_ms, created_by)
                    VALUES (1, 1, ?, ?, ?, ?, ?)
                    """,
                arguments: [fingerprint.modelID, fingerprint.modelSHA256, fingerprint.configSHA256,
                            Millis.now(), createdBy])
            try setVersion(1, db)
        }
        // Future migrations go here, e.g.:
        // migrator.registerMigration("v2_something") { db in ...; try setVersion(2, db) }
        return migrator
    }

    /// Records the schema version in both `meta` and the header.
    static func setVersion(_ version: Int64, _ db: Database) throws {
        try db.execute(sql: "UPDATE meta SET schema_version = ?", arguments: [version])
        try db.execute(sql: "PRAGMA user_version = \(version)")
    }
}

/// Integer-millisecond timestamps, the storage format for every time in the database.
enum Millis {
    static func now() -> Int64 { from(Date()) }
    static func from(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }
    static func date(_ ms: Int64) -> Date { Date(timeIntervalSince1970: Double(ms) / 1000) }
}
