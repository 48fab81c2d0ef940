// Rejection reasons of wire protocol v1 (see docs/protocol.md, "Rejection reasons").

/// Why an incoming message was rejected.
///
/// The set is **closed** for protocol v1: the daemon pre-creates one counter per case and the
/// raw values are published verbatim in the `reason` field of `error` messages. Raw values are
/// stable snake_case strings; never rename one.
///
/// Two reasons are not (only) produced by `SampleDecoder` itself:
/// - ``unsupportedEncoding`` — raised by the daemon when its mode cannot use a valid encoding.
/// - ``corruptImage`` — produced here only for a bad magic number; the image pipeline also
///   uses it when full JPEG/PNG decoding fails.
public enum RejectReason: String, CaseIterable, Sendable, Codable, Hashable {
    /// The multipart message does not have exactly 3 frames.
    case frameCount = "frame_count"
    /// Frame 0 is not 1–64 bytes of `[A-Za-z0-9._-]`.
    case badTopic = "bad_topic"
    /// Frame 1 is larger than `ProtocolLimits.maxHeaderBytes`.
    case headerTooLarge = "header_too_large"
    /// Frame 1 is not valid UTF-8, not strict RFC 8259 JSON, not an object, has duplicate keys,
    /// or nests deeper than `ProtocolLimits.maxHeaderDepth`.
    case badJSON = "bad_json"
    /// A required header field is absent or `null` (including `shape` for raw-u8-hwc and
    /// f32-embedding).
    case missingField = "missing_field"
    /// A header field has the wrong JSON type (e.g. `"seq":"7"`, `"seq":7.0`).
    case wrongType = "wrong_type"
    /// A header field has the right type but an invalid value (e.g. negative `seq`, empty `id`).
    case badValue = "bad_value"
    /// `v` is an integer other than 1.
    case unsupportedVersion = "unsupported_version"
    /// `encoding` is a string but not one of the known encodings.
    case unknownEncoding = "unknown_encoding"
    /// `stream` differs from the topic frame.
    case streamMismatch = "stream_mismatch"
    /// `shape` has the wrong rank, a non-positive or too large dimension, a channel count other
    /// than 1 or 3, or an embedding dimension other than the configured one.
    case wrongShape = "wrong_shape"
    /// The payload is larger than `ProtocolLimits.maxPayloadBytes`.
    case payloadTooLarge = "payload_too_large"
    /// The payload byte length does not match `shape` (4·D for embeddings, H·W·C for raw).
    case payloadLength = "payload_length"
    /// An embedding value is NaN or ±Infinity.
    case nonFinite = "non_finite"
    /// Every embedding value is ±0.
    case zeroNorm = "zero_norm"
    /// JPEG/PNG magic bytes are wrong (here) or the image fails to decode (image pipeline).
    case corruptImage = "corrupt_image"
    /// A valid encoding that the daemon's current mode cannot predict from (for example a
    /// `jpeg` sample sent to a daemon running in embedding mode). Daemon-side only.
    case unsupportedEncoding = "unsupported_encoding"

    /// Reasons that `SampleDecoder` can never produce (they come from other layers).
    public static let producedOutsideDecoder: Set<RejectReason> = [.unsupportedEncoding]
}

/// A rejected message: the reason code plus whatever context could be parsed.
public struct Rejection: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: RejectReason
    /// Human-readable explanation; names the offending field.
    public var detail: String
    /// The client's sample id, when it could be parsed.
    public var sampleID: String?
    /// The stream: the topic frame when it was valid, else the header's `stream` when parseable.
    public var stream: String?
    /// The header's `seq`, when it could be parsed.
    public var seq: UInt64?

    public init(reason: RejectReason, detail: String, sampleID: String? = nil, stream: String? = nil, seq: UInt64? = nil) {
        self.reason = reason
        self.detail = detail
        self.sampleID = sampleID
        self.stream = stream
        self.seq = seq
    }

    /// Convenience for later pipeline stages (e.g. the image decoder) that already hold a header.
    public init(reason: RejectReason, detail: String, header: SampleHeader) {
        self.init(reason: reason, detail: detail, sampleID: header.id, stream: header.stream, seq: header.seq)
    }

    public var description: String {
        var s = "\(reason.rawValue): \(detail)"
        if let sampleID { s += " [id=\(sampleID)]" }
        if let stream { s += " [stream=\(stream)]" }
        if let seq { s += " [seq=\(seq)]" }
        return s
    }
}
