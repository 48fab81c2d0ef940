#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A read-only, private memory mapping of a whole file, unmapped when the object dies.
///
/// Weight files are mapped rather than read so that opening a multi-hundred-MB checkpoint costs
/// nothing until tensors are actually touched, and tensors that are never used (e.g. a text tower
/// we don't run) are never paged in. Readers copy/convert out of the mapping into `Tensor`s, so
/// nothing outlives this object by accident.
///
/// Caveat: if another process truncates the file while it is mapped, touching the lost pages
/// raises SIGBUS. Weight files are replaced by rename, never rewritten in place, so that is not
/// a concern in the daemon.
public final class MappedFile: @unchecked Sendable {
    // @unchecked: the mapping is PROT_READ and immutable for the object's lifetime, so sharing
    // the pointer across threads is safe.

    public let path: String
    /// The file's bytes (count 0 and a nil base for an empty file: mmap rejects length 0).
    public let bytes: UnsafeRawBufferPointer

    public struct OpenError: Error, CustomStringConvertible, Sendable {
        public let path: String
        public let operation: String
        public let code: Int32
        public var description: String {
            "\(path): \(operation) failed: \(String(cString: strerror(code)))"
        }
    }

    public init(path: String) throws(OpenError) {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw OpenError(path: path, operation: "open", code: errno) }
        defer { close(fd) }  // the mapping keeps its own reference to the file
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw OpenError(path: path, operation: "stat", code: errno) }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            throw OpenError(path: path, operation: "open (not a regular file)", code: EINVAL)
        }
        let size = Int(st.st_size)
        if size == 0 {
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let p, p != MAP_FAILED else { throw OpenError(path: path, operation: "mmap", code: errno) }
        bytes = UnsafeRawBufferPointer(start: p, count: size)
    }

    deinit {
        if let base = bytes.baseAddress {
            munmap(UnsafeMutableRawPointer(mutating: base), bytes.count)
        }
    }

    public var count: Int { bytes.count }
}
