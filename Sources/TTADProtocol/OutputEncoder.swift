/// Encodes output messages `[topic][json]` into two reusable buffers.
///
/// Usage (one encoder per publishing thread):
/// ```swift
/// var enc = OutputEncoder()
/// enc.encodePrediction(record)
/// enc.withFrames { topic, body in socket.send(topic, more: true); socket.send(body) }
/// ```
/// Each `encode…` call overwrites `topic` and `body`. The buffers keep their capacity, so after
/// warm-up encoding does not allocate (except for the transient `String` that Swift's shortest
/// float formatting creates when a number needs more than 15 characters, e.g. a full-precision
/// Unix `ts`). Reading `topic`/`body` as arrays is fine; holding on to them across the next
/// `encode…` call makes that call copy (copy-on-write), so send first.
public struct OutputEncoder: Sendable {
    private var writer: JSONWriter
    public private(set) var topic: [UInt8]

    public init(capacity: Int = 1024) {
        writer = JSONWriter(capacity: capacity)
        topic = []
        topic.reserveCapacity(80)
    }

    /// The JSON frame of the last encoded message.
    public var body: [UInt8] { writer.bytes }

    /// Both frames of the last encoded message as raw memory, valid inside `body` only.
    public func withFrames<R>(_ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try topic.withUnsafeBytes { t in try writer.bytes.withUnsafeBytes { b in try body(t, b) } }
    }

    private mutating func setTopic(_ s: StaticString) {
        topic.removeAll(keepingCapacity: true)
        topic.append(contentsOf: UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }

    /// Topic `pred/<stream>`. Written as fixed fragments (the schema is static), which keeps
    /// this the cheapest message to produce.
    public mutating func encodePrediction(_ p: PredictionRecord) {
        setTopic("pred/")
        topic.append(contentsOf: p.stream.utf8)
        writer.reset()
        writer.raw("{\"v\":1,\"id\":")
        writer.rawString(p.id)
        writer.raw(",\"stream\":")
        writer.rawString(p.stream)
        writer.raw(",\"seq\":")
        writer.rawUInt(p.seq)
        writer.raw(",\"ts\":")
        if let ts = p.ts { writer.rawDouble(ts) } else { writer.raw("null") }
        writer.raw(",\"top\":[")
        var first = true
        for c in p.top {
            writer.raw(first ? "{\"class\":" : ",{\"class\":")
            first = false
            writer.rawString(c.className)
            writer.raw(",\"index\":")
            writer.rawInt(c.index)
            writer.raw(",\"p\":")
            writer.rawFloat(c.p)
            writer.raw("}")
        }
        writer.raw("],\"entropy\":")
        writer.rawFloat(p.entropy)
        writer.raw(p.outlier ? ",\"outlier\":true" : ",\"outlier\":false")
        if let s = p.outlierScore {
            writer.raw(",\"outlier_score\":")
            writer.rawFloat(s)
        }
        if let v = p.promptVersion {
            writer.raw(",\"prompt_version\":")
            writer.rawInt(v)
        }
        if let l = p.latencySeconds {
            writer.raw(",\"latency_s\":")
            writer.rawDouble(roundedToMicroseconds(l))
        }
        switch p.label {
        case .index(let i)?:
            writer.raw(",\"label\":")
            writer.rawInt(i)
        case .name(let n)?:
            writer.raw(",\"label\":")
            writer.rawString(n)
        case nil: break
        }
        writer.raw("}")
    }

    /// Topic `error`.
    public mutating func encodeError(_ e: ErrorRecord) {
        writeError(reason: e.reason, detail: e.detail, id: e.id, stream: e.stream, seq: e.seq, tsS: e.tsS)
    }

    /// Topic `error`, straight from a `Rejection`.
    public mutating func encodeError(_ r: Rejection, tsS: Double) {
        writeError(reason: r.reason.rawValue, detail: r.detail, id: r.sampleID, stream: r.stream, seq: r.seq, tsS: tsS)
    }

    private mutating func writeError(reason: String, detail: String, id: String?, stream: String?, seq: UInt64?, tsS: Double) {
        setTopic("error")
        writer.reset()
        writer.raw("{\"v\":1,\"reason\":")
        writer.rawString(reason)
        writer.raw(",\"detail\":")
        writer.rawString(detail)
        if let id { writer.raw(",\"id\":"); writer.rawString(id) }
        if let stream { writer.raw(",\"stream\":"); writer.rawString(stream) }
        if let seq { writer.raw(",\"seq\":"); writer.rawUInt(seq) }
        writer.raw(",\"ts_s\":")
        writer.rawDouble(tsS)
        writer.raw("}")
    }

    /// Topic `event`.
    public mutating func encodeEvent(_ e: EventRecord) {
        setTopic("event")
        writer.reset()
        writer.beginObject()
        writer.key(static: "v"); writer.int(WireProtocol.version)
        writer.key(static: "kind"); writer.string(e.kind)
        writer.key(static: "ts_s"); writer.double(e.tsS)
        writer.key(static: "detail"); writer.value(.object(e.detail))
        writer.endObject()
    }

    /// Topic `drift`.
    public mutating func encodeDrift(_ d: DriftRecord) {
        setTopic("drift")
        writer.reset()
        writer.beginObject()
        writer.key(static: "v"); writer.int(WireProtocol.version)
        writer.key(static: "ts_s"); writer.double(d.tsS)
        writer.key(static: "window"); writer.int(d.window)
        writer.key(static: "stats")
        writer.beginObject()
        for s in d.stats {
            writer.key(s.name)
            writer.double(s.value)
        }
        writer.endObject()
        writer.key(static: "alarms")
        writer.beginArray()
        for a in d.alarms { writer.string(a) }
        writer.endArray()
        if let state = d.state { writer.key(static: "state"); writer.string(state) }
        writer.endObject()
    }
}

/// Rounds seconds to microsecond resolution (without libm).
@inline(__always)
func roundedToMicroseconds(_ seconds: Double) -> Double {
    let us = seconds * 1e6
    guard us.magnitude < 9e15 else { return seconds }
    return Double(Int64(us + (us < 0 ? -0.5 : 0.5))) / 1e6
}
