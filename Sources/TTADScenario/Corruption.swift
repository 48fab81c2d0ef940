/// The ten ImageNet-C corruptions the evaluation uses, written in Swift after Hendrycks'
/// definitions (github.com/hendrycks/robustness, `ImageNet-C/create_c/make_cifar_c.py`).
///
/// Parameter tables are the CIFAR-10-C ones, not the 224-px ImageNet-C ones: their pixel-sized
/// parameters (disk radius, motion-blur length, pixelate factor on a 32-px grid, fog map size)
/// were tuned for 32-px images, and Fashion-MNIST is corrupted at its native 28 px — the
/// calibration (shared/research/calibration.md) found that corrupting after the 28→224
/// upsampling makes blur, pixelate and JPEG no-ops, because the upsampling itself already is a
/// strong blur. At 28 px one pixel is 1/28 of the object instead of 1/32, so spatial
/// corruptions are about 14 % stronger relative to the object than on CIFAR; the tables are kept
/// verbatim so severities stay comparable with published CIFAR-10-C numbers.
public enum Corruption: String, CaseIterable, Sendable, Codable {
    case gaussianNoise = "gaussian_noise"
    case shotNoise = "shot_noise"
    case impulseNoise = "impulse_noise"
    case defocusBlur = "defocus_blur"
    case motionBlur = "motion_blur"
    case contrast = "contrast"
    case brightness = "brightness"
    case pixelate = "pixelate"
    case jpegCompression = "jpeg_compression"
    case fog = "fog"

    public static let severities = 1...5

    // CIFAR-10-C parameter tables, index = severity − 1.
    static let gaussianSigma = [0.04, 0.06, 0.08, 0.09, 0.10]
    static let shotPhotons = [500.0, 250, 100, 75, 50]
    static let impulseAmount = [0.01, 0.02, 0.03, 0.05, 0.07]
    /// (disk radius, anti-alias sigma).
    static let defocus: [(radius: Double, alias: Double)] = [(0.3, 0.4), (0.4, 0.5), (0.5, 0.6), (1, 0.2), (1.5, 0.1)]
    /// (ImageMagick radius, sigma); angle uniform in [−45°, 45°). ImageMagick's kernel is a
    /// half-Gaussian of the given sigma truncated at the radius, so severities 3 and 4 (both
    /// sigma 2; radius 6 vs 8, where the extra weights are ~1e-10) give the same blur: a quirk
    /// of the reference table, kept for comparability.
    static let motion: [(radius: Double, sigma: Double)] = [(6, 1), (6, 1.5), (6, 2), (8, 2), (9, 2.5)]
    static let contrastFactor = [0.75, 0.5, 0.4, 0.3, 0.15]
    static let brightnessShift = [0.05, 0.1, 0.15, 0.2, 0.3]
    static let pixelateFactor = [0.95, 0.9, 0.85, 0.75, 0.65]
    static let jpegQuality: [Int32] = [80, 65, 58, 50, 40]
    /// (fog strength, plasma wibble decay).
    static let fogParams: [(strength: Double, decay: Double)] = [(0.2, 3), (0.5, 3), (0.75, 2.5), (1, 2), (1.5, 1.75)]

    /// Applies the corruption at `severity` (1…5). `seed` drives every random choice, so the
    /// same (image, severity, seed) always gives the same bytes.
    public func apply(to image: RGBImage, severity: Int, seed: UInt64) throws -> RGBImage {
        guard Self.severities.contains(severity) else { throw CorruptionError.invalidSeverity(severity) }
        let s = severity - 1
        var rng = ScenarioRNG(seed: seed)
        switch self {
        case .gaussianNoise: return Noise.gaussian(image, sigma: Self.gaussianSigma[s], rng: &rng)
        case .shotNoise: return Noise.shot(image, photons: Self.shotPhotons[s], rng: &rng)
        case .impulseNoise: return Noise.impulse(image, amount: Self.impulseAmount[s], rng: &rng)
        case .defocusBlur: return Blur.defocus(image, radius: Self.defocus[s].radius, alias: Self.defocus[s].alias)
        case .motionBlur:
            let angle = -45 + 90 * rng.uniform()
            return Blur.motion(image, radius: Self.motion[s].radius, sigma: Self.motion[s].sigma, angleDegrees: angle)
        case .contrast: return Photometric.contrast(image, factor: Self.contrastFactor[s])
        case .brightness: return Photometric.brightness(image, shift: Self.brightnessShift[s])
        case .pixelate: return Digital.pixelate(image, factor: Self.pixelateFactor[s])
        case .jpegCompression: return try Digital.jpeg(image, quality: Self.jpegQuality[s])
        case .fog: return Photometric.fog(image, strength: Self.fogParams[s].strength, decay: Self.fogParams[s].decay, rng: &rng)
        }
    }
}

public enum CorruptionError: Error, Equatable, CustomStringConvertible {
    case invalidSeverity(Int)
    case jpeg(String)

    public var description: String {
        switch self {
        case .invalidSeverity(let s): return "corruption severity must be 1…5, got \(s)"
        case .jpeg(let why): return "JPEG round trip failed: \(why)"
        }
    }
}
