import CZMQ

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One event from a socket monitor (`zmq_socket_monitor`, version 1 format).
public struct ZMQMonitorEvent: Sendable, Equatable {
    /// A `ZMQ_EVENT_*` value.
    public let event: UInt16
    /// Its value: an errno, a `ZMQ_PROTOCOL_ERROR_*` code or a ZAP status code, depending on
    /// `event`.
    public let value: UInt32
    /// The monitored socket's endpoint the event concerns (its bound address for a server).
    public let endpoint: String

    public init(event: UInt16, value: UInt32, endpoint: String) {
        self.event = event
        self.value = value
        self.endpoint = endpoint
    }

    /// Why a security handshake failed, or nil for any other event.
    public var handshakeFailure: ZMQHandshakeFailure? {
        switch Int32(event) {
        case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL: return .noDetail
        case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH: return .authentication
        case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
            return value == UInt32(ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH) ? .mechanismMismatch : .protocolError
        default: return nil
        }
    }
}

/// The kinds of failed handshakes a server socket's monitor reports.
public enum ZMQHandshakeFailure: String, Sendable, CaseIterable {
    /// The peer speaks another security mechanism: a plain (NULL) client on a CURVE socket.
    case mechanismMismatch = "mechanism_mismatch"
    /// The ZAP handler refused the peer (for CURVE: a key not in the allow-list).
    case authentication
    /// Any other ZMTP or CURVE protocol error (a wrong server key shows up here).
    case protocolError = "protocol_error"
    /// A system error during the handshake (the connection dropped half-way).
    case noDetail = "no_detail"
}

/// Receives the events libzmq publishes about one socket's connections.
///
/// `zmq_socket_monitor` makes the monitored socket publish its events on an `inproc` PAIR
/// endpoint; this owns the PAIR socket that reads them. Like any socket it belongs to one thread:
/// poll `socket` for readability and call `receive()` there.
public final class ZMQSocketMonitor: @unchecked Sendable {
    /// The PAIR socket to poll for `.readable`.
    public let socket: ZMQSocket

    /// Starts monitoring `monitored` for `events` (a mask of `ZMQ_EVENT_*`), published on
    /// `endpoint` (`inproc://…`, unique in the context).
    public init(monitoring monitored: ZMQSocket, endpoint: String, events: Int32) throws {
        let handle = try monitored.openHandle("zmq_socket_monitor(\(endpoint))")
        guard zmq_socket_monitor(handle, endpoint, events) == 0 else {
            throw ZMQError.last("zmq_socket_monitor(\(endpoint))")
        }
        let socket = try ZMQSocket(context: monitored.context, type: .pair)
        do {
            try socket.setLinger(milliseconds: 0)
            try socket.connect(endpoint)
        } catch {
            socket.close()
            throw error
        }
        self.socket = socket
    }

    /// The next pending event without blocking, or nil. A malformed event (not the two frames of
    /// the version-1 format) is skipped.
    public func receive() throws -> ZMQMonitorEvent? {
        while let frames = try socket.receiveMultipart(dontWait: true, maxParts: 4) {
            guard frames.count == 2, frames[0].count == 6 else { continue }
            let f = frames[0]
            // Native byte order, as libzmq writes it from memory.
            let event = f.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 0, as: UInt16.self) }
            let value = f.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 2, as: UInt32.self) }
            return ZMQMonitorEvent(event: event, value: value, endpoint: String(decoding: frames[1], as: UTF8.self))
        }
        return nil
    }

    /// Closes the reading side (idempotent); the monitored socket stops publishing when it closes.
    public func close() {
        socket.close()
    }
}

extension ZMQSocketMonitor {
    /// The three handshake-failure events, the only ones a CURVE server needs to count.
    public static let handshakeFailureEvents: Int32 =
        ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH
}
