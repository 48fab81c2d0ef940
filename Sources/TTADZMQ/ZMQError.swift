import CZMQ

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A failed libzmq call: the `errno` it reported and the operation that failed.
///
/// Policy (why only some errors are thrown):
/// - `EAGAIN` from `send`/`receive` is *not* thrown: it is an expected outcome (non-blocking call
///   with nothing to do, a timeout, or a full queue) and is surfaced as `false` / `nil`.
/// - `EINTR` is retried inside blocking calls (send, receive, poll, context terminate), so callers
///   never see it from those; `ZMQPoller.poll` reports it as "0 items ready".
/// - `ETERM` (the context was shut down) is thrown, with `isTerminated == true`: it is the signal
///   for the owning thread to close its sockets and stop.
public struct ZMQError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The `errno` value reported by libzmq (may be a libzmq-specific value such as `ETERM`).
    public let code: Int32
    /// What failed, e.g. `"zmq_bind(tcp://127.0.0.1:5555)"` or `"zmq_setsockopt(ZMQ_SNDHWM)"`.
    public let operation: String

    public init(code: Int32, operation: String) {
        self.code = code
        self.operation = operation
    }

    /// Captures the current `errno` (call immediately after the failing libzmq function).
    static func last(_ operation: String) -> ZMQError {
        ZMQError(code: zmq_errno(), operation: operation)
    }

    /// The human-readable text from `zmq_strerror` (covers both POSIX and libzmq codes).
    public var message: String {
        guard let text = zmq_strerror(code) else { return "unknown error" }
        return String(cString: text)
    }

    /// `EAGAIN`: the call would block, or a send/receive timeout expired.
    public var isAgain: Bool { code == EAGAIN }
    /// `EINTR`: interrupted by a signal.
    public var isInterrupted: Bool { code == EINTR }
    /// `ETERM`: the socket's context was shut down or terminated; close the socket and stop.
    public var isTerminated: Bool { code == ZMQError.ETERMCode }
    /// `ENOTSOCK`: the socket was already closed (or the handle is invalid).
    public var isNotSocket: Bool { code == ENOTSOCK }

    public var description: String {
        "\(operation) failed: \(message) (errno \(code))"
    }

    /// libzmq's own `ETERM` (not a POSIX errno on Linux; defined by zmq.h).
    static let ETERMCode: Int32 = ETERM
}

/// A message arrived with more parts than the caller allows (`receiveMultipart(maxParts:)`).
///
/// The socket stays synchronised: *all* parts of the offending message were read and discarded
/// before this error was thrown, so the next receive starts at the next message. `firstParts`
/// holds copies of the first `maxParts` parts so the caller can still identify or answer the
/// sender (e.g. a ROUTER identity frame, or a REP request id that must be replied to).
public struct ZMQTooManyPartsError: Error, CustomStringConvertible, Sendable {
    /// How many parts the rejected message actually had.
    public let partCount: Int
    /// The limit that was exceeded.
    public let maxParts: Int
    /// Copies of the first `maxParts` parts; the rest were discarded without copying.
    public let firstParts: [[UInt8]]

    public var description: String {
        "received a message with \(partCount) parts (limit \(maxParts)); message discarded"
    }
}
