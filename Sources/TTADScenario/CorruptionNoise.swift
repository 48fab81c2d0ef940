/// Noise family. Every channel value gets its own draw, as in the reference (numpy draws an
/// array of the image's full H×W×3 shape), so noise on a grey image is coloured.
enum Noise {
    /// x + N(0, σ²), clipped.
    static func gaussian(_ img: RGBImage, sigma: Double, rng: inout ScenarioRNG) -> RGBImage {
        var f = FloatImage(img)
        for i in 0..<f.v.count { f.v[i] += sigma * rng.gaussian() }
        return f.rgb()
    }

    /// Poisson(x·c)/c: photon noise with c photons at full scale (fewer photons = noisier).
    /// The black background (x = 0) stays exactly black, as in the reference.
    static func shot(_ img: RGBImage, photons c: Double, rng: inout ScenarioRNG) -> RGBImage {
        var f = FloatImage(img)
        for i in 0..<f.v.count { f.v[i] = Double(rng.poisson(f.v[i] * c)) / c }
        return f.rgb()
    }

    /// Salt and pepper as skimage `random_noise(mode='s&p', amount=a)`: each value is replaced
    /// with probability a, by 1 or 0 with equal odds.
    static func impulse(_ img: RGBImage, amount: Double, rng: inout ScenarioRNG) -> RGBImage {
        var p = img.pixels
        for i in 0..<p.count {
            let flip = rng.uniform() < amount
            let salt = rng.uniform() < 0.5
            if flip { p[i] = salt ? 255 : 0 }
        }
        return RGBImage(width: img.width, height: img.height, pixels: p)
    }
}
