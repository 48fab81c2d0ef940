#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// What `ZAPAuthenticator.handleRequest()` decided about one handshake, for counting/logging.
public struct ZAPDecision: Sendable, Equatable {
    /// `"CURVE"`, `"PLAIN"`, `"NULL"`, … (empty if the request was malformed).
    public let mechanism: String
    /// The peer's network address as reported by libzmq (e.g. `"127.0.0.1"`).
    public let address: String
    /// The ZAP domain of the server socket (`ZMQSocket.setZAPDomain`).
    public let domain: String
    /// Whether the connection was accepted (status 200).
    public let allowed: Bool
    /// The client's CURVE public key (Z85), for CURVE requests.
    public let clientKeyZ85: String?
    /// The ZAP status code sent back: `"200"`, `"400"` or `"500"` (malformed request).
    public let statusCode: String
    /// The status text sent back (`"OK"`, `"client key not allowed"`, …).
    public let reason: String
}

/// A ZAP (ZeroMQ RFC 27) handler that admits CURVE clients whose public key is in an allow-list.
///
/// It is *not* a thread: it binds a REP socket at `inproc://zeromq.zap.01` and the thread that
/// owns it must poll `socket` for readability and call `handleRequest()`, typically in the same
/// poll loop as the CURVE server socket. Like any socket it is single-threaded (`@unchecked
/// Sendable` only for the one-time hand-over to that thread); counters and allow-list updates
/// belong to that thread too.
///
/// Ordering matters: create the authenticator *before* any CURVE server socket of the same
/// context accepts connections. With no ZAP handler bound, libzmq lets every CURVE client in.
/// Server sockets must also call `setZAPDomain(domain)`: requests for any other domain
/// (including the empty default) are refused, so a forgotten domain fails closed.
///
/// While a handshake waits for `handleRequest()`, the client's messages are held back by libzmq;
/// a slow pump only delays connections, it never lets one through unchecked.
public final class ZAPAuthenticator: @unchecked Sendable {
    /// The ZAP endpoint defined by RFC 27; libzmq connects to it from each security handshake.
    public static let endpoint = "inproc://zeromq.zap.01"

    /// The REP socket to poll for `.readable`.
    public let socket: ZMQSocket
    /// The only ZAP domain this handler serves.
    public let domain: String
    /// Raw 32-byte CURVE public keys that are admitted.
    public private(set) var allowedClientKeys: Set<[UInt8]>
    /// Handshakes accepted / refused so far (including malformed requests in `denied`).
    public private(set) var allowed: UInt64 = 0
    public private(set) var denied: UInt64 = 0

    /// Binds the ZAP endpoint. Throws `EINVAL` if a key is not 32 bytes, and `EADDRINUSE` if
    /// another handler is already bound in this context.
    public init(context: ZMQContext, allowedClientKeys: Set<[UInt8]>, domain: String = "ttad") throws {
        try Self.validate(allowedClientKeys)
        let socket = try ZMQSocket(context: context, type: .rep)
        do {
            try socket.bind(Self.endpoint)
        } catch {
            socket.close()
            throw error
        }
        self.socket = socket
        self.domain = domain
        self.allowedClientKeys = allowedClientKeys
    }

    /// Closes the ZAP socket (idempotent). Do this before `ZMQContext.terminate()`, together with
    /// the owning thread's other sockets.
    public func close() {
        socket.close()
    }

    /// Replaces the allow-list (e.g. after a reload). Affects later handshakes only; established
    /// connections stay up.
    public func setAllowedClientKeys(_ keys: Set<[UInt8]>) throws {
        try Self.validate(keys)
        allowedClientKeys = keys
    }

    /// Handles at most one pending ZAP request without blocking and replies to it.
    ///
    /// - Returns: the decision, or `nil` if no request was pending.
    /// - Throws: `ZMQError` from the socket (e.g. `ETERM` at shutdown).
    public func handleRequest() throws -> ZAPDecision? {
        let request: [[UInt8]]
        do {
            guard let parts = try socket.receiveMultipart(dontWait: true, maxParts: 16) else { return nil }
            request = parts
        } catch let error as ZMQTooManyPartsError {
            // Drained already; a REP socket must still answer before it can read again.
            return try reply(to: error.firstParts, decide(malformed: "too many frames"))
        }
        return try reply(to: request, decide(request))
    }

    private struct Verdict {
        var mechanism = "", address = "", domain = ""
        var clientKey: String?
        var code: String, text: String
        var allowed: Bool { code == "200" }
    }

    private func decide(malformed reason: String) -> Verdict {
        Verdict(code: "500", text: "malformed ZAP request: \(reason)")
    }

    private func decide(_ request: [[UInt8]]) -> Verdict {
        // version, request id, domain, address, routing id, mechanism, credentials...
        guard request.count >= 6 else { return decide(malformed: "\(request.count) frames") }
        guard request[0] == Array("1.0".utf8) else { return decide(malformed: "unsupported version") }
        var verdict = Verdict(code: "400", text: "")
        verdict.domain = String(decoding: request[2], as: UTF8.self)
        verdict.address = String(decoding: request[3], as: UTF8.self)
        verdict.mechanism = String(decoding: request[5], as: UTF8.self)
        guard verdict.mechanism == "CURVE" else {
            verdict.text = "mechanism \(verdict.mechanism) not allowed"
            return verdict
        }
        guard request.count == 7, request[6].count == ZMQCurve.keyByteCount else {
            return decide(malformed: "CURVE credentials are not one 32-byte key")
        }
        verdict.clientKey = ZMQCurve.z85Encode(request[6])
        guard verdict.domain == domain else {
            verdict.text = "domain \"\(verdict.domain)\" not served"
            return verdict
        }
        guard allowedClientKeys.contains(request[6]) else {
            verdict.text = "client key not allowed"
            return verdict
        }
        verdict.code = "200"
        verdict.text = "OK"
        return verdict
    }

    private func reply(to request: [[UInt8]], _ verdict: Verdict) throws -> ZAPDecision {
        let requestID = request.count > 1 ? request[1] : []
        // Reply: version, request id, status code, status text, user id, metadata.
        // The user id (the client's Z85 key) shows up as the "User-Id" message property.
        let userID = verdict.allowed ? Array((verdict.clientKey ?? "").utf8) : []
        let frames: [[UInt8]] = [Array("1.0".utf8), requestID, Array(verdict.code.utf8),
                                 Array(verdict.text.utf8), userID, []]
        guard try socket.send(frames) else {
            throw ZMQError(code: EAGAIN, operation: "ZAP reply")
        }
        if verdict.allowed { allowed &+= 1 } else { denied &+= 1 }
        return ZAPDecision(mechanism: verdict.mechanism, address: verdict.address,
                           domain: verdict.domain, allowed: verdict.allowed,
                           clientKeyZ85: verdict.clientKey, statusCode: verdict.code,
                           reason: verdict.text)
    }

    private static func validate(_ keys: Set<[UInt8]>) throws {
        if keys.contains(where: { $0.count != ZMQCurve.keyByteCount }) {
            throw ZMQError(code: EINVAL, operation: "ZAP allow-list: every key must be 32 bytes")
        }
    }
}
