/// Why an image could not be decoded. Every case says what was wrong with the input.
public enum ImageDecodeError: Error, Equatable, Sendable, CustomStringConvertible {
    /// No bytes at all.
    case empty
    /// Neither a JPEG nor a PNG signature.
    case unknownFormat
    /// The data ends before the image does (a cut-off upload or a partial file).
    case truncated(format: ImageFormat, detail: String)
    /// The data is malformed (bad markers, CRC errors, invalid Huffman tables, impossible headers…).
    case corrupt(format: ImageFormat, detail: String)
    /// Well-formed but not something this pipeline handles (e.g. 2-channel raw data).
    case unsupported(format: ImageFormat, detail: String)
    /// The header declares more pixels than the configured limits allow. Raised from the header,
    /// before any pixel buffer is allocated (decompression-bomb guard).
    case tooLarge(width: Int, height: Int, maxSide: Int, maxPixels: Int)
    /// A zero or negative dimension.
    case invalidDimensions(width: Int, height: Int)
    /// Raw input whose byte count is not `width * height * channels`.
    case rawLengthMismatch(expected: Int, actual: Int)

    public var description: String {
        switch self {
        case .empty: return "empty image data (0 bytes)"
        case .unknownFormat: return "unrecognised image format (expected JPEG or PNG signature)"
        case let .truncated(f, d): return "truncated \(f) data: \(d)"
        case let .corrupt(f, d): return "corrupt \(f) data: \(d)"
        case let .unsupported(f, d): return "unsupported \(f) image: \(d)"
        case let .tooLarge(w, h, side, pixels):
            return "image \(w)x\(h) exceeds the decode limits (max side \(side), max \(pixels) pixels)"
        case let .invalidDimensions(w, h): return "invalid image dimensions \(w)x\(h)"
        case let .rawLengthMismatch(e, a): return "raw image data is \(a) bytes, expected \(e)"
        }
    }
}
