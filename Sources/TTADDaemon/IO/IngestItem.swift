/// A raw input message as read off an ingest socket, before any validation.
public struct IngestItem: Sendable {
    public var frames: [[UInt8]]
    /// Monotonic arrival time (nanoseconds, `DispatchTime.now().uptimeNanoseconds`), for latency.
    public var receivedAtNs: UInt64

    public init(frames: [[UInt8]], receivedAtNs: UInt64) {
        self.frames = frames
        self.receivedAtNs = receivedAtNs
    }
}

/// One message for the PUB socket: a topic frame and a JSON body frame.
public struct OutgoingMessage: Sendable {
    public var topic: [UInt8]
    public var body: [UInt8]
    public var family: OutputFamily

    public init(topic: [UInt8], body: [UInt8], family: OutputFamily) {
        self.topic = topic
        self.body = body
        self.family = family
    }
}
