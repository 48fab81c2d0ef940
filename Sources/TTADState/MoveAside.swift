import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a database file was set aside. The ``token`` goes into the new file name; the full
/// ``description`` goes into the log line and ``StateOpenOutcome/movedAside(reason:movedTo:)``.
public enum MoveAsideReason: Sendable, Equatable, CustomStringConvertible {
    /// Not a database, fails `quick_check`, cannot be opened, or ours but structurally broken.
    case corrupt(String)
    /// A valid SQLite database that is not a ttad state database.
    case foreign(String)
    /// A ttad state database for another model or configuration (foreign to this daemon by default,
    /// see ``FingerprintMismatchPolicy``).
    case fingerprint(String)
    /// A ttad state database written by a newer ttad with a schema this build does not know.
    case newerSchema(String)
    /// `-wal`/`-shm`/`-journal` files without their database (e.g. the database was deleted by
    /// hand). Set aside so SQLite never replays a stray log into a new database.
    case orphan(String)

    /// Short token used in the file name `ttad.sqlite.<token>.<UTC timestamp>`.
    public var token: String {
        switch self {
        case .corrupt: "corrupt"
        case .foreign: "foreign"
        case .fingerprint: "fingerprint"
        case .newerSchema: "newer_schema"
        case .orphan: "orphan"
        }
    }

    public var detail: String {
        switch self {
        case let .corrupt(d), let .foreign(d), let .fingerprint(d), let .newerSchema(d), let .orphan(d): d
        }
    }

    /// `"<token>: <detail>"`, e.g. `"fingerprint: model_sha256 differs"`.
    public var description: String { "\(token): " + detail.split(whereSeparator: \.isNewline).joined(separator: " ") }
}

/// Renames an unusable database and its companions out of the way. Never deletes anything.
enum MoveAside {
    /// SQLite's companion files. They are renamed *with* the database, keeping SQLite's naming
    /// (`<name>-wal`), so `sqlite3 ttad.sqlite.corrupt.<ts>` sees exactly what the daemon saw.
    static let companionSuffixes = ["-wal", "-shm", "-journal"]

    /// Moves `dbPath` (if present) and its companions to `<dbPath>.<token>.<timestamp>[.<n>]`.
    /// Companions go first: if the process dies half-way, a database must never be left next to
    /// a log that belongs to the moved one (SQLite would replay it into the fresh database).
    /// Returns the new database path.
    static func move(_ dbPath: String, reason: MoveAsideReason, now: Date = Date()) throws -> String {
        let fm = FileManager.default
        let base = "\(dbPath).\(reason.token).\(utcStamp(now))"
        var target = base
        var n = 1
        while ([""] + companionSuffixes).contains(where: { fm.fileExists(atPath: target + $0) }) {
            target = "\(base).\(n)"
            n += 1
        }
        for suffix in companionSuffixes + [""] where exists(dbPath + suffix) {
            guard rename(dbPath + suffix, target + suffix) == 0 else {
                throw StateStoreError.moveAsideFailed(
                    path: dbPath + suffix, reason: "rename to \(target + suffix): \(StateDirectory.errnoString())")
            }
        }
        syncDirectory((dbPath as NSString).deletingLastPathComponent)
        return target
    }

    /// `lstat`-based existence (also true for dangling symlinks, which must move too).
    static func exists(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0
    }

    /// Makes the renames durable before we create a new file under the old name.
    static func syncDirectory(_ dir: String) {
        let fd = open(dir, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }

    /// `20250131T235959Z`: sortable, no characters that need quoting in a shell.
    static func utcStamp(_ date: Date) -> String {
        var t = time_t(date.timeIntervalSince1970.rounded(.down))
        var tm = tm()
        gmtime_r(&t, &tm)
        func pad(_ v: Int32, _ w: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, w - s.count)) + s
        }
        return pad(tm.tm_year + 1900, 4) + pad(tm.tm_mon + 1, 2) + pad(tm.tm_mday, 2) + "T"
            + pad(tm.tm_hour, 2) + pad(tm.tm_min, 2) + pad(tm.tm_sec, 2) + "Z"
    }
}
