#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Small POSIX file helpers for key files: they report `errno` text (Foundation's convenience
/// readers do not) and write atomically with an explicit mode.
enum FileIO {
    struct Failure: Error {
        let reason: String
    }

    static func errnoText(_ code: Int32 = errno) -> String {
        String(cString: strerror(code))
    }

    /// Reads a whole (small) file; refuses files larger than `limit` bytes.
    static func readFile(path: String, limit: Int = 1 << 20) throws(Failure) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Failure(reason: "cannot open: \(errnoText())") }
        defer { _ = close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw Failure(reason: "cannot read: \(errnoText())")
            }
            if n == 0 { return bytes }
            bytes.append(contentsOf: chunk[0..<n])
            if bytes.count > limit { throw Failure(reason: "file larger than \(limit) bytes") }
        }
    }

    /// A hidden sibling of `path` (".name.tmp-<pid>"), so a half-written file left by a crash is
    /// skipped by directory scans such as `ZAPAuthenticator.loadAllowList`.
    static func temporaryPath(for path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return ".\(path).tmp-\(getpid())" }
        let directory = path[...slash]
        let name = path[path.index(after: slash)...]
        return "\(directory).\(name).tmp-\(getpid())"
    }

    /// Writes `bytes` to `path` atomically (temporary file in the same directory, fsync,
    /// rename) with permission bits `mode` applied explicitly (not subject to umask).
    static func writeAtomically(path: String, bytes: [UInt8], mode: mode_t) throws(Failure) {
        let temporary = temporaryPath(for: path)
        _ = unlink(temporary)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw Failure(reason: "cannot create \(temporary): \(errnoText())") }
        var ok = false
        defer {
            if !ok { _ = unlink(temporary) }
        }
        guard fchmod(fd, mode) == 0 else {
            let reason = errnoText()
            _ = close(fd)
            throw Failure(reason: "cannot chmod \(temporary): \(reason)")
        }
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { buffer in
                write(fd, buffer.baseAddress! + offset, buffer.count - offset)
            }
            if n < 0 {
                if errno == EINTR { continue }
                let reason = errnoText()
                _ = close(fd)
                throw Failure(reason: "cannot write \(temporary): \(reason)")
            }
            offset += n
        }
        if fsync(fd) != 0 {
            let reason = errnoText()
            _ = close(fd)
            throw Failure(reason: "cannot fsync \(temporary): \(reason)")
        }
        guard close(fd) == 0 else { throw Failure(reason: "cannot close \(temporary): \(errnoText())") }
        guard rename(temporary, path) == 0 else {
            throw Failure(reason: "cannot rename \(temporary) to \(path): \(errnoText())")
        }
        ok = true
    }
}
