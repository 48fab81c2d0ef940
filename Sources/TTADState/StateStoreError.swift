/// Errors thrown by ``StateStore``. Each case names the path involved so a log line alone tells an
/// operator what to fix.
public enum StateStoreError: Error, CustomStringConvertible, Sendable {
    /// The state directory cannot be created or written (permissions, read-only file system, a
    /// regular file in the way).
    case directoryNotWritable(path: String, reason: String)
    /// Another process (or another `StateStore` in this process) holds `<dir>/ttad.lock`.
    case lockedByAnotherProcess(path: String, holder: String)
    /// The database stayed locked longer than the busy timeout while being inspected; it was left
    /// untouched.
    case databaseBusy(path: String)
    /// The database could not be opened or created for a reason that is not the file's fault
    /// (e.g. I/O error, disk full). The file was left untouched.
    case cannotOpen(path: String, reason: String)
    /// Renaming an unusable database aside failed; nothing was deleted.
    case moveAsideFailed(path: String, reason: String)
    /// The store was closed.
    case closed(path: String)
    /// A checkpoint or prompt snapshot given to ``StateStore/writeCheckpoint(_:reason:)`` is
    /// malformed (e.g. shape does not match element count).
    case invalidCheckpoint(String)
    /// Every stored checkpoint failed its checksum verification.
    case allCheckpointsDamaged(path: String, count: Int)
    /// A stored blob failed checksum verification.
    case damagedBlob(path: String, what: String)

    public var description: String {
        switch self {
        case let .directoryNotWritable(path, reason):
            "state directory '\(path)' is not usable: \(reason)"
        case let .lockedByAnotherProcess(path, holder):
            "state lock '\(path)' is held by another process (\(holder)); is another ttad running on this state directory?"
        case let .databaseBusy(path):
            "state database '\(path)' stayed locked by another connection; left untouched"
        case let .cannotOpen(path, reason):
            "cannot open state database '\(path)': \(reason)"
        case let .moveAsideFailed(path, reason):
            "cannot move unusable state database '\(path)' aside: \(reason)"
        case let .closed(path):
            "state store '\(path)' is closed"
        case let .invalidCheckpoint(reason):
            "invalid checkpoint: \(reason)"
        case let .allCheckpointsDamaged(path, count):
            "all \(count) checkpoints in '\(path)' failed checksum verification"
        case let .damagedBlob(path, what):
            "checksum mismatch in '\(path)': \(what)"
        }
    }
}
