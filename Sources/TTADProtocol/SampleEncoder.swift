/// Builds input messages (client side: `ttad publish`, tests, benchmarks).
///
/// The encoder does not validate: it writes what it is given, so it can also produce invalid
/// messages for tests. Run `SampleDecoder` over the result to check a message.
public struct SampleEncoder: Sendable {
    public init() {}

    /// The header frame as compact JSON, fields in the order v, id, stream, seq, ts, encoding,
    /// shape, label, then `extraFields` (for forward-compatibility tests).
    public func encodeHeader(_ h: SampleHeader, extraFields: [JSONMember] = []) -> [UInt8] {
        var w = JSONWriter(capacity: 160)
        w.beginObject()
        w.key(static: "v"); w.int(h.v)
        w.key(static: "id"); w.string(h.id)
        w.key(static: "stream"); w.string(h.stream)
        w.key(static: "seq"); w.int(h.seq)
        if let ts = h.ts { w.key(static: "ts"); w.double(ts) }
        w.key(static: "encoding"); w.string(h.encoding.rawValue)
        if let shape = h.shape {
            w.key(static: "shape")
            w.beginArray()
            for d in shape { w.int(d) }
            w.endArray()
        }
        switch h.label {
        case .index(let i)?: w.key(static: "label"); w.int(i)
        case .name(let n)?: w.key(static: "label"); w.string(n)
        case nil: break
        }
        for m in extraFields {
            w.key(m.key)
            w.value(m.value)
        }
        w.endObject()
        return w.bytes
    }

    /// `[topic][header][payload]` where topic = `header.stream`.
    public func encode(header: SampleHeader, payload: [UInt8], extraFields: [JSONMember] = []) -> [[UInt8]] {
        [Array(header.stream.utf8), encodeHeader(header, extraFields: extraFields), payload]
    }

    /// Little-endian float32 bytes of an embedding.
    public static func embeddingPayload(_ values: [Float]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: values.count * 4)
        out.withUnsafeMutableBytes { raw in
            for (i, v) in values.enumerated() {
                raw.storeBytes(of: v.bitPattern.littleEndian, toByteOffset: i * 4, as: UInt32.self)
            }
        }
        return out
    }

    /// Convenience: header + payload for an embedding with `shape = [values.count]`.
    public func encodeEmbedding(id: String, stream: String, seq: UInt64, values: [Float],
                                ts: Double? = nil, label: SampleLabel? = nil) -> [[UInt8]] {
        let h = SampleHeader(id: id, stream: stream, seq: seq, ts: ts, encoding: .f32Embedding,
                             shape: [values.count], label: label)
        return encode(header: h, payload: Self.embeddingPayload(values))
    }
}
