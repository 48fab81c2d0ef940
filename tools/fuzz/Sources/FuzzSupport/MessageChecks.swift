import TTADProtocol

/// Properties every input message must satisfy, shared by the header and sample targets.
public enum MessageChecks {
    /// The daemon's two ways of validating a 3-frame message must agree: `decode(frames:)` (full
    /// check) and Pipeline.admit's `decode(…, validatePayloadContents: false)` followed by
    /// `readEmbedding` into a row of the expected dimension. Same verdict, same reason.
    public static func run(_ decoder: SampleDecoder, topic: [UInt8], header: [UInt8], payload: [UInt8]) {
        let full = decoder.decode(frames: [topic, header, payload])
        var fast = decoder.decode(topic: topic, header: header, payload: payload, validatePayloadContents: false)
        if case .success(let h) = fast, h.encoding == .f32Embedding {
            let d = h.embeddingDimension ?? 0
            fuzzCheck(d >= 1 && d <= decoder.limits.maxEmbeddingDim, "accepted embedding of dimension \(d)")
            if let expected = decoder.limits.expectedEmbeddingDim { fuzzCheck(d == expected, "dimension \(d) ≠ expected \(expected)") }
            let row = UnsafeMutableBufferPointer<Float>.allocate(capacity: d)
            defer { row.deallocate() }
            if let r = decoder.readEmbedding(payload: payload, into: row, header: h) { fast = .failure(r) }
        }
        switch (full, fast) {
        case (.success(let s), .success(let h)):
            fuzzCheck(s.header == h, "the two decode paths returned different headers")
            checkAccepted(h, topic: topic, payload: payload, decoder: decoder)
        case (.failure(let a), .failure(let b)):
            fuzzCheck(a.reason == b.reason, "full decode says \(a.reason), admit path says \(b.reason)")
        case (.success, .failure(let r)):
            fuzzCheck(false, "full decode accepted what the admit path rejects (\(r.reason): \(r.detail))")
        case (.failure(let r), .success):
            fuzzCheck(false, "admit path accepted what the full decode rejects (\(r.reason): \(r.detail))")
        }
    }

    /// An accepted header keeps the documented bounds and survives SampleEncoder → SampleDecoder.
    static func checkAccepted(_ h: SampleHeader, topic: [UInt8], payload: [UInt8], decoder: SampleDecoder) {
        fuzzCheck(h.v == WireProtocol.version, "accepted v=\(h.v)")
        fuzzCheck(Array(h.stream.utf8) == topic, "stream \(h.stream) ≠ topic")
        fuzzCheck((1...WireProtocol.maxIDBytes).contains(h.id.utf8.count), "accepted id of \(h.id.utf8.count) bytes")
        fuzzCheck(h.seq <= WireProtocol.maxSafeInteger, "accepted seq \(h.seq)")
        if let ts = h.ts { fuzzCheck(ts.isFinite, "accepted ts \(ts)") }
        fuzzCheck(payload.count <= decoder.limits.maxPayloadBytes, "accepted a \(payload.count)-byte payload")
        let again = SampleEncoder().encodeHeader(h)
        switch decoder.decode(topic: topic, header: again, payload: payload) {
        case .success(let h2):
            fuzzCheck(h2 == h, "header changed in an encode/decode round trip: \(h) → \(h2)")
        case .failure(let r):
            fuzzCheck(false, "re-encoded header rejected (\(r.reason): \(r.detail)): \(String(decoding: again, as: UTF8.self))")
        }
    }
}
