/// Photometric family: contrast, brightness, fog. These are the ones that change the black
/// background of Fashion-MNIST, which the calibration found to be the most damaging.
enum Photometric {
    /// (x − mean)·c + mean with the per-channel mean over the image.
    static func contrast(_ img: RGBImage, factor c: Double) -> RGBImage {
        var f = FloatImage(img)
        let n = Double(f.width * f.height)
        for ch in 0..<3 {
            var mean = 0.0
            for i in stride(from: ch, to: f.v.count, by: 3) { mean += f.v[i] }
            mean /= n
            for i in stride(from: ch, to: f.v.count, by: 3) { f.v[i] = (f.v[i] - mean) * c + mean }
        }
        return f.rgb()
    }

    /// HSV value + c, clipped, as the reference's rgb2hsv → V += c → hsv2rgb. With hue and
    /// saturation fixed every RGB component is proportional to V, so the round trip is exactly a
    /// per-pixel scale by V'/V; a black pixel (V = 0, saturation 0) becomes grey V'.
    static func brightness(_ img: RGBImage, shift c: Double) -> RGBImage {
        var f = FloatImage(img)
        for p in 0..<(f.width * f.height) {
            let v = max(f.v[3 * p], f.v[3 * p + 1], f.v[3 * p + 2])
            let v2 = min(v + c, 1)
            for ch in 0..<3 { f.v[3 * p + ch] = v > 0 ? f.v[3 * p + ch] * v2 / v : v2 }
        }
        return f.rgb()
    }

    /// x + s·plasma, rescaled by max/(max + s): a diamond-square cloud brightens the image while
    /// the rescale lowers its contrast. The map side is the next power of two ≥ the image side
    /// (32 for 28 px, as CIFAR-10-C's 32) and is cropped to the image.
    static func fog(_ img: RGBImage, strength s: Double, decay: Double, rng: inout ScenarioRNG) -> RGBImage {
        var f = FloatImage(img)
        var n = 1
        while n < max(f.width, f.height) { n <<= 1 }
        let map = plasmaFractal(size: n, decay: decay, rng: &rng)
        let maxVal = f.v.max() ?? 0
        for y in 0..<f.height {
            for x in 0..<f.width {
                for ch in 0..<3 {
                    let i = (y * f.width + x) * 3 + ch
                    f.v[i] = (f.v[i] + s * map[y * n + x]) * maxVal / (maxVal + s)
                }
            }
        }
        return f.rgb()
    }

    /// The reference's diamond-square heightmap (a modification of FLHerne/mapgen), periodic
    /// (numpy.roll wrap-around), normalised to [0, 1]. The random offset at each level is
    /// wibble·U(−wibble, wibble) with wibble starting at 100 and divided by `decay` per level —
    /// the reference's (unusual) quadratic scaling, kept because it sets the cloud's texture.
    static func plasmaFractal(size n: Int, decay: Double, rng: inout ScenarioRNG) -> [Double] {
        var m = [Double](repeating: 0, count: n * n)
        var step = n
        var wibble = 100.0
        func jitter() -> Double { wibble * (-wibble + 2 * wibble * rng.uniform()) }
        while step >= 2 {
            let h = step / 2, a = n / step
            // Squares: centre = mean of the four corners + jitter.
            for i in 0..<a {
                for j in 0..<a {
                    let i1 = (i + 1) % a, j1 = (j + 1) % a
                    let sum = m[i * step * n + j * step] + m[i1 * step * n + j * step]
                        + m[i * step * n + j1 * step] + m[i1 * step * n + j1 * step]
                    m[(i * step + h) * n + j * step + h] = sum / 4 + jitter()
                }
            }
            // Diamonds: edge midpoints = mean of the two adjacent centres and two corners.
            func dr(_ i: Int, _ j: Int) -> Double { m[(((i + a) % a) * step + h) * n + ((j + a) % a) * step + h] }
            func ul(_ i: Int, _ j: Int) -> Double { m[((i + a) % a) * step * n + ((j + a) % a) * step] }
            for i in 0..<a {
                for j in 0..<a {
                    let sum = dr(i, j) + dr(i - 1, j) + ul(i, j) + ul(i, j + 1)
                    m[i * step * n + j * step + h] = sum / 4 + jitter()
                }
            }
            for i in 0..<a {
                for j in 0..<a {
                    let sum = dr(i, j) + dr(i, j - 1) + ul(i, j) + ul(i + 1, j)
                    m[(i * step + h) * n + j * step] = sum / 4 + jitter()
                }
            }
            step /= 2
            wibble /= decay
        }
        let lo = m.min() ?? 0
        let hi = (m.max() ?? 1) - lo
        return m.map { hi > 0 ? ($0 - lo) / hi : 0 }
    }
}
