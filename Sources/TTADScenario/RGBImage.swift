/// An 8-bit RGB image, row-major, interleaved (width × height × 3).
public struct RGBImage: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(width > 0 && height > 0 && pixels.count == width * height * 3, "RGBImage: size mismatch")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// Replicates a grey image into three channels.
    public init(grey: [UInt8], width: Int, height: Int) {
        precondition(grey.count == width * height, "RGBImage: grey size mismatch")
        var p = [UInt8](repeating: 0, count: grey.count * 3)
        for (i, g) in grey.enumerated() { p[3 * i] = g; p[3 * i + 1] = g; p[3 * i + 2] = g }
        self.init(width: width, height: height, pixels: p)
    }

    /// Bilinear resize (half-pixel centres, edge clamped), used to move an image to the working
    /// resolution before corrupting when that differs from the native 28 px.
    public func resized(width w: Int, height h: Int) -> RGBImage {
        if w == width && h == height { return self }
        var out = [UInt8](repeating: 0, count: w * h * 3)
        let sx = Double(width) / Double(w), sy = Double(height) / Double(h)
        for y in 0..<h {
            let fy = min(max((Double(y) + 0.5) * sy - 0.5, 0), Double(height - 1))
            let y0 = Int(fy), y1 = min(y0 + 1, height - 1), ty = fy - Double(y0)
            for x in 0..<w {
                let fx = min(max((Double(x) + 0.5) * sx - 0.5, 0), Double(width - 1))
                let x0 = Int(fx), x1 = min(x0 + 1, width - 1), tx = fx - Double(x0)
                for c in 0..<3 {
                    func p(_ xx: Int, _ yy: Int) -> Double { Double(pixels[(yy * width + xx) * 3 + c]) }
                    let v = (p(x0, y0) * (1 - tx) + p(x1, y0) * tx) * (1 - ty) + (p(x0, y1) * (1 - tx) + p(x1, y1) * tx) * ty
                    out[(y * w + x) * 3 + c] = UInt8(min(max(v.rounded(), 0), 255))
                }
            }
        }
        return RGBImage(width: w, height: h, pixels: out)
    }

    /// Mean absolute difference per channel value, in 0…255.
    public func meanAbsoluteDifference(_ other: RGBImage) -> Double {
        precondition(other.pixels.count == pixels.count)
        var s = 0
        for i in 0..<pixels.count { s += abs(Int(pixels[i]) - Int(other.pixels[i])) }
        return Double(s) / Double(pixels.count)
    }
}

/// Planar float working copy in [0, 1]: the corruptions are written against the reference's
/// `np.array(x) / 255.` arithmetic.
struct FloatImage {
    let width: Int
    let height: Int
    var v: [Double]  // interleaved like RGBImage

    init(_ img: RGBImage) {
        width = img.width
        height = img.height
        v = img.pixels.map { Double($0) / 255 }
    }

    /// Back to 8 bits: clip to [0, 1], scale, round to nearest. (The reference truncates with
    /// `np.uint8`, a −0.5 level bias; rounding is the unbiased choice and differs by ≤ 1 level.)
    func rgb() -> RGBImage {
        RGBImage(width: width, height: height, pixels: v.map { UInt8((min(max($0, 0), 1) * 255).rounded()) })
    }
}

/// 2-D correlation of one channel of an interleaved image with a (kw × kh) kernel, borders
/// mirrored without repeating the edge (OpenCV's default BORDER_REFLECT_101, as cv2.filter2D).
func correlate(_ src: [Double], width: Int, height: Int, channels: Int, kernel: [Double], kw: Int, kh: Int) -> [Double] {
    func reflect(_ i: Int, _ n: Int) -> Int {
        if n == 1 { return 0 }
        var i = i
        while i < 0 || i >= n { i = i < 0 ? -i : 2 * n - 2 - i }
        return i
    }
    var out = [Double](repeating: 0, count: src.count)
    let ox = kw / 2, oy = kh / 2
    for y in 0..<height {
        for x in 0..<width {
            for c in 0..<channels {
                var s = 0.0
                for j in 0..<kh {
                    let yy = reflect(y + j - oy, height)
                    for i in 0..<kw {
                        let k = kernel[j * kw + i]
                        if k == 0 { continue }
                        s += k * src[(yy * width + reflect(x + i - ox, width)) * channels + c]
                    }
                }
                out[(y * width + x) * channels + c] = s
            }
        }
    }
    return out
}
