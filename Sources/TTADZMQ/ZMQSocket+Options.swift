import CZMQ

/// Socket options. Every setter throws a `ZMQError` whose `operation` names the option, e.g.
/// `zmq_setsockopt(ZMQ_SUBSCRIBE)`. Integer options are `Int32` (C `int`); 64-bit options
/// (`ZMQ_MAXMSGSIZE`) are `Int64`. Most options only affect connections made *after* they are
/// set, so configure a socket before `bind`/`connect`.
extension ZMQSocket {
    // MARK: Queues and limits

    /// `ZMQ_SNDHWM`: the most messages queued *per peer* for sending (0 = unlimited).
    public func setSendHighWaterMark(_ n: Int32) throws {
        try setOption(ZMQ_SNDHWM, name: "ZMQ_SNDHWM", int32: n)
    }

    /// `ZMQ_RCVHWM`: the most messages queued *per peer* for receiving (0 = unlimited).
    public func setReceiveHighWaterMark(_ n: Int32) throws {
        try setOption(ZMQ_RCVHWM, name: "ZMQ_RCVHWM", int32: n)
    }

    /// `ZMQ_LINGER`: how long `close()`/`terminate()` keep unsent messages (0 = drop at once,
    /// -1 = forever; never use -1 in the daemon).
    public func setLinger(milliseconds: Int32) throws {
        try setOption(ZMQ_LINGER, name: "ZMQ_LINGER", int32: milliseconds)
    }

    /// `ZMQ_MAXMSGSIZE`: the largest inbound *frame* accepted from a peer, in bytes (-1 =
    /// unlimited). A peer that sends a larger frame is disconnected and the message is never
    /// delivered; other connections are unaffected.
    public func setMaxMessageSize(_ bytes: Int64) throws {
        try setOption(ZMQ_MAXMSGSIZE, name: "ZMQ_MAXMSGSIZE", int64: bytes)
    }

    // MARK: Connection management

    /// `ZMQ_RECONNECT_IVL` and `ZMQ_RECONNECT_IVL_MAX` (exponential back-off up to `max`;
    /// 0 = no back-off). An interval of -1 disables reconnection.
    public func setReconnectInterval(milliseconds: Int32, max: Int32) throws {
        try setOption(ZMQ_RECONNECT_IVL, name: "ZMQ_RECONNECT_IVL", int32: milliseconds)
        try setOption(ZMQ_RECONNECT_IVL_MAX, name: "ZMQ_RECONNECT_IVL_MAX", int32: max)
    }

    /// ZMTP heartbeats (`ZMQ_HEARTBEAT_IVL`, `ZMQ_HEARTBEAT_TIMEOUT`, `ZMQ_HEARTBEAT_TTL`), all in
    /// milliseconds. Detects dead peers on idle TCP connections. `ttl` is rounded down to
    /// deciseconds by libzmq (max 6 553 500 ms).
    public func setHeartbeat(interval: Int32, timeout: Int32, ttl: Int32) throws {
        try setOption(ZMQ_HEARTBEAT_IVL, name: "ZMQ_HEARTBEAT_IVL", int32: interval)
        try setOption(ZMQ_HEARTBEAT_TIMEOUT, name: "ZMQ_HEARTBEAT_TIMEOUT", int32: timeout)
        try setOption(ZMQ_HEARTBEAT_TTL, name: "ZMQ_HEARTBEAT_TTL", int32: ttl)
    }

    /// `ZMQ_IMMEDIATE`: queue messages only to completed connections (so sends block/EAGAIN
    /// instead of filling queues for peers that are not there yet).
    public func setImmediate(_ on: Bool) throws {
        try setOption(ZMQ_IMMEDIATE, name: "ZMQ_IMMEDIATE", int32: on ? 1 : 0)
    }

    /// `ZMQ_RCVTIMEO`: a blocking receive returns `nil` after this long (-1 = wait forever).
    public func setReceiveTimeout(milliseconds: Int32) throws {
        try setOption(ZMQ_RCVTIMEO, name: "ZMQ_RCVTIMEO", int32: milliseconds)
    }

    /// `ZMQ_SNDTIMEO`: a blocking send returns `false` after this long (-1 = wait forever).
    public func setSendTimeout(milliseconds: Int32) throws {
        try setOption(ZMQ_SNDTIMEO, name: "ZMQ_SNDTIMEO", int32: milliseconds)
    }

    /// `ZMQ_ROUTING_ID`: this socket's identity as seen by a ROUTER peer (1...255 bytes).
    public func setRoutingID(_ id: [UInt8]) throws {
        try setOption(ZMQ_ROUTING_ID, name: "ZMQ_ROUTING_ID", bytes: id)
    }

    /// `ZMQ_ROUTER_MANDATORY`: a ROUTER send to an unknown peer fails with `EHOSTUNREACH`
    /// instead of being silently dropped.
    public func setRouterMandatory(_ on: Bool) throws {
        try setOption(ZMQ_ROUTER_MANDATORY, name: "ZMQ_ROUTER_MANDATORY", int32: on ? 1 : 0)
    }

    /// `ZMQ_XPUB_NODROP`: an XPUB/PUB send to a peer at its HWM fails with `EAGAIN` (`false`)
    /// instead of silently dropping the message.
    public func setXPubNoDrop(_ on: Bool) throws {
        try setOption(ZMQ_XPUB_NODROP, name: "ZMQ_XPUB_NODROP", int32: on ? 1 : 0)
    }

    // MARK: Subscriptions (SUB / XSUB)

    /// `ZMQ_SUBSCRIBE`: receive messages whose first frame starts with `prefix` (empty = all).
    public func subscribe(_ prefix: [UInt8]) throws {
        try setOption(ZMQ_SUBSCRIBE, name: "ZMQ_SUBSCRIBE", bytes: prefix)
    }

    /// `ZMQ_SUBSCRIBE` with the UTF-8 bytes of `prefix`.
    public func subscribe(_ prefix: String) throws {
        try subscribe(Array(prefix.utf8))
    }

    /// `ZMQ_UNSUBSCRIBE`: removes one matching earlier `subscribe`.
    public func unsubscribe(_ prefix: [UInt8]) throws {
        try setOption(ZMQ_UNSUBSCRIBE, name: "ZMQ_UNSUBSCRIBE", bytes: prefix)
    }

    /// `ZMQ_UNSUBSCRIBE` with the UTF-8 bytes of `prefix`.
    public func unsubscribe(_ prefix: String) throws {
        try unsubscribe(Array(prefix.utf8))
    }

    // MARK: Security

    /// Makes this socket a CURVE server (`ZMQ_CURVE_SERVER = 1`) with the given Z85 secret key
    /// (its public key is derived and set too). Call before `bind`. Clients are only
    /// authenticated if a ZAP handler (`ZAPAuthenticator`) exists in the same context *before*
    /// any client connects — without one, libzmq accepts every CURVE client.
    public func setCurveServer(secretKey: String) throws {
        let secret = try ZMQCurve.z85KeyBytes(secretKey, what: "CURVE secret key")
        let publicKey = try ZMQCurve.publicKey(fromSecret: secretKey)
        try setOption(ZMQ_CURVE_SERVER, name: "ZMQ_CURVE_SERVER", int32: 1)
        try setOption(ZMQ_CURVE_SECRETKEY, name: "ZMQ_CURVE_SECRETKEY", bytes: secret)
        try setOption(ZMQ_CURVE_PUBLICKEY, name: "ZMQ_CURVE_PUBLICKEY",
                      bytes: try ZMQCurve.z85KeyBytes(publicKey, what: "CURVE public key"))
    }

    /// Makes this socket a CURVE client of a server with `serverPublicKey`, using its own long-term
    /// key pair (all Z85, 40 characters). Call before `connect`.
    public func setCurveClient(serverPublicKey: String, publicKey: String, secretKey: String) throws {
        let server = try ZMQCurve.z85KeyBytes(serverPublicKey, what: "CURVE server public key")
        let pub = try ZMQCurve.z85KeyBytes(publicKey, what: "CURVE public key")
        let secret = try ZMQCurve.z85KeyBytes(secretKey, what: "CURVE secret key")
        try setOption(ZMQ_CURVE_SERVERKEY, name: "ZMQ_CURVE_SERVERKEY", bytes: server)
        try setOption(ZMQ_CURVE_PUBLICKEY, name: "ZMQ_CURVE_PUBLICKEY", bytes: pub)
        try setOption(ZMQ_CURVE_SECRETKEY, name: "ZMQ_CURVE_SECRETKEY", bytes: secret)
    }

    /// `ZMQ_ZAP_DOMAIN`: the domain sent in ZAP requests for this (server) socket.
    public func setZAPDomain(_ domain: String) throws {
        try setOption(ZMQ_ZAP_DOMAIN, name: "ZMQ_ZAP_DOMAIN", bytes: Array(domain.utf8))
    }

    // MARK: Raw access (escape hatch)

    /// Sets an `int` option by its `ZMQ_*` number; `name` is used in the error.
    public func setOption(_ option: Int32, name: String, int32 value: Int32) throws {
        var value = value
        try setRaw(option, name: name, &value, MemoryLayout<Int32>.size)
    }

    /// Sets an `int64_t` option by its `ZMQ_*` number; `name` is used in the error.
    public func setOption(_ option: Int32, name: String, int64 value: Int64) throws {
        var value = value
        try setRaw(option, name: name, &value, MemoryLayout<Int64>.size)
    }

    /// Sets a binary/string option by its `ZMQ_*` number; `name` is used in the error.
    public func setOption(_ option: Int32, name: String, bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { buffer in
            // libzmq accepts (NULL, 0) for empty values such as the "subscribe to all" prefix.
            try setRaw(option, name: name, buffer.baseAddress, buffer.count)
        }
    }

    /// Reads an `int` option by its `ZMQ_*` number.
    public func int32Option(_ option: Int32, name: String) throws -> Int32 {
        var value: Int32 = 0
        var size = MemoryLayout<Int32>.size
        let socket = try openHandle("zmq_getsockopt(\(name))")
        guard zmq_getsockopt(socket, option, &value, &size) == 0 else {
            throw ZMQError.last("zmq_getsockopt(\(name))")
        }
        return value
    }

    /// Reads an `int64_t` option by its `ZMQ_*` number.
    public func int64Option(_ option: Int32, name: String) throws -> Int64 {
        var value: Int64 = 0
        var size = MemoryLayout<Int64>.size
        let socket = try openHandle("zmq_getsockopt(\(name))")
        guard zmq_getsockopt(socket, option, &value, &size) == 0 else {
            throw ZMQError.last("zmq_getsockopt(\(name))")
        }
        return value
    }

    /// Reads a NUL-terminated string option (e.g. `ZMQ_LAST_ENDPOINT`).
    func stringOption(_ option: Int32, name: String, capacity: Int) throws -> String {
        let socket = try openHandle("zmq_getsockopt(\(name))")
        var buffer = [UInt8](repeating: 0, count: capacity)
        var size = capacity
        let rc = buffer.withUnsafeMutableBytes { zmq_getsockopt(socket, option, $0.baseAddress, &size) }
        guard rc == 0 else { throw ZMQError.last("zmq_getsockopt(\(name))") }
        let used = buffer.prefix(min(size, capacity))
        let text = used.prefix { $0 != 0 }
        return String(decoding: text, as: UTF8.self)
    }

    private func setRaw(_ option: Int32, name: String, _ value: UnsafeRawPointer?, _ size: Int) throws {
        let socket = try openHandle("zmq_setsockopt(\(name))")
        guard zmq_setsockopt(socket, option, value, size) == 0 else {
            throw ZMQError.last("zmq_setsockopt(\(name))")
        }
    }
}
