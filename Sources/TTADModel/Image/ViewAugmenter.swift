import Foundation
import TTADEngine

/// Augmented views of one decoded image, as TPT makes them for its confidence selection
/// (`AugMixAugmenter` with `augmix=False`, the ImageNet-style sets): view 0 is the image through
/// the model's own preprocessing (resize, centre crop, normalise); every other view is
/// torchvision's `RandomResizedCrop(size)` of the *original* image — a random box of 8–100 % of
/// its area with aspect ratio in [3/4, 4/3], resized to the crop size with Pillow's BILINEAR
/// filter (torchvision's default) — then `RandomHorizontalFlip` (p = 0.5), then the same
/// normalisation. The resize is Pillow's algorithm with the horizontal pass first; Pillow 13
/// runs the vertical pass first for some shapes, which moves a pixel by at most one grey level
/// (ViewAugmenterTests).
///
/// The box follows `RandomResizedCrop.get_params` exactly (ten attempts, then the central crop
/// clamped to the ratio range; Python's round-half-to-even); the random numbers come from a
/// seeded `SplitMix64`, so views are reproducible per seed but not the same draws as torch's.
///
/// Buffers are reused; after the first image of a given size nothing is allocated. Not
/// thread-safe: one per adaptation worker.
public final class ViewAugmenter {
    /// A box of the source image: columns x..<x+width, rows y..<y+height.
    public struct Box: Equatable, Sendable {
        public var x: Int, y: Int, width: Int, height: Int
        public init(x: Int, y: Int, width: Int, height: Int) {
            self.x = x; self.y = y; self.width = width; self.height = height
        }
    }

    public let preprocessing: ImagePreprocessorConfig
    public let scale: ClosedRange<Double>
    public let ratio: ClosedRange<Double>
    private var rng: SplitMix64
    private let preprocessor: ImagePreprocessor
    private let resizer = BicubicResizer(filter: .bilinear)
    private let lookup: [Float]          // normalised value of byte v in channel c at c·256 + v
    private var cropped: [UInt8] = []
    private var resized: [UInt8] = []

    public init(preprocessing: ImagePreprocessorConfig, seed: UInt64,
                scale: ClosedRange<Double> = 0.08...1.0, ratio: ClosedRange<Double> = (3.0 / 4.0)...(4.0 / 3.0)) {
        precondition(scale.lowerBound > 0 && scale.upperBound <= 1 && ratio.lowerBound > 0, "ViewAugmenter: bad scale or ratio")
        self.preprocessing = preprocessing
        self.scale = scale
        self.ratio = ratio
        rng = SplitMix64(seed: seed)
        let p = ImagePreprocessor(config: preprocessing)
        preprocessor = p
        lookup = (0..<(3 * 256)).map { p.normalised(UInt8($0 % 256), channel: $0 / 256) }
    }

    /// Floats per view (C·H·W of the crop size).
    public var viewFloatCount: Int { preprocessor.outputCount }

    /// The next random box of a `width`×`height` image (`RandomResizedCrop.get_params`).
    public func randomBox(width: Int, height: Int) -> Box {
        precondition(width > 0 && height > 0)
        let area = Double(width * height)
        let logLow = Foundation.log(ratio.lowerBound), logHigh = Foundation.log(ratio.upperBound)
        for _ in 0..<10 {
            let targetArea = area * uniform(scale.lowerBound, scale.upperBound)
            let aspect = Foundation.exp(uniform(logLow, logHigh))
            let w = Int((targetArea * aspect).squareRoot().rounded(.toNearestOrEven))
            let h = Int((targetArea / aspect).squareRoot().rounded(.toNearestOrEven))
            if w > 0 && w <= width && h > 0 && h <= height {
                let y = integer(below: height - h + 1)
                let x = integer(below: width - w + 1)
                return Box(x: x, y: y, width: w, height: h)
            }
        }
        return Self.centralBox(width: width, height: height, ratio: ratio)
    }

    /// torchvision's fallback: the whole image, cut to the nearest allowed aspect ratio, centred.
    public static func centralBox(width: Int, height: Int, ratio: ClosedRange<Double>) -> Box {
        let inRatio = Double(width) / Double(height)
        var w = width, h = height
        if inRatio < ratio.lowerBound {
            h = Int((Double(w) / ratio.lowerBound).rounded(.toNearestOrEven))
        } else if inRatio > ratio.upperBound {
            w = Int((Double(h) * ratio.upperBound).rounded(.toNearestOrEven))
        }
        return Box(x: (width - w) / 2, y: (height - h) / 2, width: w, height: h)
    }

    /// Writes `count` views of `image` (view 0 the plain preprocessing) into `out`, view after
    /// view (`count · viewFloatCount` floats).
    public func views(of image: DecodedImage, count: Int, into out: UnsafeMutableBufferPointer<Float>) {
        precondition(count >= 1 && out.count >= count * viewFloatCount, "ViewAugmenter: output too small")
        precondition(!image.isEmpty, "ViewAugmenter: empty image")
        let n = viewFloatCount
        preprocessor.process(image, into: UnsafeMutableBufferPointer(start: out.baseAddress!, count: n))
        for v in 1..<count {
            let box = randomBox(width: image.width, height: image.height)
            let flip = uniform(0, 1) < 0.5
            view(of: image, box: box, flipped: flip,
                 into: UnsafeMutableBufferPointer(start: out.baseAddress! + v * n, count: n))
        }
    }

    /// One view from a given box: crop, bilinear resize to the crop size, optional mirror,
    /// normalise (`viewFloatCount` floats).
    public func view(of image: DecodedImage, box: Box, flipped: Bool, into out: UnsafeMutableBufferPointer<Float>) {
        precondition(box.x >= 0 && box.y >= 0 && box.width > 0 && box.height > 0
                     && box.x + box.width <= image.width && box.y + box.height <= image.height, "ViewAugmenter: box outside the image")
        let w = preprocessing.cropWidth, h = preprocessing.cropHeight
        if cropped.count < box.width * box.height * 3 { cropped = [UInt8](repeating: 0, count: box.width * box.height * 3) }
        if resized.count < w * h * 3 { resized = [UInt8](repeating: 0, count: w * h * 3) }
        image.pixels.withUnsafeBufferPointer { src in
            cropped.withUnsafeMutableBufferPointer { dst in
                for row in 0..<box.height {
                    (dst.baseAddress! + row * box.width * 3)
                        .update(from: src.baseAddress! + ((box.y + row) * image.width + box.x) * 3, count: box.width * 3)
                }
            }
        }
        cropped.withUnsafeBufferPointer { crop in
            resized.withUnsafeMutableBufferPointer { r in
                resizer.resize(source: crop.baseAddress!, width: box.width, height: box.height,
                               outputWidth: w, outputHeight: h, into: r.baseAddress!)
                // Rescale and normalise into CHW, mirroring columns for a flipped view.
                let plane = w * h
                lookup.withUnsafeBufferPointer { table in
                    for c in 0..<3 {
                        let t = table.baseAddress! + c * 256
                        let dst = out.baseAddress! + c * plane
                        for row in 0..<h {
                            let srcRow = r.baseAddress! + row * w * 3 + c
                            let dstRow = dst + row * w
                            if flipped {
                                for x in 0..<w { dstRow[w - 1 - x] = t[Int(srcRow[x * 3])] }
                            } else {
                                for x in 0..<w { dstRow[x] = t[Int(srcRow[x * 3])] }
                            }
                        }
                    }
                }
            }
        }
    }

    // MARK: - Random numbers (Python's random.uniform / randint semantics on SplitMix64)

    private func uniform(_ lo: Double, _ hi: Double) -> Double {
        lo + (hi - lo) * Double(rng.next() >> 11) / Double(1 << 53)
    }

    /// Uniform in 0..<bound.
    private func integer(below bound: Int) -> Int {
        Int(rng.next() % UInt64(bound))
    }
}
