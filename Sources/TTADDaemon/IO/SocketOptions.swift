import TTADZMQ

/// Applies the configured ZeroMQ options to a socket before it binds or connects (most options
/// only affect later bind/connect calls).
enum SocketOptions {
    /// Receive high-water mark from a byte budget: HWMs count messages, so a budget of 64 MiB
    /// with 600 KiB images is ~100 messages, with 2 KiB embeddings it is ~32k.
    static func ingestHighWaterMark(_ c: IngestSection) -> Int32 {
        ZMQHighWaterMark.messages(forBudgetBytes: c.memoryBudgetBytes, typicalMessageBytes: c.typicalMessageBytes)
    }

    static func configureIngest(_ s: ZMQSocket, _ c: IngestSection) throws {
        try s.setReceiveHighWaterMark(ingestHighWaterMark(c))
        try s.setMaxMessageSize(Int64(c.maxMessageBytes))
        try s.setLinger(milliseconds: 0)
        try s.setReconnectInterval(milliseconds: Int32(clamping: c.reconnectIntervalMs),
                                   max: Int32(clamping: c.reconnectIntervalMaxMs))
        if c.heartbeatIntervalMs > 0 {
            try s.setHeartbeat(interval: Int32(clamping: c.heartbeatIntervalMs),
                               timeout: Int32(clamping: ingestHeartbeatTimeout(c)),
                               ttl: Int32(clamping: c.heartbeatTimeoutMs))
        }
    }

    /// The ingest socket's own heartbeat timeout. Under `block` it is 0 (none): when the ingest
    /// queue is full the daemon stops reading, libzmq's receive pipe reaches its high-water mark
    /// and the connection's engine stops reading TCP, so it cannot see the peer's PONG either.
    /// libzmq (4.3.4, still on master) then times the live connection out and drops it, losing
    /// everything in the kernel socket buffers (~1,000 samples of a few KB) and reordering what
    /// follows: deterministic mode is no longer lossless and `ttad eval` waits for answers that
    /// can never come. PINGs still go out, with the TTL, so producers still detect a dead daemon.
    static func ingestHeartbeatTimeout(_ c: IngestSection) -> Int {
        c.effectiveOverflow == .block ? 0 : c.heartbeatTimeoutMs
    }

    static func configurePublish(_ s: ZMQSocket, _ c: PublishSection) throws {
        try s.setSendHighWaterMark(Int32(clamping: c.sendHighWaterMark))
        try s.setLinger(milliseconds: 0)
        // Connecting to a proxy that is not up yet: queue nothing for it rather than a backlog
        // of stale predictions delivered on connect.
        if !c.bind { try s.setImmediate(true) }
        // Publishing is outbound only: refuse inbound data frames beyond subscriptions.
        try s.setMaxMessageSize(4096)
    }
}
