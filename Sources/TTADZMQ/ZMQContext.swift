import CZMQ
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A libzmq context (`zmq_ctx_new`): owns the I/O threads and the inproc namespace.
///
/// Thread safety: a context, unlike a socket, may be used from any thread. `shutdown()` is the
/// intended way to stop a daemon: call it from any thread (e.g. a signal handler task); every
/// blocking call on every socket of this context then fails with `ETERM`, each owning thread
/// closes its sockets, and finally someone calls `terminate()`.
///
/// Never-hang policy: the context is created with `ZMQ_BLOCKY = 0` (unless `blocky: true`), so
/// new sockets default to `ZMQ_LINGER = 0` and `terminate()` does not wait for unsent messages.
/// `terminate()` still waits for every socket to be *closed*; sockets keep their context alive
/// (a strong reference), so dropping the last socket and context reference terminates cleanly.
public final class ZMQContext: @unchecked Sendable {
    private enum State { case open, shutDown, terminating, terminated }

    /// The raw `void *` context. Valid until `terminate()` completes; only dereferenced by
    /// libzmq under `state` checks (see `withOpenHandle`).
    private let handle: UnsafeMutableRawPointer
    private let state = Mutex<State>(.open)

    /// Creates a context.
    /// - Parameters:
    ///   - ioThreads: libzmq I/O threads (`ZMQ_IO_THREADS`); 1 is plenty below ~1 Gbit/s.
    ///   - blocky: `ZMQ_BLOCKY`. Default `false`: sockets get linger 0 unless set explicitly, so
    ///     shutdown never waits for undelivered messages.
    public init(ioThreads: Int32 = 1, blocky: Bool = false) throws {
        guard let ctx = zmq_ctx_new() else { throw ZMQError.last("zmq_ctx_new") }
        if zmq_ctx_set(ctx, ZMQ_IO_THREADS, ioThreads) != 0 {
            let error = ZMQError.last("zmq_ctx_set(ZMQ_IO_THREADS=\(ioThreads))")
            _ = zmq_ctx_term(ctx)
            throw error
        }
        if zmq_ctx_set(ctx, ZMQ_BLOCKY, blocky ? 1 : 0) != 0 {
            let error = ZMQError.last("zmq_ctx_set(ZMQ_BLOCKY)")
            _ = zmq_ctx_term(ctx)
            throw error
        }
        handle = ctx
    }

    deinit {
        // Sockets hold strong references to their context, so no socket is open here and
        // zmq_ctx_term cannot block on one.
        terminate()
    }

    /// `zmq_ctx_shutdown`: makes every blocking and future call on this context's sockets fail
    /// with `ETERM` (except `close`). Safe from any thread, idempotent, never blocks; a no-op
    /// once `terminate()` has started.
    public func shutdown() {
        state.withLock { state in
            guard state == .open else { return }
            // Cannot fail for a valid context; the handle is valid while state is open.
            _ = zmq_ctx_shutdown(handle)
            state = .shutDown
        }
    }

    /// `zmq_ctx_term`, retried on `EINTR`. Blocks until all sockets of this context are closed,
    /// so close them first (see the type's documentation). Idempotent: later or concurrent calls
    /// return immediately. After this, creating sockets throws `ETERM`.
    public func terminate() {
        let mustTerminate = state.withLock { state -> Bool in
            guard state == .open || state == .shutDown else { return false }
            state = .terminating
            return true
        }
        guard mustTerminate else { return }
        while zmq_ctx_term(handle) != 0 {
            // Only EINTR is possible for a valid context (EFAULT would mean a bad handle).
            if zmq_errno() != EINTR { break }
        }
        state.withLock { $0 = .terminated }
    }

    /// Whether `shutdown()` or `terminate()` has been called.
    public var isShutDown: Bool { state.withLock { $0 != .open } }

    /// Runs `body` with the raw context while it is still usable for creating sockets; throws
    /// `ETERM` once the context is terminating. The lock is held so `terminate()` cannot free
    /// the context meanwhile (`body` must not block).
    func withOpenHandle<R>(_ operation: String,
                           _ body: (UnsafeMutableRawPointer) throws -> R) throws -> R {
        try state.withLock { state in
            guard state == .open || state == .shutDown else {
                throw ZMQError(code: ZMQError.ETERMCode, operation: operation)
            }
            return try body(handle)
        }
    }

    /// The libzmq library version actually loaded at run time (`zmq_version`).
    public static var version: (major: Int32, minor: Int32, patch: Int32) {
        var major: Int32 = 0, minor: Int32 = 0, patch: Int32 = 0
        zmq_version(&major, &minor, &patch)
        return (major, minor, patch)
    }

    /// `zmq_has`: whether libzmq was built with a capability, e.g. `"curve"`, `"ipc"`.
    public static func has(_ capability: String) -> Bool {
        zmq_has(capability) == 1
    }
}
