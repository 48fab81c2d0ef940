#if canImport(Glibc)
import Glibc
#endif

/// Blur family.
enum Blur {
    /// The reference's `disk(radius, alias_blur)`: an aliased disk {X²+Y² ≤ r²} on a 17×17 grid
    /// (radius ≤ 8), normalised, then smoothed by a 3×3 Gaussian of sigma `alias` (cv2.GaussianBlur)
    /// to anti-alias it. Returned trimmed to its non-zero support (the zero border changes nothing).
    static func diskKernel(radius: Double, alias: Double) -> (k: [Double], size: Int) {
        let half = radius <= 8 ? 8 : Int(radius)
        let n = 2 * half + 1
        var disk = [Double](repeating: 0, count: n * n)
        for y in 0..<n {
            for x in 0..<n {
                let dx = Double(x - half), dy = Double(y - half)
                if dx * dx + dy * dy <= radius * radius { disk[y * n + x] = 1 }
            }
        }
        let total = disk.reduce(0, +)
        disk = disk.map { $0 / total }
        let ks = radius <= 8 ? 3 : 5
        var g = (0..<ks).map { i -> Double in
            let d = Double(i - ks / 2)
            return exp(-d * d / (2 * alias * alias))
        }
        let gs = g.reduce(0, +)
        g = g.map { $0 / gs }
        var g2 = [Double](repeating: 0, count: ks * ks)
        for j in 0..<ks { for i in 0..<ks { g2[j * ks + i] = g[j] * g[i] } }
        let smooth = correlate(disk, width: n, height: n, channels: 1, kernel: g2, kw: ks, kh: ks)
        // Trim: the kernel is symmetric, so find the largest ring offset with any weight > 0.
        var r = 0
        for y in 0..<n { for x in 0..<n where smooth[y * n + x] > 1e-12 { r = max(r, abs(x - half), abs(y - half)) } }
        let m = 2 * r + 1
        var k = [Double](repeating: 0, count: m * m)
        for y in 0..<m { for x in 0..<m { k[y * m + x] = smooth[(y + half - r) * n + (x + half - r)] } }
        return (k, m)
    }

    /// cv2.filter2D of each channel with the disk kernel (BORDER_REFLECT_101).
    static func defocus(_ img: RGBImage, radius: Double, alias: Double) -> RGBImage {
        var f = FloatImage(img)
        let (k, m) = diskKernel(radius: radius, alias: alias)
        f.v = correlate(f.v, width: f.width, height: f.height, channels: 3, kernel: k, kw: m, kh: m)
        return f.rgb()
    }

    /// ImageMagick's MotionBlurImage(radius, sigma, angle), which ImageNet-C calls through Wand:
    /// a one-sided kernel of width 2·⌈radius⌉+1 with half-Gaussian weights exp(−i²/2σ²),
    /// normalised, sampling the pixel i steps along the angle (offsets rounded as ImageMagick
    /// rounds them), edge pixels replicated beyond the border (ImageMagick's default virtual
    /// pixels). Differences from the reference: ImageMagick works in 16-bit quanta and
    /// round-trips through PNG; we work in Double and round once.
    static func motion(_ img: RGBImage, radius: Double, sigma: Double, angleDegrees: Double) -> RGBImage {
        let width = Int(2 * radius.rounded(.up) + 1)
        let s = max(sigma, 1e-12)
        var weights = (0..<width).map { i in exp(-Double(i * i) / (2 * s * s)) }
        let norm = weights.reduce(0, +)
        weights = weights.map { $0 / norm }
        let a = angleDegrees * .pi / 180
        let offsets = (0..<width).map { i in
            (dx: Int((Double(i) * cos(a) - 0.5).rounded(.up)), dy: Int((Double(i) * sin(a) - 0.5).rounded(.up)))
        }
        let f = FloatImage(img)
        var out = f
        for y in 0..<f.height {
            for x in 0..<f.width {
                for c in 0..<3 {
                    var acc = 0.0
                    for i in 0..<width where weights[i] > 1e-12 {
                        let xx = min(max(x + offsets[i].dx, 0), f.width - 1)
                        let yy = min(max(y + offsets[i].dy, 0), f.height - 1)
                        acc += weights[i] * f.v[(yy * f.width + xx) * 3 + c]
                    }
                    out.v[(y * f.width + x) * 3 + c] = acc
                }
            }
        }
        return out.rgb()
    }
}
