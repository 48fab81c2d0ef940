import Foundation

/// Tunables of a ``StateStore``. The defaults suit the daemon; tests shrink the retention limits.
public struct StateStoreOptions: Sendable {
    /// Checkpoints kept after each write (the newest ones). Default 3: enough to fall back past a
    /// damaged newest checkpoint, small enough that the database does not grow with uptime.
    public var keepCheckpoints: Int = 3
    /// Prompt snapshot versions kept (the most recently written ones). Default 16. Versions still
    /// referenced by a kept checkpoint are never pruned, whatever this number.
    public var keepPromptVersions: Int = 16
    /// Upper bound on the number of rows in the event log. Default 100 000 (a few tens of MB at
    /// most). Older events are dropped first; see ``StateStore/appendEvent(_:)`` for how.
    public var maxEvents: Int = 100_000
    /// How long a connection waits on a lock held by another connection before failing with
    /// `SQLITE_BUSY`. Default 5 s.
    public var busyTimeout: TimeInterval = 5
    /// What to do when the stored fingerprint differs. Default ``FingerprintMismatchPolicy/moveAside``.
    public var onFingerprintMismatch: FingerprintMismatchPolicy = .moveAside
    /// Recorded in `meta.created_by` when a database is created, e.g. `"ttad 0.4.1"`.
    public var creatorVersion: String = "ttad"
    /// Take an exclusive `flock` on `<dir>/ttad.lock` for the lifetime of the store, so that a
    /// second daemon (or a stray manual run) pointed at the same directory fails fast instead of
    /// interleaving checkpoints or moving the live database aside. Default true.
    public var exclusiveLock: Bool = true
    /// Upper bound on the WAL file size after a checkpoint (`PRAGMA journal_size_limit`). Without
    /// it the WAL keeps its high-water size forever. Default 32 MiB.
    public var walSizeLimitBytes: Int = 32 << 20

    public init() {}
}

/// How ``StateStore/open(directory:fingerprint:logger:options:)`` found the state directory.
public enum StateOpenOutcome: Sendable, Equatable {
    /// No database existed (or it was an empty SQLite file); a fresh one was created.
    case created
    /// Our database was found, verified and migrated if needed. `lastCheckpoint` is the newest
    /// checkpoint, or nil if none was ever written.
    case restored(lastCheckpoint: CheckpointInfo?)
    /// An unusable database was found and renamed to `movedTo` (with its `-wal`/`-shm`/`-journal`
    /// companions renamed alongside); a fresh database was then created. `reason` starts with the
    /// same token used in the file name (`corrupt`, `foreign`, `fingerprint`, `newer_schema`,
    /// `orphan`) followed by `": "` and a human-readable detail.
    case movedAside(reason: String, movedTo: String)
}
