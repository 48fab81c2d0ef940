/// An 8-bit RGB image in row-major, interleaved (HWC) layout: `pixels[(y * width + x) * 3 + c]`.
///
/// This is what `ImageDecoder` produces and `ImagePreprocessor` consumes; every supported input
/// (JPEG, PNG of any colour type, raw grey/RGB bytes) is reduced to it.
public struct DecodedImage: Sendable, Equatable {
    public private(set) var width: Int
    public private(set) var height: Int
    /// `width * height * 3` bytes, RGB.
    public internal(set) var pixels: [UInt8]

    public static let channels = 3

    /// Wraps existing RGB bytes. Precondition: `pixels.count == width * height * 3`, both sides ≥ 1.
    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(width > 0 && height > 0, "DecodedImage: width and height must be positive")
        precondition(pixels.count == width * height * 3,
                     "DecodedImage: \(pixels.count) bytes for \(width)x\(height) RGB (expected \(width * height * 3))")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// An empty placeholder to decode into (`ImageDecoder.decode(_:into:)` reuses its storage).
    public init() {
        width = 0
        height = 0
        pixels = []
    }

    public var isEmpty: Bool { width == 0 || height == 0 }

    /// The pixel at (x, y) as (r, g, b).
    public subscript(x: Int, y: Int) -> (r: UInt8, g: UInt8, b: UInt8) {
        let i = (y * width + x) * 3
        return (pixels[i], pixels[i + 1], pixels[i + 2])
    }

    /// Makes the image empty, keeping the storage's capacity for the next decode.
    mutating func clear() {
        width = 0
        height = 0
        pixels.removeAll(keepingCapacity: true)
    }

    /// Sizes the storage for a `width`×`height` image and hands out the bytes
    /// for the decoder to fill. Contents are unspecified on entry to `body`.
    mutating func reshape<R>(width: Int, height: Int,
                             _ body: (UnsafeMutableBufferPointer<UInt8>) throws(ImageDecodeError) -> R)
        throws(ImageDecodeError) -> R {
        let count = width * height * 3
        if pixels.count != count {
            // Same-size images (a camera stream) reuse the storage; a new size reallocates once.
            // (Not append(contentsOf:): unspecialised generic code is ~100x slower in debug builds.)
            pixels = [UInt8](repeating: 0, count: count)
        }
        self.width = width
        self.height = height
        do {
            return try pixels.withUnsafeMutableBufferPointer { buffer throws(ImageDecodeError) -> R in try body(buffer) }
        } catch {
            clear()
            throw error
        }
    }
}
