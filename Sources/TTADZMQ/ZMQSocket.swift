import CZMQ

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A libzmq socket.
///
/// **Ownership and threads.** libzmq sockets are not thread-safe. A `ZMQSocket` must be used
/// (every method, including `close()`) only by the one thread that owns it. It is marked
/// `@unchecked Sendable` solely so that it can be created on one thread and *handed over once*
/// to its owning thread (e.g. the daemon's I/O thread); after the hand-over the creating thread
/// must not touch it again. The only cross-thread way to interrupt a socket is
/// `ZMQContext.shutdown()`.
///
/// **Lifetime.** The socket keeps its context alive. `close()` is idempotent and honours the
/// socket's linger (0 by default, see `ZMQContext`); `deinit` closes a socket that was not
/// closed explicitly, forcing linger 0 first so that dropping a socket never delays shutdown.
/// Operations on a closed socket throw `ZMQError` with `ENOTSOCK`.
///
/// **Receive buffer.** Each socket owns exactly one heap-allocated `zmq_msg_t`, initialised once
/// and reused for every received part. A `zmq_msg_t` must never be copied by value (small
/// messages live inside the struct), so it is only ever accessed through that pointer and its
/// bytes are copied out before the next receive.
public final class ZMQSocket: @unchecked Sendable {
    /// The context this socket belongs to (kept alive by this reference).
    public let context: ZMQContext
    /// The socket pattern.
    public let type: ZMQSocketType

    /// Raw `void *` socket; `nil` after `close()`.
    private(set) var handle: UnsafeMutableRawPointer?
    /// The reusable receive message (see the type's documentation).
    let receiveMessage: UnsafeMutablePointer<zmq_msg_t>

    /// Creates a socket; throws `ETERM` if the context is terminating or shut down.
    public init(context: ZMQContext, type: ZMQSocketType) throws {
        let socket = try context.withOpenHandle("zmq_socket(\(type))") { ctx -> UnsafeMutableRawPointer? in
            zmq_socket(ctx, type.rawValue)
        }
        guard let socket else { throw ZMQError.last("zmq_socket(\(type))") }
        let message = UnsafeMutablePointer<zmq_msg_t>.allocate(capacity: 1)
        _ = zmq_msg_init(message)  // cannot fail
        self.context = context
        self.type = type
        self.handle = socket
        self.receiveMessage = message
    }

    deinit {
        if let handle {
            var zero: Int32 = 0
            _ = zmq_setsockopt(handle, ZMQ_LINGER, &zero, MemoryLayout<Int32>.size)
            _ = zmq_close(handle)
        }
        _ = zmq_msg_close(receiveMessage)
        receiveMessage.deallocate()
    }

    /// Closes the socket (`zmq_close`). Idempotent. Pending outgoing messages are kept for the
    /// socket's linger period (0 unless set) by libzmq's background threads.
    public func close() {
        guard let handle else { return }
        _ = zmq_close(handle)
        self.handle = nil
        // Release any buffer still referenced by the last received part.
        _ = zmq_msg_close(receiveMessage)
        _ = zmq_msg_init(receiveMessage)
    }

    /// Whether `close()` has been called.
    public var isClosed: Bool { handle == nil }

    /// The open handle, or `ENOTSOCK` naming `operation` when the socket is closed.
    func openHandle(_ operation: @autoclosure () -> String) throws -> UnsafeMutableRawPointer {
        guard let handle else { throw ZMQError(code: ENOTSOCK, operation: operation() + " on closed socket") }
        return handle
    }

    // MARK: Endpoints

    /// `zmq_bind`. For TCP use `tcp://127.0.0.1:*` to get an ephemeral port, then read
    /// `lastEndpoint`.
    public func bind(_ endpoint: String) throws {
        let socket = try openHandle("zmq_bind(\(endpoint))")
        guard zmq_bind(socket, endpoint) == 0 else { throw ZMQError.last("zmq_bind(\(endpoint))") }
    }

    /// `zmq_connect`. Connecting is asynchronous: success only means the endpoint is valid.
    public func connect(_ endpoint: String) throws {
        let socket = try openHandle("zmq_connect(\(endpoint))")
        guard zmq_connect(socket, endpoint) == 0 else { throw ZMQError.last("zmq_connect(\(endpoint))") }
    }

    /// `zmq_unbind`. A wildcard bind must be unbound by its resolved `lastEndpoint`.
    public func unbind(_ endpoint: String) throws {
        let socket = try openHandle("zmq_unbind(\(endpoint))")
        guard zmq_unbind(socket, endpoint) == 0 else { throw ZMQError.last("zmq_unbind(\(endpoint))") }
    }

    /// `zmq_disconnect`.
    public func disconnect(_ endpoint: String) throws {
        let socket = try openHandle("zmq_disconnect(\(endpoint))")
        guard zmq_disconnect(socket, endpoint) == 0 else {
            throw ZMQError.last("zmq_disconnect(\(endpoint))")
        }
    }

    /// `ZMQ_LAST_ENDPOINT`: the resolved address of the last bind/connect (e.g. the actual port
    /// after binding `tcp://127.0.0.1:*`); empty if none.
    public var lastEndpoint: String {
        get throws { try stringOption(ZMQ_LAST_ENDPOINT, name: "ZMQ_LAST_ENDPOINT", capacity: 1024) }
    }

    /// `ZMQ_FD`: a file descriptor that becomes readable when `events` may have changed.
    /// Edge-triggered: after it fires, read `events` and handle them until `EAGAIN`.
    public var fileDescriptor: Int32 {
        get throws {
            var fd = zmq_fd_t()
            var size = MemoryLayout<zmq_fd_t>.size
            let socket = try openHandle("zmq_getsockopt(ZMQ_FD)")
            guard zmq_getsockopt(socket, ZMQ_FD, &fd, &size) == 0 else {
                throw ZMQError.last("zmq_getsockopt(ZMQ_FD)")
            }
            return Int32(fd)
        }
    }

    /// `ZMQ_EVENTS`: whether a message can be received / sent right now without blocking.
    public var events: ZMQPollEvents {
        get throws { ZMQPollEvents(rawValue: Int16(truncatingIfNeeded: try int32Option(ZMQ_EVENTS, name: "ZMQ_EVENTS"))) }
    }
}
