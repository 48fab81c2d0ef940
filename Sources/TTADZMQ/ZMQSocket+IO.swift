import CZMQ

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Sending and receiving multipart messages.
///
/// EAGAIN policy: "nothing to do right now" (non-blocking call, `ZMQ_RCVTIMEO`/`ZMQ_SNDTIMEO`
/// expired, queue at its high-water mark) is a normal outcome, reported as `nil` / `false`.
/// `EINTR` is retried. Everything else — notably `ETERM` after `ZMQContext.shutdown()` — is
/// thrown as `ZMQError`.
extension ZMQSocket {
    // MARK: Send

    /// Sends `frames` as one atomic multipart message (`zmq_send` with `ZMQ_SNDMORE` on all but
    /// the last part; each part's bytes are copied into libzmq).
    ///
    /// A blocking send (`dontWait: false`) with no `ZMQ_SNDTIMEO` can wait indefinitely (e.g. PUSH
    /// with no peer); it is woken by `ZMQContext.shutdown()` with `ETERM`.
    ///
    /// - Parameter dontWait: `ZMQ_DONTWAIT` for the first part.
    /// - Returns: `true` if the message was queued; `false` on `EAGAIN`, in which case nothing
    ///   was sent. (Only the first part can meet the high-water mark; if libzmq nevertheless
    ///   refuses a later part it rolls back the earlier ones, so `false` still means "not sent".)
    /// - Throws: `ZMQError` (e.g. `ETERM`, `ENOTSUP` for a SUB socket, `EHOSTUNREACH`).
    ///   An empty `frames` array throws `EINVAL`: ZeroMQ has no zero-part messages.
    public func send(_ frames: [[UInt8]], dontWait: Bool = false) throws -> Bool {
        let socket = try openHandle("zmq_send")
        guard !frames.isEmpty else { throw ZMQError(code: EINVAL, operation: "zmq_send (no frames)") }
        for (index, frame) in frames.enumerated() {
            let more = index < frames.count - 1
            let sent = try frame.withUnsafeBytes { buffer in
                try sendPart(socket, buffer, more: more, dontWait: dontWait && index == 0)
            }
            if !sent { return false }
        }
        return true
    }

    /// Zero-allocation variant of `send(_:dontWait:)` for callers that already hold the parts as
    /// raw buffers (e.g. slices of one serialisation buffer). Same semantics and return value;
    /// the buffers only need to stay valid for the duration of the call.
    public func send<Parts: Collection>(parts: Parts, dontWait: Bool = false) throws -> Bool
    where Parts.Element == UnsafeRawBufferPointer {
        let socket = try openHandle("zmq_send")
        guard !parts.isEmpty else { throw ZMQError(code: EINVAL, operation: "zmq_send (no frames)") }
        var remaining = parts.count
        var first = true
        for part in parts {
            remaining -= 1
            if try !sendPart(socket, part, more: remaining > 0, dontWait: dontWait && first) {
                return false
            }
            first = false
        }
        return true
    }

    /// Sends one part, retrying on EINTR. Returns false on EAGAIN.
    private func sendPart(_ socket: UnsafeMutableRawPointer, _ buffer: UnsafeRawBufferPointer,
                          more: Bool, dontWait: Bool) throws -> Bool {
        var flags: Int32 = 0
        if more { flags |= ZMQ_SNDMORE }
        if dontWait { flags |= ZMQ_DONTWAIT }
        // zmq_send copies the bytes into a fresh zmq_msg_t it owns (and closes on failure), so
        // no message lifetime is managed here. An empty Array may have a nil base address;
        // give libzmq a valid pointer anyway.
        var placeholder: UInt8 = 0
        while true {
            let rc: Int32
            if let base = buffer.baseAddress {
                rc = zmq_send(socket, base, buffer.count, flags)
            } else {
                rc = zmq_send(socket, &placeholder, 0, flags)
            }
            if rc >= 0 { return true }
            let code = zmq_errno()
            if code == EINTR { continue }
            if code == EAGAIN { return false }
            throw ZMQError(code: code, operation: "zmq_send")
        }
    }

    // MARK: Receive

    /// Receives one whole multipart message, copying each part out of libzmq.
    ///
    /// - Parameters:
    ///   - dontWait: `ZMQ_DONTWAIT`: return `nil` at once if no message is queued.
    ///   - maxParts: the most parts the caller accepts. Oversized messages are *drained in full*
    ///     (parts beyond the limit are discarded without copying) and then reported by throwing
    ///     `ZMQTooManyPartsError`, so the socket stays in sync and the next call reads the next
    ///     message. For REP sockets the caller must still send a reply afterwards. Must be ≥ 1
    ///     (programmer error otherwise).
    /// - Returns: the parts (at least one), or `nil` on `EAGAIN` (nothing queued with
    ///   `dontWait`, or `ZMQ_RCVTIMEO` expired).
    /// - Throws: `ZMQError` (e.g. `ETERM`), `ZMQTooManyPartsError`.
    public func receiveMultipart(dontWait: Bool = false, maxParts: Int = 16) throws -> [[UInt8]]? {
        let socket = try openHandle("zmq_msg_recv")
        precondition(maxParts >= 1, "maxParts must be at least 1")
        guard try receivePart(socket, dontWait: dontWait) else { return nil }
        var parts: [[UInt8]] = [copyReceivedPart()]
        var partCount = 1
        while zmq_msg_more(receiveMessage) != 0 {
            // ZeroMQ delivers multipart messages atomically: once the first part has arrived the
            // rest are already queued, so these receives do not wait.
            guard try receivePart(socket, dontWait: false) else {
                throw ZMQError(code: EAGAIN, operation: "zmq_msg_recv (missing part \(partCount + 1))")
            }
            partCount += 1
            if partCount <= maxParts { parts.append(copyReceivedPart()) }
        }
        if partCount > maxParts {
            throw ZMQTooManyPartsError(partCount: partCount, maxParts: maxParts, firstParts: parts)
        }
        return parts
    }

    /// A metadata property of the most recently received message (`zmq_msg_gets`), such as
    /// `"User-Id"` (set by the ZAP handler; the client's Z85 key with `ZAPAuthenticator`),
    /// `"Peer-Address"` or `"Socket-Type"` (ZMTP handshake metadata: TCP/IPC only, not inproc).
    /// Read it right after a successful receive: *any* later receive call, including one that
    /// returns `nil`, clears the message. `nil` if absent.
    public func lastReceivedProperty(_ name: String) -> String? {
        guard handle != nil, let value = zmq_msg_gets(receiveMessage, name) else { return nil }
        return String(cString: value)
    }

    /// Receives one part into the reusable message, retrying on EINTR. False on EAGAIN.
    private func receivePart(_ socket: UnsafeMutableRawPointer, dontWait: Bool) throws -> Bool {
        // zmq_msg_recv releases whatever the message held before, so the message is initialised
        // once (in init) and never re-initialised here.
        while true {
            if zmq_msg_recv(receiveMessage, socket, dontWait ? ZMQ_DONTWAIT : 0) >= 0 { return true }
            let code = zmq_errno()
            if code == EINTR { continue }
            if code == EAGAIN { return false }
            throw ZMQError(code: code, operation: "zmq_msg_recv")
        }
    }

    private func copyReceivedPart() -> [UInt8] {
        let size = zmq_msg_size(receiveMessage)
        guard size > 0, let data = zmq_msg_data(receiveMessage) else { return [] }
        return Array(UnsafeRawBufferPointer(start: data, count: size))
    }
}
