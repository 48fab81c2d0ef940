/// Pillow's resampling filters that ttad uses: BICUBIC (CLIP's preprocessing) and BILINEAR
/// (torchvision's default for `RandomResizedCrop` on PIL images, i.e. TPT's augmented views).
public enum ResampleFilter: Sendable, Equatable {
    case bicubic
    case bilinear

    /// Pillow's support radius, before stretching by the downscale factor.
    var support: Double {
        switch self {
        case .bicubic: 2.0
        case .bilinear: 1.0
        }
    }

    @inline(__always)
    func weight(_ t: Double) -> Double {
        switch self {
        case .bicubic: return ResampleCoefficients.bicubic(t)
        case .bilinear:
            let x = abs(t)
            return x < 1.0 ? 1.0 - x : 0.0
        }
    }
}

/// Fixed-point filter weights for resampling one axis from `inputSize` to `outputSize` samples,
/// computed exactly as Pillow's `ImagingResample` does for an 8-bit image with the BICUBIC filter
/// (or BILINEAR, the triangle filter with support 1, by the same rules).
///
/// Pillow's bicubic is the Keys kernel with a = −0.5 and support 2, *stretched by the downscale
/// factor* when shrinking (so it low-passes / antialiases), unstretched when enlarging:
///
///     scale       = in / out                   filterscale = max(scale, 1)
///     support     = 2 · filterscale            center(i)   = (i + 0.5) · scale
///     first(i)    = max(0, trunc(center − support + 0.5))
///     end(i)      = min(in, trunc(center + support + 0.5))
///     w_j         = K((j − center + 0.5) / filterscale), j in first..<end, then w /= Σw
///
/// and the normalised double weights become integers with 22 fraction bits
/// (round half away from zero). A pass then computes, per output sample,
/// `clamp((2²¹ + Σ in_j · W_j) >> 22, 0, 255)` — i.e. rounds and clamps back to u8.
struct ResampleCoefficients: Sendable {
    static let precisionBits = 22

    let inputSize: Int
    let outputSize: Int
    let filter: ResampleFilter
    /// Taps per output sample (the stride of `weights`).
    let kernelSize: Int
    /// Per output sample: first input index and the number of taps used.
    let first: [Int32]
    let count: [Int32]
    /// `outputSize × kernelSize` fixed-point weights (unused taps are 0).
    let weights: [Int32]

    /// Keys' cubic convolution kernel with a = −0.5 (Pillow's `bicubic_filter`).
    @inline(__always)
    static func bicubic(_ t: Double) -> Double {
        let a = -0.5
        let x = abs(t)
        if x < 1.0 { return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0 }
        if x < 2.0 { return (((x - 5.0) * x + 8.0) * x - 4.0) * a }
        return 0.0
    }

    init(inputSize: Int, outputSize: Int, filter: ResampleFilter = .bicubic) {
        precondition(inputSize > 0 && outputSize > 0)
        self.inputSize = inputSize
        self.outputSize = outputSize
        self.filter = filter
        let scale = Double(inputSize) / Double(outputSize)
        let filterScale = max(scale, 1.0)
        let support = filter.support * filterScale
        let kernelSize = Int(support.rounded(.up)) * 2 + 1
        self.kernelSize = kernelSize

        var first = [Int32](repeating: 0, count: outputSize)
        var count = [Int32](repeating: 0, count: outputSize)
        var weights = [Int32](repeating: 0, count: outputSize * kernelSize)
        var k = [Double](repeating: 0, count: kernelSize)
        let inverseScale = 1.0 / filterScale
        let one = Double(1 << Self.precisionBits)
        for i in 0..<outputSize {
            let center = (Double(i) + 0.5) * scale
            var lo = Int(center - support + 0.5)      // truncation toward zero, as C's (int)
            if lo < 0 { lo = 0 }
            var hi = Int(center + support + 0.5)
            if hi > inputSize { hi = inputSize }
            let n = hi - lo
            var sum = 0.0
            for j in 0..<n {
                let w = filter.weight((Double(j + lo) - center + 0.5) * inverseScale)
                k[j] = w
                sum += w
            }
            for j in 0..<n where sum != 0.0 { k[j] /= sum }
            for j in 0..<n {
                let w = k[j]
                weights[i * kernelSize + j] = w < 0 ? Int32(-0.5 + w * one) : Int32(0.5 + w * one)
            }
            first[i] = Int32(lo)
            count[i] = Int32(n)
        }
        self.first = first
        self.count = count
        self.weights = weights
    }
}
