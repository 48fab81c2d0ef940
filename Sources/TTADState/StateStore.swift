import Foundation
import GRDB
import Logging
import Synchronization

/// The daemon's durable state: one SQLite database, `<directory>/ttad.sqlite`, in WAL mode.
///
/// Why SQLite + WAL: a checkpoint is a single transaction, so a kill at any instant leaves either
/// the previous or the new checkpoint, never a mix; WAL lets status readers run while the adapter
/// writes; and with `synchronous=NORMAL` a commit costs no fsync (a *process* crash loses nothing
/// committed; an OS crash or power cut may lose the last few commits but never corrupts the file).
///
/// Why the careful open (see ``open(directory:fingerprint:logger:options:)``): the daemon runs
/// unattended for months. A file it cannot trust — damaged, from another program, from another
/// model, from a newer ttad — must neither crash it in a loop nor be silently reused or deleted.
/// It is renamed aside with a loud log line and the daemon starts fresh.
///
/// Thread safety: all methods may be called from any thread. Writes are serialised by GRDB's
/// single writer connection; reads use a small pool of reader connections.
public final class StateStore: Sendable {
    /// Path of the database file, `<directory>/ttad.sqlite`.
    public let path: String
    /// The state directory.
    public let directory: String
    let options: StateStoreOptions
    let logger: Logger
    private let pool: Mutex<DatabasePool?>
    private let lock: DirectoryLock?

    /// File name of the database inside the state directory.
    public static let databaseFileName = "ttad.sqlite"

    private init(path: String, directory: String, pool: DatabasePool, lock: DirectoryLock?,
                 options: StateStoreOptions, logger: Logger) {
        self.path = path
        self.directory = directory
        self.pool = Mutex(pool)
        self.lock = lock
        self.options = options
        self.logger = logger
    }

    /// Opens (or creates) the state database in `directory`, creating the directory if missing.
    ///
    /// Steps: prepare and lock the directory → inspect any existing file read-only → move it aside
    /// if it is corrupt, foreign, for another fingerprint (per `options.onFingerprintMismatch`),
    /// or from a newer schema → open a WAL pool → run pending migrations.
    ///
    /// - Returns: the store and how it was opened. ``StateOpenOutcome/movedAside(reason:movedTo:)``
    ///   is also logged at `critical` level and recorded as a `moved_aside` event in the new
    ///   database.
    /// - Throws: ``StateStoreError`` when the directory is unusable or locked, or the database
    ///   cannot be opened for a reason that is not the file's fault (it is then left untouched).
    public static func open(
        directory: String,
        fingerprint: StateFingerprint,
        logger: Logger,
        options: StateStoreOptions = StateStoreOptions()
    ) throws -> (StateStore, StateOpenOutcome) {
        let directory = directory.count > 1 && directory.hasSuffix("/") ? String(directory.dropLast()) : directory
        try StateDirectory.prepare(directory)
        let lock = options.exclusiveLock ? try DirectoryLock(directory: directory) : nil
        let path = directory + "/" + databaseFileName
        let migrator = Schema.migrator(fingerprint: fingerprint, createdBy: options.creatorVersion)

        var inspection = try Recovery.inspect(path: path, migrator: migrator, busyTimeout: options.busyTimeout)
        var adopted: [StateFingerprint.Field] = []
        var previous: StateFingerprint?
        if case let .ours(stored, _) = inspection {
            switch Recovery.verdict(stored: stored, current: fingerprint, policy: options.onFingerprintMismatch) {
            case .match: break
            case let .adopt(fields): adopted = fields; previous = stored
            case let .moveAside(reason): inspection = .unusable(reason)
            }
        }

        var moved: (reason: MoveAsideReason, to: String)?
        if case let .unusable(reason) = inspection {
            moved = (reason, try moveAside(path, reason: reason, logger: logger))
        }

        let dbPool: DatabasePool
        do {
            dbPool = try openPool(path: path, migrator: migrator, options: options)
        } catch {
            // Passed inspection but broke while migrating (damage quick_check cannot see): same
            // treatment as any other corrupt file, once.
            guard case .ours = inspection, moved == nil,
                  let detail = Recovery.corruptionDetail(error, strict: true) else {
                throw Recovery.mapUnexpected(error, path: path)
            }
            let reason = MoveAsideReason.corrupt("while migrating: \(detail)")
            moved = (reason, try moveAside(path, reason: reason, logger: logger))
            inspection = .missing
            adopted = []
            do {
                dbPool = try openPool(path: path, migrator: migrator, options: options)
            } catch {
                throw Recovery.mapUnexpected(error, path: path)
            }
        }

        let store = StateStore(path: path, directory: directory, pool: dbPool, lock: lock,
                               options: options, logger: logger)
        if let moved {
            try store.appendEvent(StateEvent(kind: "moved_aside", severity: .critical, fields: [
                "reason": moved.reason.description, "moved_to": moved.to,
            ]))
            return (store, .movedAside(reason: moved.reason.description, movedTo: moved.to))
        }
        if case .ours = inspection {
            if !adopted.isEmpty, let previous {
                try store.adoptFingerprint(fingerprint, previous: previous, fields: adopted)
            }
            let last = try store.latestCheckpointInfo()
            logger.info("state restored", metadata: [
                "path": "\(path)", "last_checkpoint": "\(last.map { "\($0.id)" } ?? "none")",
            ])
            return (store, .restored(lastCheckpoint: last))
        }
        try store.appendEvent(StateEvent(kind: "created", severity: .info, fields: [
            "model_id": fingerprint.modelID, "model_sha256": fingerprint.modelSHA256,
            "config_sha256": fingerprint.configSHA256, "created_by": options.creatorVersion,
        ]))
        logger.notice("state database created", metadata: ["path": "\(path)"])
        return (store, .created)
    }

    /// Opens an existing state database for reading only, without the directory lock, so a
    /// running daemon's state can be read beside it (WAL readers never block its writer):
    /// `ttad state export`. Nothing is checked, migrated or moved; a missing database is
    /// ``StateStoreError/cannotOpen(path:reason:)``.
    public static func openForReading(directory: String, logger: Logger,
                                      options: StateStoreOptions = StateStoreOptions()) throws -> StateStore {
        let directory = directory.count > 1 && directory.hasSuffix("/") ? String(directory.dropLast()) : directory
        let path = directory + "/" + databaseFileName
        guard FileManager.default.fileExists(atPath: path) else {
            throw StateStoreError.cannotOpen(path: path, reason: "no state database there")
        }
        var config = Configuration()
        config.readonly = true
        config.busyMode = .timeout(options.busyTimeout)
        config.label = "ttad.state.reader"
        do {
            let pool = try DatabasePool(path: path, configuration: config)
            return StateStore(path: path, directory: directory, pool: pool, lock: nil, options: options, logger: logger)
        } catch {
            throw StateStoreError.cannotOpen(path: path, reason: "\(error)")
        }
    }

    /// Checkpoints the WAL into the main file and truncates it (so a copied `ttad.sqlite` alone is
    /// complete), then closes all connections and releases the directory lock. Further calls on
    /// the store throw ``StateStoreError/closed(path:)``. Calling `close()` twice is harmless.
    public func close() throws {
        guard let dbPool = pool.withLock({ p -> DatabasePool? in defer { p = nil }; return p }) else { return }
        defer { lock?.release() }
        do {
            let result = try dbPool.writeWithoutTransaction { db in
                try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(TRUNCATE)")
            }
            if let result, let busy = Int.fromDatabaseValue(result[0]), busy != 0 {
                logger.warning("WAL checkpoint on close was blocked by a reader; the WAL is kept",
                               metadata: ["path": "\(path)"])
            }
        } catch {
            logger.error("WAL checkpoint on close failed", metadata: ["path": "\(path)", "error": "\(error)"])
            try? dbPool.close()
            throw error
        }
        try dbPool.close()
    }

    /// Full `PRAGMA integrity_check` (slow on large files: run it from a maintenance path, not on
    /// the hot path). Logs the first problems at `error` level and returns false if any.
    public func integrityCheck() throws -> Bool {
        let rows = try database().read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check(20)") }
        if rows == ["ok"] { return true }
        logger.error("state database integrity check failed", metadata: [
            "path": "\(path)", "problems": "\(rows.joined(separator: "; "))",
        ])
        return false
    }

    /// The fingerprint stored in `meta`.
    public func storedFingerprint() throws -> StateFingerprint {
        try database().read { db in
            let row = try Row.fetchOne(db, sql: "SELECT model_id, model_sha256, config_sha256 FROM meta WHERE id = 1")
            guard let row, let a = String.fromDatabaseValue(row[0]), let b = String.fromDatabaseValue(row[1]),
                  let c = String.fromDatabaseValue(row[2]) else {
                throw StateStoreError.cannotOpen(path: self.path, reason: "meta row missing or damaged")
            }
            return StateFingerprint(modelID: a, modelSHA256: b, configSHA256: c)
        }
    }

    // MARK: - Internals

    /// The open connection pool (used for reads and writes), or ``StateStoreError/closed(path:)``.
    func database() throws -> DatabasePool {
        guard let p = pool.withLock({ $0 }) else { throw StateStoreError.closed(path: path) }
        return p
    }

    private static func openPool(path: String, migrator: DatabaseMigrator, options: StateStoreOptions) throws -> DatabasePool {
        var config = Configuration()
        config.journalMode = .wal          // also sets synchronous = NORMAL
        config.busyMode = .timeout(options.busyTimeout)
        config.foreignKeysEnabled = true   // checkpoint_section / prompt_tensor cascade deletes
        config.label = "ttad.state"
        config.maximumReaderCount = 2
        let walLimit = options.walSizeLimitBytes
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA journal_size_limit = \(walLimit)")
        }
        let pool = try DatabasePool(path: path, configuration: config)
        try migrator.migrate(pool)
        return pool
    }

    private static func moveAside(_ path: String, reason: MoveAsideReason, logger: Logger) throws -> String {
        let target = try MoveAside.move(path, reason: reason)
        logger.critical("state database moved aside: \(reason.description); kept at \(target); starting with fresh state",
                        metadata: ["reason": "\(reason.token)", "moved_to": "\(target)", "path": "\(path)"])
        return target
    }

    private func adoptFingerprint(_ fp: StateFingerprint, previous: StateFingerprint,
                                  fields: [StateFingerprint.Field]) throws {
        let names = fields.map(\.rawValue).joined(separator: ", ")
        logger.warning("state fingerprint changed; keeping state by policy", metadata: [
            "fields": "\(names)", "previous": "\(previous)", "current": "\(fp)",
        ])
        var fieldsJSON: [String: String] = ["fields": names]
        for f in fields { fieldsJSON["previous_" + f.rawValue] = previous[f] }
        let event = StateEvent(kind: "fingerprint_adopted", severity: .warning, fields: fieldsJSON)
        try database().write { db in
            try db.execute(sql: "UPDATE meta SET model_id = ?, model_sha256 = ?, config_sha256 = ? WHERE id = 1",
                           arguments: [fp.modelID, fp.modelSHA256, fp.configSHA256])
            try self.insertEvent(event, db)
        }
    }
}
