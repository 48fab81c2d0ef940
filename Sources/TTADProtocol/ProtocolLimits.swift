/// Configurable limits applied by `SampleDecoder`. Defaults are documented in docs/protocol.md.
public struct ProtocolLimits: Sendable, Equatable, Codable {
    /// Maximum size of the header frame in bytes (`header_too_large`).
    public var maxHeaderBytes: Int
    /// Maximum nesting depth of the header JSON; the header object itself is depth 1 (`bad_json`).
    public var maxHeaderDepth: Int
    /// Maximum size of the payload frame in bytes (`payload_too_large`).
    public var maxPayloadBytes: Int
    /// Maximum image height/width for `raw-u8-hwc` and the optional jpeg/png shape (`wrong_shape`).
    public var maxImageSide: Int
    /// Maximum H × W for `raw-u8-hwc` and the optional jpeg/png shape (`wrong_shape`); the
    /// daemon applies the same bound to decoded JPEG/PNG images (`corrupt_image`).
    public var maxImagePixels: Int
    /// Maximum embedding dimension D (`wrong_shape`).
    public var maxEmbeddingDim: Int
    /// If set, every `f32-embedding` must have exactly this D (`wrong_shape`).
    public var expectedEmbeddingDim: Int?

    public init(maxHeaderBytes: Int = 4096,
                maxHeaderDepth: Int = 16,
                maxPayloadBytes: Int = 32 << 20,
                maxImageSide: Int = 8192,
                maxImagePixels: Int = 8192 * 8192,
                maxEmbeddingDim: Int = 65536,
                expectedEmbeddingDim: Int? = nil) {
        self.maxHeaderBytes = maxHeaderBytes
        self.maxHeaderDepth = maxHeaderDepth
        self.maxPayloadBytes = maxPayloadBytes
        self.maxImageSide = maxImageSide
        self.maxImagePixels = maxImagePixels
        self.maxEmbeddingDim = maxEmbeddingDim
        self.expectedEmbeddingDim = expectedEmbeddingDim
    }

    public static let `default` = ProtocolLimits()
}

/// Protocol constants.
public enum WireProtocol {
    /// The protocol version carried in `v` of every input and output message.
    public static let version = 1
    /// Number of frames of an input message: `[topic][header][payload]`.
    public static let inputFrameCount = 3
    /// Maximum topic (= stream id) length in bytes.
    public static let maxTopicBytes = 64
    /// Maximum `id` length in bytes (UTF-8).
    public static let maxIDBytes = 128
    /// Maximum string `label` length in bytes (UTF-8).
    public static let maxLabelBytes = 128
    /// `seq` and integer labels must be < 2^53 (exactly representable as an IEEE double).
    public static let maxSafeInteger: UInt64 = (1 << 53) - 1

    /// True if `bytes` is a valid stream id / input topic: 1–64 bytes of `[A-Za-z0-9._-]`.
    public static func isValidStreamID<C: Collection>(_ bytes: C) -> Bool where C.Element == UInt8 {
        let n = bytes.count
        guard n >= 1 && n <= maxTopicBytes else { return false }
        for b in bytes where !isStreamByte(b) { return false }
        return true
    }

    /// True if `s` is a valid stream id.
    public static func isValidStreamID(_ s: String) -> Bool {
        isValidStreamID(s.utf8)
    }

    @inline(__always)
    static func isStreamByte(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
            return true
        default:
            return false
        }
    }
}
