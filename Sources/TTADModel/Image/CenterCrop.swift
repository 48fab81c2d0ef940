/// Centre crop to `width`×`height`, with the offsets transformers' `center_crop` uses:
/// a side longer than the crop starts at ⌊(size − crop) / 2⌋; a side shorter than the crop is
/// zero-padded, placed at ⌈(crop − size) / 2⌉.
public struct CenterCrop: Sendable, Equatable {
    public let width: Int
    public let height: Int

    public init(width: Int, height: Int) {
        precondition(width > 0 && height > 0, "CenterCrop: size must be positive")
        self.width = width
        self.height = height
    }

    public init(size: Int) { self.init(width: size, height: size) }

    /// Where an image of the given size lands in the crop: the source region copied and the
    /// destination offset inside the `width`×`height` output (the rest is padding).
    public struct Placement: Sendable, Equatable {
        public var sourceX: Int, sourceY: Int
        public var destinationX: Int, destinationY: Int
        public var copyWidth: Int, copyHeight: Int
    }

    public func placement(width imageWidth: Int, height imageHeight: Int) -> Placement {
        func axis(_ size: Int, _ crop: Int) -> (source: Int, destination: Int, length: Int) {
            size >= crop ? ((size - crop) / 2, 0, crop) : (0, (crop - size + 1) / 2, size)
        }
        let x = axis(imageWidth, width), y = axis(imageHeight, height)
        return Placement(sourceX: x.source, sourceY: y.source, destinationX: x.destination,
                         destinationY: y.destination, copyWidth: x.length, copyHeight: y.length)
    }

    /// Crops (and if needed zero-pads) an RGB image. Allocates the result.
    public func apply(_ image: DecodedImage) -> DecodedImage {
        let p = placement(width: image.width, height: image.height)
        var out = [UInt8](repeating: 0, count: width * height * 3)
        for row in 0..<p.copyHeight {
            let src = ((p.sourceY + row) * image.width + p.sourceX) * 3
            let dst = ((p.destinationY + row) * width + p.destinationX) * 3
            out[dst..<(dst + p.copyWidth * 3)] = image.pixels[src..<(src + p.copyWidth * 3)]
        }
        return DecodedImage(width: width, height: height, pixels: out)
    }
}
