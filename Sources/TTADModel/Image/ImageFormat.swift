/// The encodings `ImageDecoder` understands.
public enum ImageFormat: String, Sendable, Equatable, CustomStringConvertible {
    case jpeg
    case png
    /// Uncompressed u8 HWC with 1 (grey) or 3 (RGB) channels; size supplied by the caller.
    case raw

    public var description: String { rawValue }

    /// Identifies JPEG (`FF D8 FF`) and PNG (the 8-byte signature) by their magic bytes.
    public static func sniff(_ bytes: UnsafeRawBufferPointer) -> ImageFormat? {
        if bytes.count >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF { return .jpeg }
        let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        if bytes.count >= png.count && bytes.prefix(png.count).elementsEqual(png) { return .png }
        return nil
    }
}
