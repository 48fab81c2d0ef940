/// Payload encoding of an input sample (`encoding` header field).
public enum SampleEncoding: String, Sendable, CaseIterable, Codable, Hashable {
    case jpeg = "jpeg"
    case png = "png"
    /// H·W·C bytes, row-major, channel-interleaved; C ∈ {1, 3}.
    case rawU8HWC = "raw-u8-hwc"
    /// D little-endian IEEE-754 float32 values.
    case f32Embedding = "f32-embedding"

    /// True for jpeg/png (compressed images whose pixels are decoded by the image pipeline).
    public var isCompressedImage: Bool { self == .jpeg || self == .png }
}

/// Optional evaluation label (`label` header field): a class index or a class name.
/// Never used for adaptation; echoed in the prediction.
public enum SampleLabel: Sendable, Hashable, Codable {
    /// Class index, 0 ≤ index < 2^53.
    case index(Int)
    /// Class name, 1–128 bytes UTF-8.
    case name(String)
}

/// A tensor shape of rank 1–3 stored inline (no heap allocation).
public struct SampleShape: Sendable, Hashable, RandomAccessCollection, ExpressibleByArrayLiteral, CustomStringConvertible, Codable {
    public static let maxRank = 3
    private var d0: Int = 0, d1: Int = 0, d2: Int = 0
    public private(set) var rank: Int = 0

    public init() {}

    /// Traps if `dims.count > 3`.
    public init(_ dims: [Int]) {
        precondition(dims.count <= Self.maxRank, "SampleShape supports rank <= 3")
        for d in dims { append(d) }
    }

    public init(arrayLiteral elements: Int...) { self.init(elements) }


    mutating func append(_ d: Int) {
        switch rank {
        case 0: d0 = d
        case 1: d1 = d
        default: d2 = d
        }
        rank += 1
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { rank }

    public subscript(i: Int) -> Int {
        precondition(i >= 0 && i < rank, "SampleShape index out of range")
        switch i {
        case 0: return d0
        case 1: return d1
        default: return d2
        }
    }

    public var dims: [Int] { Array(self) }

    /// Product of all dimensions (nil on overflow).
    public var elementCount: Int? {
        var n = 1
        for d in self {
            let (p, o) = n.multipliedReportingOverflow(by: d)
            if o { return nil }
            n = p
        }
        return n
    }

    public var description: String { "[" + map(String.init).joined(separator: ",") + "]" }

    public init(from decoder: any Decoder) throws {
        let dims = try [Int](from: decoder)
        guard dims.count <= Self.maxRank else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "rank > 3"))
        }
        self.init(dims)
    }

    public func encode(to encoder: any Encoder) throws {
        try dims.encode(to: encoder)
    }
}

/// A validated input header (frame 1).
public struct SampleHeader: Sendable, Hashable {
    /// Protocol version; always 1 for headers produced by `SampleDecoder`.
    public var v: Int
    /// Client sample id, 1–128 bytes UTF-8; echoed back.
    public var id: String
    /// Stream id; equals the topic frame.
    public var stream: String
    /// Per-stream sequence number, 0 ≤ seq < 2^53.
    public var seq: UInt64
    /// Capture time, seconds since the Unix epoch.
    public var ts: Double?
    public var encoding: SampleEncoding
    /// `[H, W, C]` for images, `[D]` for embeddings; nil only for jpeg/png without a shape.
    public var shape: SampleShape?
    public var label: SampleLabel?

    public init(v: Int = WireProtocol.version, id: String, stream: String, seq: UInt64, ts: Double? = nil,
                encoding: SampleEncoding, shape: SampleShape? = nil, label: SampleLabel? = nil) {
        self.v = v
        self.id = id
        self.stream = stream
        self.seq = seq
        self.ts = ts
        self.encoding = encoding
        self.shape = shape
        self.label = label
    }

    /// D for an `f32-embedding` header.
    public var embeddingDimension: Int? {
        guard encoding == .f32Embedding, let shape, shape.rank == 1 else { return nil }
        return shape[0]
    }
}

/// A validated input message.
public struct Sample: Sendable {
    public var header: SampleHeader
    /// The payload frame as received (not copied).
    public var payload: [UInt8]

    public init(header: SampleHeader, payload: [UInt8]) {
        self.header = header
        self.payload = payload
    }
}
