import CZMQ

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Readiness flags for polling (`ZMQ_POLLIN`, `ZMQ_POLLOUT`, `ZMQ_POLLERR`).
public struct ZMQPollEvents: OptionSet, Sendable, Hashable {
    public let rawValue: Int16
    public init(rawValue: Int16) { self.rawValue = rawValue }

    /// A message can be received (socket) / the descriptor is readable (fd).
    public static let readable = ZMQPollEvents(rawValue: Int16(ZMQ_POLLIN))
    /// A message can be sent without blocking / the descriptor is writable.
    public static let writable = ZMQPollEvents(rawValue: Int16(ZMQ_POLLOUT))
    /// An error condition on a plain file descriptor (never set for ZeroMQ sockets).
    public static let error = ZMQPollEvents(rawValue: Int16(ZMQ_POLLERR))
}

/// One entry of a `ZMQPoller`: what to watch, for which events, and what the last poll found.
public struct ZMQPollItem {
    /// What is polled: a ZeroMQ socket or a plain file descriptor (e.g. an eventfd/pipe used to
    /// wake the I/O thread).
    public enum Target {
        case socket(ZMQSocket)
        case fileDescriptor(Int32)
    }

    public var target: Target
    /// The events of interest.
    public var events: ZMQPollEvents
    /// The events found ready by the most recent `poll` (empty before the first poll).
    public internal(set) var returnedEvents: ZMQPollEvents = []

    public init(target: Target, events: ZMQPollEvents) {
        self.target = target
        self.events = events
    }
}

/// A reusable `zmq_poll` set.
///
/// Single-threaded like the sockets it polls: use it only on the thread that owns those sockets
/// (`@unchecked Sendable` only so it can be built elsewhere and handed over once). Sockets are
/// retained while registered; polling a socket that was closed meanwhile throws `ENOTSOCK`
/// rather than touching a dangling handle.
///
/// Timeouts are in **milliseconds** (`zmq_poll` in libzmq ≥ 3). `EINTR` makes `poll` return 0
/// (callers loop anyway); `ETERM` is thrown.
public final class ZMQPoller: @unchecked Sendable {
    public private(set) var items: [ZMQPollItem] = []
    /// Scratch array rebuilt in place for each poll, so polling does not allocate.
    private var raw: [zmq_pollitem_t] = []

    public init() {}

    /// Registers a socket; returns its index for `isReadable`/`isWritable`.
    @discardableResult
    public func add(_ socket: ZMQSocket, events: ZMQPollEvents) -> Int {
        append(ZMQPollItem(target: .socket(socket), events: events))
    }

    /// Registers a plain file descriptor; returns its index.
    @discardableResult
    public func add(fileDescriptor: Int32, events: ZMQPollEvents) -> Int {
        append(ZMQPollItem(target: .fileDescriptor(fileDescriptor), events: events))
    }

    /// Changes the events of interest of item `index` (e.g. enable `.writable` only while there
    /// is something queued to send).
    public func setEvents(_ events: ZMQPollEvents, at index: Int) {
        items[index].events = events
        items[index].returnedEvents = []
    }

    /// Unregisters everything (indices start again at 0).
    public func removeAll() {
        items.removeAll()
        raw.removeAll()
    }

    /// The number of registered items.
    public var count: Int { items.count }

    /// Waits until at least one item is ready or `timeoutMilliseconds` pass (-1 = forever,
    /// 0 = just check).
    /// - Returns: the number of ready items (0 on timeout or `EINTR`).
    /// - Throws: `ZMQError` — `ETERM` once the context is shut down, `ENOTSOCK` if a registered
    ///   socket was closed.
    @discardableResult
    public func poll(timeoutMilliseconds: Int) throws -> Int {
        for index in items.indices {
            items[index].returnedEvents = []
            switch items[index].target {
            case .socket(let socket):
                raw[index].socket = try socket.openHandle("zmq_poll")
                raw[index].fd = 0
            case .fileDescriptor(let fd):
                raw[index].socket = nil
                raw[index].fd = zmq_fd_t(fd)
            }
            raw[index].events = items[index].events.rawValue
            raw[index].revents = 0
        }
        let rc = raw.withUnsafeMutableBufferPointer { buffer in
            zmq_poll(buffer.baseAddress, Int32(buffer.count), timeoutMilliseconds)
        }
        if rc < 0 {
            let code = zmq_errno()
            if code == EINTR { return 0 }
            throw ZMQError(code: code, operation: "zmq_poll")
        }
        for index in items.indices {
            items[index].returnedEvents = ZMQPollEvents(rawValue: raw[index].revents)
        }
        return Int(rc)
    }

    /// Whether item `index` was found readable by the last `poll`.
    public func isReadable(_ index: Int) -> Bool { items[index].returnedEvents.contains(.readable) }
    /// Whether item `index` was found writable by the last `poll`.
    public func isWritable(_ index: Int) -> Bool { items[index].returnedEvents.contains(.writable) }
    /// Whether item `index` (a file descriptor) reported an error condition.
    public func hasError(_ index: Int) -> Bool { items[index].returnedEvents.contains(.error) }

    private func append(_ item: ZMQPollItem) -> Int {
        items.append(item)
        raw.append(zmq_pollitem_t(socket: nil, fd: 0, events: 0, revents: 0))
        return items.count - 1
    }
}
