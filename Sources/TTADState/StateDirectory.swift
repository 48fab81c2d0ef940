import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Preparing the state directory: creating it, proving it is writable, and locking it.
///
/// Checking writability up front (by creating and removing a probe file) turns the confusing
/// SQLite errors one gets otherwise ("unable to open database file", or a read-only database that
/// only fails at the first checkpoint minutes later) into one clear error naming the directory.
enum StateDirectory {
    /// Creates `path` (and parents) if missing, then verifies a file can be created in it.
    static func prepare(_ path: String) throws {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir) {
            guard isDir.boolValue else {
                throw StateStoreError.directoryNotWritable(path: path, reason: "exists but is not a directory")
            }
        } else {
            do {
                try FileManager.default.createDirectory(
                    atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o750])
            } catch {
                throw StateStoreError.directoryNotWritable(
                    path: path, reason: "cannot create directory: \(describe(error))")
            }
        }
        let probe = path + "/.ttad-write-probe.\(getpid())"
        let fd = posixOpen(probe, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw StateStoreError.directoryNotWritable(path: path, reason: "cannot create files: \(errnoString())")
        }
        close(fd)
        unlink(probe)
    }

    static func describe(_ error: Error) -> String {
        let ns = error as NSError
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code))) + " (errno \(underlying.code))"
        }
        return ns.localizedDescription
    }

    static func errnoString() -> String {
        let e = errno
        return String(cString: strerror(e)) + " (errno \(e))"
    }
}

/// `open(2)` with an explicit mode, spelled once so every platform overlay resolves the same overload.
@inline(__always)
func posixOpen(_ path: String, _ flags: Int32, _ mode: mode_t) -> Int32 {
    open(path, flags, mode)
}

/// An exclusive, advisory `flock(2)` on `<dir>/ttad.lock`, held for the lifetime of a store.
///
/// SQLite's own locking keeps a single database consistent, but it cannot stop two daemons from
/// *both* believing they own the state: each would checkpoint its own view, and one might even
/// move the other's live database aside as "corrupt" while it is mid-write. `flock` is released by
/// the kernel when the process dies, so a killed daemon never leaves a stale lock behind. The file
/// holds the owner's pid for diagnosis only.
public final class DirectoryLock: Sendable {
    let path: String
    private let fd: Mutex<Int32>

    /// Acquires the lock without waiting; throws ``StateStoreError/lockedByAnotherProcess(path:holder:)``
    /// if it is held (by another process, or by another open store in this process).
    init(directory: String) throws {
        path = directory + "/ttad.lock"
        let descriptor = posixOpen(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw StateStoreError.directoryNotWritable(
                path: directory, reason: "cannot create lock file: \(StateDirectory.errnoString())")
        }
        if flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            let err = errno
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            close(descriptor)
            if err == EWOULDBLOCK {
                throw StateStoreError.lockedByAnotherProcess(
                    path: path, holder: holder.isEmpty ? "unknown holder" : "pid \(holder)")
            }
            throw StateStoreError.directoryNotWritable(
                path: directory, reason: "cannot lock \(path): \(String(cString: strerror(err)))")
        }
        let pid = "\(getpid())\n"
        _ = ftruncate(descriptor, 0)
        _ = pid.withCString { pwrite(descriptor, $0, strlen($0), 0) }
        fd = Mutex(descriptor)
    }

    /// Throws ``StateStoreError/lockedByAnotherProcess(path:holder:)`` if another process holds
    /// the lock of `directory` now, taking nothing (a missing directory or lock file means no one
    /// does). A daemon asks this before it opens any listener, so a second daemon on the same
    /// state fails on the lock, not on a port the first one holds; the store's own lock, taken
    /// later, is still what guarantees a single owner.
    public static func checkNotHeld(directory: String) throws {
        let path = directory + "/ttad.lock"
        let descriptor = posixOpen(path, O_RDONLY | O_CLOEXEC, 0)
        guard descriptor >= 0 else { return }
        defer { close(descriptor) }
        guard flock(descriptor, LOCK_EX | LOCK_NB) != 0 else { return }   // closing releases it
        guard errno == EWOULDBLOCK else { return }
        let holder = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        throw StateStoreError.lockedByAnotherProcess(path: path, holder: holder.isEmpty ? "unknown holder" : "pid \(holder)")
    }

    /// Releases the lock. Idempotent.
    func release() {
        fd.withLock { d in
            guard d >= 0 else { return }
            close(d) // closing the descriptor drops the flock
            d = -1
        }
    }

    deinit { release() }
}
