import Foundation
import TTADEngine

/// RoTTA's strong augmentation `A_strong` — CoTTA's `get_tta_transforms()` (qinenergy/cotta
/// `cifar/cotta.py`, copied by BIT-DA/RoTTA as `core/utils/custom_transforms.py`), on one square
/// image in the model's input space:
///
/// 1. `Clip(0, 1)`;
/// 2. `ColorJitterPro`: brightness [0.6, 1.4], contrast [0.7, 1.3], saturation [0.5, 1.5],
///    hue [−0.06, 0.06], gamma [0.7, 1.3], applied in a random order (`torch.randperm(5)`), each
///    factor drawn when its op is reached; gamma first clamps to [1e−8, 1] as CoTTA does;
/// 3. `Pad(⌊S/2⌋, mode edge)`, giving a P×P image (P = S + 2⌊S/2⌋);
/// 4. `RandomAffine(degrees ±15, translate 1/16, scale [0.9, 1.1], no shear, bilinear, fill 0)` —
///    the translation bound is 1/16 of the *padded* side, rounded to whole pixels (Python `round`);
/// 5. `GaussianBlur(kernel 5, sigma [0.001, 0.5])`, reflect padding at the padded border;
/// 6. `CenterCrop(S)` — which, with the padding above, is exactly the original image's footprint;
/// 7. `RandomHorizontalFlip(0.5)`; 8. `GaussianNoise(0, 0.005)`; 9. `Clip(0, 1)`.
///
/// The per-op functions follow torchvision 0.11's tensor path (`functional_tensor`), the version
/// CoTTA and RoTTA pin: `_blend` with clamping for brightness / contrast / saturation, contrast
/// about the mean of the ITU-R 601 grey (0.2989, 0.587, 0.114) of the whole image, hue through
/// torchvision's own RGB↔HSV, `(x^γ).clamp(0, 1)`, the affine's inverse matrix about the image
/// centre (`_get_inverse_affine_matrix`, angle clockwise) sampled as `grid_sample(bilinear,
/// zeros, align_corners=False)`, and the fill-0 path's coverage mask (`img·mask + (1−mask)·0`,
/// so a half-covered border pixel is attenuated by its coverage twice, as torchvision does), the
/// blur kernel `exp(−x²/2σ²)` on `linspace(−2, 2, 5)`, normalised.
///
/// Pad + affine + blur + crop are fused: the affine is evaluated by inverse mapping only on the
/// crop window grown by the blur radius (edge-clamped reads inside the padded square, zero
/// outside, as padding then warping computes), then a "valid" separable 5-tap blur gives the
/// crop. This is exact as long as the grown window lies inside the padded square (⌊S/2⌋ ≥ 2,
/// i.e. S ≥ 4, checked), so the blur's reflect padding never reaches it.
///
/// Input/output: `augment` takes the model-normalised CHW view (`[3, S, S]`, what
/// `ImagePreprocessor` writes), de-normalises it with the config's mean/std, augments in [0, 1]
/// and writes the normalised augmented view; `augmentUnitRange` is the same on un-normalised
/// [0, 1] images. Input and output may be the same memory (the input is read fully first).
///
/// Differences from CoTTA/RoTTA:
/// - random numbers come from a seeded `SplitMix64`, not torch's generator (reproducible per seed,
///   not the same draws); normal draws are Box–Muller pairs;
/// - CoTTA/RoTTA call the transform on a whole batch tensor, so one set of colour, affine, blur and
///   flip parameters is drawn per *batch* (only the noise is per element). `augment(_:into:)`
///   draws per image; to reproduce the per-batch behaviour call `drawParameters()` once and
///   `augment(_:parameters:into:)` for each image;
/// - arithmetic is float32 with Double coordinates and reductions; the 2-D blur is done as two
///   1-D passes (same kernel, rounding differs at the last bit);
/// - a kernel for σ = 0 is the identity (torchvision requires σ > 0).
///
/// All buffers are allocated in `init`; nothing is allocated per call. Not thread-safe: one
/// instance per adaptation worker.
public final class StrongAugmenter {
    /// The five colour ops of `ColorJitterPro`, numbered as its `fn_idx`.
    public enum ColourOp: UInt8, CaseIterable, Sendable {
        case brightness = 0, contrast, saturation, hue, gamma
    }

    /// A permutation of the five colour ops (stored inline: drawing one allocates nothing).
    public struct ColourOrder: Sendable, Equatable {
        private var lanes: SIMD8<UInt8>

        public static let count = 5
        /// brightness, contrast, saturation, hue, gamma.
        public static let natural = ColourOrder(lanes: SIMD8(0, 1, 2, 3, 4, 5, 6, 7))

        public init(_ ops: [ColourOp]) {
            precondition(ops.count == Self.count && Set(ops).count == Self.count, "ColourOrder: need each of the five ops once")
            var l = SIMD8<UInt8>(0, 1, 2, 3, 4, 5, 6, 7)
            for (i, op) in ops.enumerated() { l[i] = op.rawValue }
            lanes = l
        }

        fileprivate init(lanes: SIMD8<UInt8>) { self.lanes = lanes }

        public subscript(index: Int) -> ColourOp {
            precondition(index >= 0 && index < Self.count)
            return ColourOp(rawValue: lanes[index])!
        }

        public var ops: [ColourOp] { (0..<Self.count).map { self[$0] } }
    }

    /// The ranges parameters are drawn from. Defaults are CoTTA's (`soft=False`), which RoTTA uses.
    public struct Ranges: Sendable, Equatable {
        public var brightness: ClosedRange<Double>
        public var contrast: ClosedRange<Double>
        public var saturation: ClosedRange<Double>
        public var hue: ClosedRange<Double>
        public var gamma: ClosedRange<Double>
        /// Rotation in degrees (clockwise positive, torchvision's `F.affine`).
        public var degrees: ClosedRange<Double>
        /// Largest translation as a fraction of the padded side, per axis.
        public var translate: Double
        public var scale: ClosedRange<Double>
        /// Odd; the blur radius `blurKernelSize / 2` may not exceed the padding ⌊S/2⌋.
        public var blurKernelSize: Int
        public var blurSigma: ClosedRange<Double>
        public var flipProbability: Double
        /// Standard deviation of the additive Gaussian noise (in [0, 1] pixel units).
        public var noiseStd: Double

        public init(brightness: ClosedRange<Double> = 0.6...1.4, contrast: ClosedRange<Double> = 0.7...1.3,
                    saturation: ClosedRange<Double> = 0.5...1.5, hue: ClosedRange<Double> = -0.06...0.06,
                    gamma: ClosedRange<Double> = 0.7...1.3, degrees: ClosedRange<Double> = -15...15,
                    translate: Double = 1.0 / 16.0, scale: ClosedRange<Double> = 0.9...1.1,
                    blurKernelSize: Int = 5, blurSigma: ClosedRange<Double> = 0.001...0.5,
                    flipProbability: Double = 0.5, noiseStd: Double = 0.005) {
            precondition(brightness.lowerBound >= 0 && contrast.lowerBound >= 0 && saturation.lowerBound >= 0
                         && gamma.lowerBound >= 0, "StrongAugmenter.Ranges: colour factors must be non-negative")
            precondition(hue.lowerBound >= -0.5 && hue.upperBound <= 0.5, "StrongAugmenter.Ranges: hue must lie in [-0.5, 0.5]")
            precondition(translate >= 0 && translate <= 1 && scale.lowerBound > 0, "StrongAugmenter.Ranges: bad translate or scale")
            precondition(blurKernelSize > 0 && blurKernelSize % 2 == 1 && blurSigma.lowerBound >= 0,
                         "StrongAugmenter.Ranges: blur kernel must be odd and sigma non-negative")
            precondition((0...1).contains(flipProbability) && noiseStd >= 0, "StrongAugmenter.Ranges: bad flip probability or noise")
            self.brightness = brightness; self.contrast = contrast; self.saturation = saturation
            self.hue = hue; self.gamma = gamma; self.degrees = degrees; self.translate = translate
            self.scale = scale; self.blurKernelSize = blurKernelSize; self.blurSigma = blurSigma
            self.flipProbability = flipProbability; self.noiseStd = noiseStd
        }

        /// CoTTA's `get_tta_transforms(soft=False)` — RoTTA's strong augmentation.
        public static let cotta = Ranges()
        /// CoTTA's `soft=True` variant (not used by CoTTA's or RoTTA's experiments).
        public static let cottaSoft = Ranges(brightness: 0.8...1.2, contrast: 0.85...1.15, saturation: 0.75...1.25,
                                             hue: -0.03...0.03, gamma: 0.85...1.15, degrees: -8...8,
                                             scale: 0.95...1.05, blurSigma: 0.001...0.25)
    }

    /// One draw of everything but the noise.
    public struct Parameters: Sendable, Equatable {
        public var colourOrder: ColourOrder
        public var brightness: Float
        public var contrast: Float
        public var saturation: Float
        public var hue: Float
        public var gamma: Float
        /// Degrees, clockwise.
        public var angle: Double
        /// Whole pixels (RandomAffine rounds its translation).
        public var translateX: Int
        public var translateY: Int
        public var scale: Double
        public var sigma: Double
        public var flip: Bool

        /// Defaults leave the image unchanged (but for gamma's clamp of 0 to 1e−8).
        public init(colourOrder: ColourOrder = .natural, brightness: Float = 1, contrast: Float = 1, saturation: Float = 1,
                    hue: Float = 0, gamma: Float = 1, angle: Double = 0, translateX: Int = 0, translateY: Int = 0,
                    scale: Double = 1, sigma: Double = 0, flip: Bool = false) {
            self.colourOrder = colourOrder; self.brightness = brightness; self.contrast = contrast
            self.saturation = saturation; self.hue = hue; self.gamma = gamma; self.angle = angle
            self.translateX = translateX; self.translateY = translateY; self.scale = scale
            self.sigma = sigma; self.flip = flip
        }

        public static let identity = Parameters()
    }

    public let preprocessing: ImagePreprocessorConfig
    public let ranges: Ranges
    /// Side S of the (square) model input.
    public let size: Int
    /// ⌊S/2⌋, CoTTA's `int(n_pixels / 2)`.
    public var padding: Int { size / 2 }
    /// Side of the edge-padded image the affine acts on.
    public var paddedSize: Int { size + 2 * padding }
    /// Floats per view, 3·S·S.
    public var floatCount: Int { 3 * size * size }

    private var rng: SplitMix64
    private let mean: [Float]
    private let std: [Float]
    private var colour: [Float]      // [3, S, S] working image
    private var window: [Float]      // [3, S+2r, S+2r] affine output around the crop
    private var rowPass: [Float]     // [S+2r, S] one channel after the horizontal blur pass
    private var kernel: [Float]      // blurKernelSize taps

    public init(preprocessing: ImagePreprocessorConfig, seed: UInt64, ranges: Ranges = .cotta) {
        precondition(preprocessing.cropWidth == preprocessing.cropHeight, "StrongAugmenter: the model input must be square")
        let s = preprocessing.cropWidth
        let r = ranges.blurKernelSize / 2
        precondition(s / 2 >= r && s >= 2, "StrongAugmenter: image side must be at least twice the blur radius")
        self.preprocessing = preprocessing
        self.ranges = ranges
        size = s
        rng = SplitMix64(seed: seed)
        mean = preprocessing.mean.map { Float($0) }
        std = preprocessing.std.map { Float($0) }
        let w = s + 2 * r
        colour = [Float](repeating: 0, count: 3 * s * s)
        window = [Float](repeating: 0, count: 3 * w * w)
        rowPass = [Float](repeating: 0, count: w * s)
        kernel = [Float](repeating: 0, count: ranges.blurKernelSize)
    }

    // MARK: - Drawing

    /// The next parameters, drawn in torch's order: colour permutation, the colour factors in
    /// that order, angle, translation x then y, scale, blur sigma, flip.
    public func drawParameters() -> Parameters {
        var p = Parameters()
        var lanes = SIMD8<UInt8>(0, 1, 2, 3, 4, 5, 6, 7)
        for i in stride(from: ColourOrder.count - 1, to: 0, by: -1) {     // Fisher–Yates
            let j = integer(below: i + 1)
            let t = lanes[i]; lanes[i] = lanes[j]; lanes[j] = t
        }
        p.colourOrder = ColourOrder(lanes: lanes)
        for i in 0..<ColourOrder.count {
            switch p.colourOrder[i] {
            case .brightness: p.brightness = Float(uniform(ranges.brightness))
            case .contrast: p.contrast = Float(uniform(ranges.contrast))
            case .saturation: p.saturation = Float(uniform(ranges.saturation))
            case .hue: p.hue = Float(uniform(ranges.hue))
            case .gamma: p.gamma = Float(uniform(ranges.gamma))
            }
        }
        p.angle = uniform(ranges.degrees)
        let maxD = ranges.translate * Double(paddedSize)
        p.translateX = Int(uniform(-maxD...maxD).rounded(.toNearestOrEven))
        p.translateY = Int(uniform(-maxD...maxD).rounded(.toNearestOrEven))
        p.scale = uniform(ranges.scale)
        p.sigma = uniform(ranges.blurSigma)
        p.flip = uniform(0...1) < ranges.flipProbability
        return p
    }

    // MARK: - Whole pipeline

    /// One augmented view of a model-normalised `[3, S, S]` view, written normalised.
    public func augment(_ view: UnsafeBufferPointer<Float>, into out: UnsafeMutableBufferPointer<Float>) {
        augment(view, parameters: drawParameters(), into: out)
    }

    /// As `augment(_:into:)` with given parameters (the noise is still drawn).
    public func augment(_ view: UnsafeBufferPointer<Float>, parameters: Parameters, into out: UnsafeMutableBufferPointer<Float>) {
        precondition(view.count >= floatCount && out.count >= floatCount, "StrongAugmenter: buffers must hold 3·S·S floats")
        let n = size * size
        colour.withUnsafeMutableBufferPointer { c in
            for ch in 0..<3 {
                let m = mean[ch], sd = std[ch]
                for i in 0..<n { c[ch * n + i] = view[ch * n + i] * sd + m }
            }
        }
        run(parameters, into: out.baseAddress!)
        for ch in 0..<3 {
            let m = mean[ch], sd = std[ch]
            for i in 0..<n { out[ch * n + i] = (out[ch * n + i] - m) / sd }
        }
    }

    /// The pipeline on an un-normalised `[3, S, S]` image in [0, 1]; the output is in [0, 1].
    public func augmentUnitRange(_ image: UnsafeBufferPointer<Float>, parameters: Parameters,
                                 into out: UnsafeMutableBufferPointer<Float>) {
        precondition(image.count >= floatCount && out.count >= floatCount, "StrongAugmenter: buffers must hold 3·S·S floats")
        colour.withUnsafeMutableBufferPointer { c in
            for i in 0..<floatCount { c[i] = image[i] }
        }
        run(parameters, into: out.baseAddress!)
    }

    /// As `augmentUnitRange(_:parameters:into:)` with freshly drawn parameters.
    public func augmentUnitRange(_ image: UnsafeBufferPointer<Float>, into out: UnsafeMutableBufferPointer<Float>) {
        augmentUnitRange(image, parameters: drawParameters(), into: out)
    }

    /// `colour` (un-normalised input) → `out` (un-normalised, clipped).
    private func run(_ p: Parameters, into out: UnsafeMutablePointer<Float>) {
        let s = size, n = s * s, r = ranges.blurKernelSize / 2
        colour.withUnsafeMutableBufferPointer { cb in
            let c = cb.baseAddress!
            Self.clip(c, count: 3 * n)
            for i in 0..<ColourOrder.count {
                switch p.colourOrder[i] {
                case .brightness: Self.adjustBrightness(c, count: 3 * n, factor: p.brightness)
                case .contrast: Self.adjustContrast(c, pixelCount: n, factor: p.contrast)
                case .saturation: Self.adjustSaturation(c, pixelCount: n, factor: p.saturation)
                case .hue: Self.adjustHue(c, pixelCount: n, factor: p.hue)
                case .gamma: Self.adjustGamma(c, count: 3 * n, gamma: p.gamma)
                }
            }
            window.withUnsafeMutableBufferPointer { wb in
                Self.padAffineCrop(c, size: s, padding: padding, margin: r, angle: p.angle,
                                   translateX: p.translateX, translateY: p.translateY, scale: p.scale, into: wb.baseAddress!)
                kernel.withUnsafeMutableBufferPointer { k in
                    Self.gaussianKernel(sigma: p.sigma, into: k)
                    rowPass.withUnsafeMutableBufferPointer { t in
                        Self.blurValid(wb.baseAddress!, size: s, kernel: UnsafeBufferPointer(k), scratch: t.baseAddress!, into: out)
                    }
                }
            }
        }
        if p.flip { Self.flipHorizontally(out, size: s) }
        addGaussianNoise(out, count: 3 * n, std: Float(ranges.noiseStd))
        Self.clip(out, count: 3 * n)
    }

    // MARK: - Colour ops (torchvision functional_tensor; CHW planes of `pixelCount` floats)

    static func clip(_ img: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { img[i] = min(max(img[i], 0), 1) }
    }

    /// `_blend(img, 0, f)`: `f·x` clamped to [0, 1].
    static func adjustBrightness(_ img: UnsafeMutablePointer<Float>, count: Int, factor: Float) {
        for i in 0..<count { img[i] = min(max(factor * img[i], 0), 1) }
    }

    /// `_blend(img, mean, f)` with `mean` the mean grey level of the whole image.
    static func adjustContrast(_ img: UnsafeMutablePointer<Float>, pixelCount n: Int, factor: Float) {
        var sum = 0.0
        for i in 0..<n { sum += Double(grey(img[i], img[n + i], img[2 * n + i])) }
        let blend = (1 - factor) * Float(sum / Double(n))
        for i in 0..<(3 * n) { img[i] = min(max(factor * img[i] + blend, 0), 1) }
    }

    /// `_blend(img, grey(img), f)` per pixel.
    static func adjustSaturation(_ img: UnsafeMutablePointer<Float>, pixelCount n: Int, factor: Float) {
        for i in 0..<n {
            let g = (1 - factor) * grey(img[i], img[n + i], img[2 * n + i])
            for c in 0..<3 { img[c * n + i] = min(max(factor * img[c * n + i] + g, 0), 1) }
        }
    }

    /// Hue rotated by `factor` turns (`(h + f) mod 1`) in torchvision's HSV.
    static func adjustHue(_ img: UnsafeMutablePointer<Float>, pixelCount n: Int, factor: Float) {
        for i in 0..<n {
            let (h0, s, v) = rgbToHSV(img[i], img[n + i], img[2 * n + i])
            var h = h0 + factor
            h -= h.rounded(.down)
            let (r, g, b) = hsvToRGB(h, s, v)
            img[i] = r; img[n + i] = g; img[2 * n + i] = b
        }
    }

    /// CoTTA's `clamp(1e-8, 1)` then `adjust_gamma`: `x^γ` clamped to [0, 1].
    static func adjustGamma(_ img: UnsafeMutablePointer<Float>, count: Int, gamma: Float) {
        for i in 0..<count { img[i] = min(max(powf(min(max(img[i], 1e-8), 1), gamma), 0), 1) }
    }

    /// `rgb_to_grayscale`.
    @inline(__always) static func grey(_ r: Float, _ g: Float, _ b: Float) -> Float {
        0.2989 * r + 0.587 * g + 0.114 * b
    }

    /// torchvision's `_rgb2hsv`.
    static func rgbToHSV(_ r: Float, _ g: Float, _ b: Float) -> (Float, Float, Float) {
        let maxc = max(r, g, b), minc = min(r, g, b)
        let equal = maxc == minc
        let cr = maxc - minc
        let s = cr / (equal ? 1 : maxc)
        let d: Float = equal ? 1 : cr
        let rc = (maxc - r) / d, gc = (maxc - g) / d, bc = (maxc - b) / d
        let h: Float
        if maxc == r { h = bc - gc } else if maxc == g { h = 2 + rc - bc } else { h = 4 + gc - rc }
        return (fmodf(h / 6 + 1, 1), s, maxc)
    }

    /// torchvision's `_hsv2rgb`.
    static func hsvToRGB(_ h: Float, _ s: Float, _ v: Float) -> (Float, Float, Float) {
        let i6 = (h * 6).rounded(.down)
        let f = h * 6 - i6
        let p = min(max(v * (1 - s), 0), 1)
        let q = min(max(v * (1 - s * f), 0), 1)
        let t = min(max(v * (1 - s * (1 - f)), 0), 1)
        var i = Int(i6) % 6
        if i < 0 { i += 6 }
        switch i {
        case 0: return (v, t, p)
        case 1: return (q, v, p)
        case 2: return (p, v, t)
        case 3: return (p, q, v)
        case 4: return (t, p, v)
        default: return (v, p, q)
        }
    }

    // MARK: - Geometry

    /// Edge pad by `padding`, `F.affine` about the padded image's centre (inverse matrix of
    /// torchvision's `_get_inverse_affine_matrix` with shear 0, bilinear `grid_sample` with
    /// `align_corners=False`, fill 0 through the coverage mask), then the window of side
    /// S + 2·`margin` centred on the original image's footprint (`CenterCrop(S)` grown by
    /// `margin` on every side). `src` is `[3, S, S]`, `dst` `[3, S+2m, S+2m]`.
    static func padAffineCrop(_ src: UnsafePointer<Float>, size s: Int, padding pad: Int, margin m: Int,
                              angle: Double, translateX: Int, translateY: Int, scale: Double,
                              into dst: UnsafeMutablePointer<Float>) {
        precondition(m >= 0 && m <= pad && scale > 0)
        let p = s + 2 * pad, w = s + 2 * m
        let plane = s * s, outPlane = w * w
        let rad = angle * Double.pi / 180
        let cosA = Foundation.cos(rad), sinA = Foundation.sin(rad)
        // Output → input, both relative to the padded centre in pixel units.
        let a = cosA / scale, b = sinA / scale, d = -sinA / scale, e = cosA / scale
        let tx = Double(translateX), ty = Double(translateY)
        let c = -(a * tx + b * ty), f = -(d * tx + e * ty)
        let half = Double(p) * 0.5
        for wy in 0..<w {
            let yOut = Double(pad - m + wy) + 0.5 - half
            for wx in 0..<w {
                let xOut = Double(pad - m + wx) + 0.5 - half
                // Continuous pixel coordinates in the padded image (pixel k's centre at k).
                let px = a * xOut + b * yOut + c + half - 0.5
                let py = d * xOut + e * yOut + f + half - 0.5
                let fx0 = px.rounded(.down), fy0 = py.rounded(.down)
                let x0 = Int(fx0), y0 = Int(fy0)
                let fx = Float(px - fx0), fy = Float(py - fy0)
                var v0: Float = 0, v1: Float = 0, v2: Float = 0, cover: Float = 0
                for dy in 0..<2 {
                    let yy = y0 + dy
                    if yy < 0 || yy >= p { continue }
                    let wyt = dy == 0 ? 1 - fy : fy
                    let sy = min(max(yy - pad, 0), s - 1)
                    for dx in 0..<2 {
                        let xx = x0 + dx
                        if xx < 0 || xx >= p { continue }
                        let wt = wyt * (dx == 0 ? 1 - fx : fx)
                        let idx = sy * s + min(max(xx - pad, 0), s - 1)
                        v0 += wt * src[idx]; v1 += wt * src[plane + idx]; v2 += wt * src[2 * plane + idx]
                        cover += wt
                    }
                }
                let o = wy * w + wx
                dst[o] = v0 * cover; dst[outPlane + o] = v1 * cover; dst[2 * outPlane + o] = v2 * cover
            }
        }
    }

    /// `_get_gaussian_kernel1d`: `exp(−x²/2σ²)` at `linspace(−r, r, k)`, normalised; σ = 0 is
    /// the identity kernel.
    static func gaussianKernel(sigma: Double, into k: UnsafeMutableBufferPointer<Float>) {
        let n = k.count, r = (n - 1) / 2
        if sigma <= 0 {
            for i in 0..<n { k[i] = i == r ? 1 : 0 }
            return
        }
        let sg = Float(sigma)
        var sum: Float = 0
        for i in 0..<n {
            let x = Float(i - r) / sg
            k[i] = expf(-0.5 * x * x)
            sum += k[i]
        }
        for i in 0..<n { k[i] /= sum }
    }

    /// "Valid" separable convolution with `kernel` (k taps) in both directions:
    /// `[3, S+k−1, S+k−1]` → `[3, S, S]`; `scratch` holds (S+k−1)·S floats.
    static func blurValid(_ src: UnsafePointer<Float>, size s: Int, kernel: UnsafeBufferPointer<Float>,
                          scratch: UnsafeMutablePointer<Float>, into dst: UnsafeMutablePointer<Float>) {
        // Taps outermost, pixels innermost: each output still sums its taps in order from 0
        // (the same floats as a per-pixel loop), but the pixel loop has no carried dependency
        // and vectorises — a per-pixel tap loop is bound by the add latency.
        let k = kernel.count, w = s + k - 1
        for c in 0..<3 {
            let sp = src + c * w * w, dp = dst + c * s * s
            for y in 0..<w {
                let row = scratch + y * s, input = sp + y * w
                for x in 0..<s { row[x] = 0 }
                for j in 0..<k {
                    let kj = kernel[j], shifted = input + j
                    for x in 0..<s { row[x] += kj * shifted[x] }
                }
            }
            for y in 0..<s {
                let out = dp + y * s
                for x in 0..<s { out[x] = 0 }
                for i in 0..<k {
                    let ki = kernel[i], input = scratch + (y + i) * s
                    for x in 0..<s { out[x] += ki * input[x] }
                }
            }
        }
    }

    /// torchvision's `gaussian_blur` on its own (reflect padding) — the op as CoTTA would apply it
    /// to a lone image; the pipeline uses `blurValid` on the warped window instead. Allocates.
    static func gaussianBlurReflect(_ img: UnsafePointer<Float>, size s: Int, sigma: Double, kernelSize: Int = 5) -> [Float] {
        let r = kernelSize / 2, w = s + 2 * r
        precondition(r < s, "reflect padding needs the image wider than the blur radius")
        var padded = [Float](repeating: 0, count: 3 * w * w)
        func reflect(_ i: Int) -> Int { i < 0 ? -i : (i >= s ? 2 * (s - 1) - i : i) }
        for c in 0..<3 { for y in 0..<w { for x in 0..<w {
            padded[c * w * w + y * w + x] = img[c * s * s + reflect(y - r) * s + reflect(x - r)]
        } } }
        var k = [Float](repeating: 0, count: kernelSize)
        k.withUnsafeMutableBufferPointer { gaussianKernel(sigma: sigma, into: $0) }
        var scratch = [Float](repeating: 0, count: w * s)
        var out = [Float](repeating: 0, count: 3 * s * s)
        padded.withUnsafeBufferPointer { pb in
            k.withUnsafeBufferPointer { kb in
                scratch.withUnsafeMutableBufferPointer { sb in
                    out.withUnsafeMutableBufferPointer { ob in
                        blurValid(pb.baseAddress!, size: s, kernel: kb, scratch: sb.baseAddress!, into: ob.baseAddress!)
                    }
                }
            }
        }
        return out
    }

    /// Mirrors the columns of each of the three S×S planes.
    static func flipHorizontally(_ img: UnsafeMutablePointer<Float>, size s: Int) {
        for row in 0..<(3 * s) {
            let r = img + row * s
            var i = 0, j = s - 1
            while i < j { let t = r[i]; r[i] = r[j]; r[j] = t; i += 1; j -= 1 }
        }
    }

    // MARK: - Noise and random numbers

    /// Adds N(0, std²) to every value (Box–Muller, both halves of each pair used).
    func addGaussianNoise(_ img: UnsafeMutablePointer<Float>, count: Int, std: Float) {
        guard std > 0 else { return }
        var i = 0
        while i < count {
            let u1 = Float((rng.next() >> 40) + 1) / Float(1 << 24)     // (0, 1]
            let u2 = Float(rng.next() >> 40) / Float(1 << 24)           // [0, 1)
            let radius = (-2 * logf(u1)).squareRoot() * std
            let theta = 2 * Float.pi * u2
            img[i] += radius * cosf(theta)
            if i + 1 < count { img[i + 1] += radius * sinf(theta) }
            i += 2
        }
    }

    private func uniform(_ range: ClosedRange<Double>) -> Double {
        range.lowerBound + (range.upperBound - range.lowerBound) * Double(rng.next() >> 11) / Double(1 << 53)
    }

    /// Uniform in 0..<bound.
    private func integer(below bound: Int) -> Int {
        Int(rng.next() % UInt64(bound))
    }
}
