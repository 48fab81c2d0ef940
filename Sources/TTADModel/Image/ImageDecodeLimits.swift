/// Upper bounds checked against an image's header before its pixels are allocated or decoded.
///
/// A 20-byte PNG or a few-hundred-byte JPEG can declare a 65535×65535 image; checking the header
/// first keeps a hostile or broken camera from making the daemon allocate gigabytes.
public struct ImageDecodeLimits: Sendable, Equatable {
    /// Longest allowed side, in pixels.
    public var maxSide: Int
    /// Largest allowed width × height.
    public var maxPixels: Int

    /// Defaults: 16384 px per side, 40 megapixels (120 MB of RGB) — above any camera we expect.
    public init(maxSide: Int = 16_384, maxPixels: Int = 40_000_000) {
        precondition(maxSide > 0 && maxPixels > 0)
        self.maxSide = maxSide
        self.maxPixels = maxPixels
    }

    /// Throws `.invalidDimensions` or `.tooLarge` unless `width`×`height` is acceptable.
    public func check(width: Int, height: Int) throws(ImageDecodeError) {
        guard width > 0, height > 0 else { throw .invalidDimensions(width: width, height: height) }
        // Compare sides first so width * height cannot overflow.
        guard width <= maxSide, height <= maxSide, width * height <= maxPixels else {
            throw .tooLarge(width: width, height: height, maxSide: maxSide, maxPixels: maxPixels)
        }
    }
}
