import Foundation
import GRDB
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// What an existing state file turned out to be.
enum Inspection: Sendable {
    /// No database file (and no companions).
    case missing
    /// A valid SQLite file with no schema and no application id (e.g. a 0-byte file left by a
    /// crash during creation). Safe to initialise in place.
    case empty
    /// A ttad state database this build can open.
    case ours(stored: StateFingerprint, schemaVersion: Int64)
    /// Must be moved aside before a fresh database is created.
    case unusable(MoveAsideReason)
}

/// Decision for a fingerprint comparison.
enum FingerprintVerdict: Sendable, Equatable {
    case match
    /// Keep the state; update the stored fingerprint for these fields.
    case adopt([StateFingerprint.Field])
    case moveAside(MoveAsideReason)
}

/// Inspection of an existing state file *before* it is opened for writing.
///
/// The inspection connection only reads: it never creates tables, never changes the journal mode
/// and never writes the header, so a foreign or damaged file is moved aside exactly as found (the
/// one exception is SQLite's own crash recovery — rolling back a hot journal — which any open
/// performs). Everything that is not provably our database in a version we understand is moved
/// aside; errors that are not the file's fault (busy, I/O, out of memory) are thrown instead, so
/// a transient problem never costs the daemon its state.
enum Recovery {
    static func inspect(path: String, migrator: DatabaseMigrator, busyTimeout: TimeInterval) throws -> Inspection {
        var st = stat()
        guard lstat(path, &st) == 0 else {
            let orphans = MoveAside.companionSuffixes.filter { MoveAside.exists(path + $0) }
            if orphans.isEmpty { return .missing }
            return .unusable(.orphan("\(orphans.map { "ttad.sqlite" + $0 }.joined(separator: ", ")) without ttad.sqlite"))
        }
        var target = stat()
        guard stat(path, &target) == 0 else {
            return .unusable(.corrupt("cannot open: dangling symbolic link"))
        }
        guard (target.st_mode & S_IFMT) == S_IFREG else {
            return .unusable(.corrupt("cannot open: not a regular file"))
        }
        guard access(path, R_OK | W_OK) == 0 else {
            return .unusable(.corrupt("cannot open: \(StateDirectory.errnoString())"))
        }

        if let verdict = preflight(path: path, fileSize: Int(target.st_size)) {
            return .unusable(verdict)
        }

        var config = Configuration()
        config.busyMode = .timeout(busyTimeout)
        config.label = "ttad.state.inspect"
        do {
            let queue = try DatabaseQueue(path: path, configuration: config)
            defer { try? queue.close() }
            return try queue.inDatabase { db in try inspect(db, migrator: migrator) }
        } catch let error as StateStoreError {
            throw error
        } catch {
            if let detail = corruptionDetail(error, strict: false) {
                return .unusable(.corrupt(detail))
            }
            throw mapUnexpected(error, path: path)
        }
    }

    /// Decides from the raw header alone, without letting SQLite touch the file, when that is
    /// possible. Returns nil when SQLite must look (empty file, application id 0 or ours).
    ///
    /// A non-empty `-wal` disables the id and size checks: until the first WAL checkpoint, the
    /// main file's header is stale (a young ttad database killed before its first checkpoint
    /// still shows application id 0 there) and the main file may legitimately be shorter than
    /// the page count the WAL brings.
    static func preflight(path: String, fileSize: Int) -> MoveAsideReason? {
        if fileSize == 0 { return nil }
        guard let bytes = SQLiteHeader.read(path) else {
            return .corrupt("not a database (\(fileSize) bytes, shorter than an SQLite header)")
        }
        guard let header = SQLiteHeader(bytes) else {
            return .corrupt("not a database (no SQLite header)")
        }
        guard header.hasValidPageSize else {
            return .corrupt("not a database (invalid page size \(header.pageSize))")
        }
        var walSize = stat()
        let walInUse = stat(path + "-wal", &walSize) == 0 && walSize.st_size > 0
        if walInUse { return nil }
        if header.applicationID != 0, header.applicationID != Schema.applicationID {
            return .foreign("application_id \(hex(Int64(header.applicationID))) is not ttad's \(hex(Int64(Schema.applicationID)))")
        }
        if let pages = header.pageCount, pages * header.pageSize > fileSize {
            return .corrupt("truncated: header says \(pages) pages of \(header.pageSize) bytes, file has \(fileSize) bytes")
        }
        return nil
    }

    private static func inspect(_ db: Database, migrator: DatabaseMigrator) throws -> Inspection {
        let appID = try Int64.fetchOne(db, sql: "PRAGMA application_id") ?? 0
        let tables = try String.fetchAll(
            db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        let objectCount = try Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_master") ?? 0

        if appID != Int64(Schema.applicationID) {
            if appID == 0 {
                if objectCount == 0 { return .empty }
                let listed = tables.prefix(5).joined(separator: ", ") + (tables.count > 5 ? ", …" : "")
                return .unusable(.foreign("no ttad application_id; \(tables.count) table(s): \(listed)"))
            }
            return .unusable(.foreign(
                "application_id \(hex(appID)) is not ttad's \(hex(Int64(Schema.applicationID)))"))
        }

        let check = try String.fetchAll(db, sql: "PRAGMA quick_check(5)")
        guard check == ["ok"] else {
            // One line for the log: SQLite prefixes multi-line reports with "*** in database main ***".
            let problems = check.flatMap { $0.split(separator: "\n") }
                .map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty && !$0.hasPrefix("***") }
            return .unusable(.corrupt("quick_check: " + problems.prefix(3).joined(separator: "; ")))
        }
        guard tables.contains("meta") else {
            return .unusable(.corrupt("ttad application_id but no meta table"))
        }
        // Values are read as DatabaseValue and converted explicitly: a damaged row must become a
        // "corrupt" verdict, never a type-conversion trap.
        guard let row = try Row.fetchOne(db, sql: """
            SELECT schema_version, model_id, model_sha256, config_sha256 FROM meta WHERE id = 1
            """) else {
            return .unusable(.corrupt("meta row missing"))
        }
        guard let version = Int64.fromDatabaseValue(row[0]),
              let modelID = String.fromDatabaseValue(row[1]),
              let modelSHA = String.fromDatabaseValue(row[2]),
              let configSHA = String.fromDatabaseValue(row[3]) else {
            return .unusable(.corrupt("meta row has NULL or mistyped values"))
        }
        if version > Schema.currentVersion {
            return .unusable(.newerSchema(
                "schema_version \(version) is newer than the \(Schema.currentVersion) this build knows"))
        }
        let unknown = try migrator.appliedIdentifiers(db).subtracting(migrator.migrations).sorted()
        if !unknown.isEmpty {
            return .unusable(.newerSchema("unknown migrations applied: \(unknown.joined(separator: ", "))"))
        }
        return .ours(
            stored: StateFingerprint(modelID: modelID, modelSHA256: modelSHA, configSHA256: configSHA),
            schemaVersion: version)
    }

    /// Applies `policy` to a stored/current fingerprint pair.
    static func verdict(stored: StateFingerprint, current: StateFingerprint,
                        policy: FingerprintMismatchPolicy) -> FingerprintVerdict {
        let fields = stored.differingFields(from: current)
        if fields.isEmpty { return .match }
        let detail = fields.map { field in
            "\(field.rawValue) differs (stored \(StateFingerprint.abbreviate(stored[field])), "
                + "now \(StateFingerprint.abbreviate(current[field])))"
        }.joined(separator: ", ")
        switch policy {
        case .moveAside:
            return .moveAside(.fingerprint(detail))
        case .moveAsideIfModelChanged:
            return fields.contains(where: \.isModelField) ? .moveAside(.fingerprint(detail)) : .adopt(fields)
        case .adopt:
            return .adopt(fields)
        }
    }

    /// A human-readable corruption detail if `error` means "this file is damaged or not a
    /// database", nil if it is something else (busy, I/O, memory…).
    ///
    /// `strict` is used once a database has passed inspection: then a generic `SQLITE_ERROR`
    /// (e.g. an unexpected schema) is not taken as proof of corruption.
    static func corruptionDetail(_ error: Error, strict: Bool) -> String? {
        guard let e = error as? DatabaseError else { return nil }
        let message = e.message ?? "\(e)"
        switch e.resultCode {
        case .SQLITE_NOTADB: return "not a database (\(message))"
        case .SQLITE_CORRUPT: return "malformed (\(message))"
        case .SQLITE_FORMAT: return "bad format (\(message))"
        case .SQLITE_RANGE where !strict: return "out of range (\(message))"
        case .SQLITE_ERROR where !strict: return "unexpected schema (\(message))"
        case .SQLITE_IOERR where e.extendedResultCode == .SQLITE_IOERR_SHORT_READ:
            return "truncated (\(message))"
        default: return nil
        }
    }

    /// Wraps a non-corruption error with the path, keeping busy distinct (the caller may retry).
    static func mapUnexpected(_ error: Error, path: String) -> Error {
        if let e = error as? DatabaseError, e.resultCode == .SQLITE_BUSY || e.resultCode == .SQLITE_LOCKED {
            return StateStoreError.databaseBusy(path: path)
        }
        if error is StateStoreError { return error }
        return StateStoreError.cannotOpen(path: path, reason: "\(error)")
    }

    private static func hex(_ v: Int64) -> String {
        "0x" + String(UInt32(truncatingIfNeeded: v), radix: 16, uppercase: true)
    }
}
