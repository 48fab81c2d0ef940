/// CLIP image preprocessing, reproducing transformers' `CLIPImageProcessor` (PIL backend):
///
/// 1. resize so the shortest side is `shortestEdge` (Pillow bicubic, antialiased, u8 result);
/// 2. centre-crop to `cropWidth`×`cropHeight` (zero padding if the image is smaller);
/// 3. rescale: `Float(Double(v) * rescaleFactor)`;
/// 4. normalise: `(x − Float(mean[c])) / Float(std[c])` in float32;
///
/// writing float32 CHW (`[3, cropHeight, cropWidth]`, C-order) into a caller-provided buffer.
/// Steps 3–4 depend only on the byte value, so they are a per-channel 256-entry table — bit-exact
/// with the reference's float arithmetic. Only the part of the resized image that survives the
/// crop is computed. Buffers and coefficient tables are reused: after the first image of a given
/// size, `process` allocates nothing. Not thread-safe: one instance per worker.
public final class ImagePreprocessor {
    public let config: ImagePreprocessorConfig
    public let crop: CenterCrop
    private let resizer = BicubicResizer()
    /// `lookup[c * 256 + v]` = normalised value of byte `v` in channel `c`.
    private let lookup: [Float]
    private var cropBuffer: [UInt8]

    public init(config: ImagePreprocessorConfig = .openAICLIP) {
        self.config = config
        self.crop = CenterCrop(width: config.cropWidth, height: config.cropHeight)
        var lookup = [Float](repeating: 0, count: 3 * 256)
        for c in 0..<3 {
            let mean = Float(config.mean[c]), std = Float(config.std[c])
            for v in 0..<256 {
                let x = Float(Double(v) * config.rescaleFactor)
                lookup[c * 256 + v] = (x - mean) / std
            }
        }
        self.lookup = lookup
        self.cropBuffer = [UInt8](repeating: 0, count: config.cropWidth * config.cropHeight * 3)
    }

    /// `[3, cropHeight, cropWidth]`.
    public var outputShape: [Int] { [3, config.cropHeight, config.cropWidth] }
    /// Number of floats `process` writes.
    public var outputCount: Int { 3 * config.cropHeight * config.cropWidth }

    /// The normalised value a byte `value` of channel `channel` maps to.
    public func normalised(_ value: UInt8, channel: Int) -> Float { lookup[channel * 256 + Int(value)] }

    /// Preprocesses `image` into `output` (at least `outputCount` floats; CHW).
    public func process(_ image: DecodedImage, into output: UnsafeMutableBufferPointer<Float>) {
        precondition(!image.isEmpty, "ImagePreprocessor: empty image")
        precondition(output.count >= outputCount, "ImagePreprocessor: output holds \(output.count) floats, needs \(outputCount)")
        image.pixels.withUnsafeBufferPointer { src in
            process(pixels: src.baseAddress!, width: image.width, height: image.height, into: output)
        }
    }

    /// Preprocesses into `output`, resizing it to `outputCount` if needed.
    public func process(_ image: DecodedImage, into output: inout [Float]) {
        if output.count != outputCount { output = [Float](repeating: 0, count: outputCount) }
        output.withUnsafeMutableBufferPointer { process(image, into: $0) }
    }

    /// Preprocesses into a new array (allocates; prefer the `into:` forms in hot paths).
    public func process(_ image: DecodedImage) -> [Float] {
        var out = [Float]()
        process(image, into: &out)
        return out
    }

    /// Preprocesses `width`×`height` RGB u8 HWC pixels at `pixels`.
    public func process(pixels: UnsafePointer<UInt8>, width: Int, height: Int,
                        into output: UnsafeMutableBufferPointer<Float>) {
        precondition(output.count >= outputCount, "ImagePreprocessor: output holds \(output.count) floats, needs \(outputCount)")
        let placement = resizeAndCrop(pixels: pixels, width: width, height: height)
        let cw = config.cropWidth, ch = config.cropHeight, plane = cw * ch
        cropBuffer.withUnsafeBufferPointer { bytes in
        lookup.withUnsafeBufferPointer { table in
            let out = output.baseAddress!
            for c in 0..<3 {
                let t = table.baseAddress! + c * 256
                let dstPlane = out + c * plane
                if placement.copyWidth != cw || placement.copyHeight != ch {
                    dstPlane.update(repeating: t[0], count: plane)   // zero padding, normalised
                }
                for row in 0..<placement.copyHeight {
                    var s = bytes.baseAddress! + (row &* placement.copyWidth &* 3 &+ c)
                    var d = dstPlane + ((placement.destinationY &+ row) &* cw &+ placement.destinationX)
                    for _ in 0..<placement.copyWidth {
                        d.pointee = t[Int(s.pointee)]
                        s += 3
                        d += 1
                    }
                }
            }
        }}
    }

    /// The u8 RGB crop (before rescale/normalise), `cropWidth`×`cropHeight`, zero-padded where the
    /// resized image is smaller than the crop. For tests and debugging; allocates.
    public func resizedCrop(_ image: DecodedImage) -> DecodedImage {
        let placement = image.pixels.withUnsafeBufferPointer {
            resizeAndCrop(pixels: $0.baseAddress!, width: image.width, height: image.height)
        }
        let cw = config.cropWidth, ch = config.cropHeight
        var out = [UInt8](repeating: 0, count: cw * ch * 3)
        for row in 0..<placement.copyHeight {
            let src = row * placement.copyWidth * 3
            let dst = ((placement.destinationY + row) * cw + placement.destinationX) * 3
            out[dst..<(dst + placement.copyWidth * 3)] = cropBuffer[src..<(src + placement.copyWidth * 3)]
        }
        return DecodedImage(width: cw, height: ch, pixels: out)
    }

    /// Resizes and writes the surviving window, packed (`copyWidth * 3` bytes per row), into `cropBuffer`.
    private func resizeAndCrop(pixels: UnsafePointer<UInt8>, width: Int, height: Int) -> CenterCrop.Placement {
        precondition(width > 0 && height > 0, "ImagePreprocessor: empty image")
        let size = config.resizedSize(width: width, height: height)
        let placement = crop.placement(width: size.width, height: size.height)
        let window = BicubicResizer.Window(x: placement.sourceX, y: placement.sourceY,
                                           width: placement.copyWidth, height: placement.copyHeight)
        let resizer = self.resizer
        cropBuffer.withUnsafeMutableBufferPointer { dst in
            resizer.resize(source: pixels, width: width, height: height,
                           outputWidth: size.width, outputHeight: size.height, window: window,
                           into: dst.baseAddress!)
        }
        return placement
    }
}
