import Foundation
import TTADEngine
import XCTest
@testable import TTADModel

/// Hand-worked cases for each op of CoTTA's strong augmentation, then the pipeline's contracts.
final class StrongAugmenterTests: XCTestCase {
    private typealias SA = StrongAugmenter

    private static func config(_ s: Int) -> ImagePreprocessorConfig {
        ImagePreprocessorConfig(shortestEdge: s, cropWidth: s, cropHeight: s, rescaleFactor: 1.0 / 255,
                                mean: [0.5, 0.4, 0.3], std: [0.2, 0.25, 0.3])
    }

    /// [3, s, s] with distinct values in [0, 1].
    private static func image(_ s: Int) -> [Float] {
        (0..<(3 * s * s)).map { i in Float((i * 37 + 11) % 101) / 100 }
    }

    private static func apply(_ img: [Float], _ body: (UnsafeMutablePointer<Float>) -> Void) -> [Float] {
        var out = img
        out.withUnsafeMutableBufferPointer { body($0.baseAddress!) }
        return out
    }

    private static func assertClose(_ a: [Float], _ b: [Float], accuracy: Float, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, file: file, line: line)
        for i in 0..<min(a.count, b.count) where abs(a[i] - b[i]) > accuracy {
            XCTFail("index \(i): \(a[i]) vs \(b[i])", file: file, line: line)
            return
        }
    }

    /// Affine window (margin 0, i.e. pad → affine → CenterCrop) of an [3, s, s] image.
    private static func warp(_ img: [Float], size s: Int, angle: Double = 0, tx: Int = 0, ty: Int = 0, scale: Double = 1) -> [Float] {
        var out = [Float](repeating: .nan, count: 3 * s * s)
        img.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                SA.padAffineCrop(src.baseAddress!, size: s, padding: s / 2, margin: 0, angle: angle,
                                 translateX: tx, translateY: ty, scale: scale, into: dst.baseAddress!)
            }
        }
        return out
    }

    // MARK: - Colour

    /// brightness 1.2: 0.5 → 0.6, 0.9 → 1.08 clipped to 1, 0 stays 0.
    func testBrightnessScalesAndClips() {
        let img: [Float] = [0.5, 0.9, 0, 0.25, 0.5, 0.9, 0, 0.25, 0.5, 0.9, 0, 0.25]   // 3 planes of 2×2
        let out = Self.apply(img) { SA.adjustBrightness($0, count: 12, factor: 1.2) }
        Self.assertClose(out, [0.6, 1, 0, 0.3, 0.6, 1, 0, 0.3, 0.6, 1, 0, 0.3], accuracy: 1e-6)
    }

    /// Grey pixels 0.2, 0.4, 0.6, 0.8: grey level 0.9999·v, mean 0.49995.
    /// factor 0.5 → 0.5·v + 0.249975; factor 2 → 2·v − 0.49995, clipped.
    func testContrastBlendsWithTheGreyMean() {
        let g: [Float] = [0.2, 0.4, 0.6, 0.8]
        let img = g + g + g
        let half = Self.apply(img) { SA.adjustContrast($0, pixelCount: 4, factor: 0.5) }
        let h: [Float] = [0.349975, 0.449975, 0.549975, 0.649975]
        Self.assertClose(half, h + h + h, accuracy: 1e-6)
        let double = Self.apply(img) { SA.adjustContrast($0, pixelCount: 4, factor: 2) }
        let d: [Float] = [0, 0.30005, 0.70005, 1]
        Self.assertClose(double, d + d + d, accuracy: 1e-6)
    }

    /// Red (1, 0, 0) and blue (0, 0, 1): greys 0.2989 and 0.114, mean 0.20645; factor 0.5 adds
    /// 0.103225 to half of every value — the luma weights, not a plain channel mean.
    func testContrastUsesLumaWeights() {
        let img: [Float] = [1, 0, 0, 0, 0, 1]      // R plane, G plane, B plane of 2 pixels
        let out = Self.apply(img) { SA.adjustContrast($0, pixelCount: 2, factor: 0.5) }
        Self.assertClose(out, [0.603225, 0.103225, 0.103225, 0.103225, 0.103225, 0.603225], accuracy: 1e-6)
    }

    /// (1, 0.5, 0): grey 0.2989 + 0.2935 = 0.5924. factor 0 → grey; 0.5 → halfway; 2 → clipped.
    func testSaturationBlendsWithThePixelsGrey() {
        let img: [Float] = [1, 0.5, 0]
        Self.assertClose(Self.apply(img) { SA.adjustSaturation($0, pixelCount: 1, factor: 0) }, [0.5924, 0.5924, 0.5924], accuracy: 1e-6)
        Self.assertClose(Self.apply(img) { SA.adjustSaturation($0, pixelCount: 1, factor: 0.5) }, [0.7962, 0.5462, 0.2962], accuracy: 1e-6)
        Self.assertClose(Self.apply(img) { SA.adjustSaturation($0, pixelCount: 1, factor: 2) }, [1, 0.4076, 0], accuracy: 1e-6)
    }

    /// Red has h = 0, s = v = 1. +0.5 turn → cyan; +0.05 → sector 0, f = 0.3 → (1, 0.3, 0);
    /// −0.05 → h = 0.95, sector 5, f = 0.7 → (1, 0, 0.3). A grey pixel has no hue to turn.
    func testHueTurnsTheColourWheel() {
        let red: [Float] = [1, 0, 0]
        Self.assertClose(Self.apply(red) { SA.adjustHue($0, pixelCount: 1, factor: 0.5) }, [0, 1, 1], accuracy: 1e-6)
        Self.assertClose(Self.apply(red) { SA.adjustHue($0, pixelCount: 1, factor: 0.05) }, [1, 0.3, 0], accuracy: 1e-5)
        Self.assertClose(Self.apply(red) { SA.adjustHue($0, pixelCount: 1, factor: -0.05) }, [1, 0, 0.3], accuracy: 1e-5)
        let grey: [Float] = [0.4, 0.4, 0.4]
        Self.assertClose(Self.apply(grey) { SA.adjustHue($0, pixelCount: 1, factor: 0.06) }, grey, accuracy: 0)
        // (0.2, 0.6, 0.4): h = (2 + rc − bc)/6 with rc = 1, bc = 0.5 → 5/12; s = 2/3, v = 0.6.
        let hsv = SA.rgbToHSV(0.2, 0.6, 0.4)
        XCTAssertEqual(hsv.0, 5.0 / 12.0, accuracy: 1e-6)
        XCTAssertEqual(hsv.1, 2.0 / 3.0, accuracy: 1e-6)
        XCTAssertEqual(hsv.2, 0.6, accuracy: 1e-7)
        let back = SA.hsvToRGB(hsv.0, hsv.1, hsv.2)
        XCTAssertEqual(back.0, 0.2, accuracy: 1e-6); XCTAssertEqual(back.1, 0.6, accuracy: 1e-6); XCTAssertEqual(back.2, 0.4, accuracy: 1e-6)
    }

    /// γ = 0.5: 0.25 → 0.5, 1 → 1, and 0 → (1e−8)^0.5 = 1e−4 through CoTTA's clamp; γ = 2: 0.5 → 0.25.
    func testGammaWithCoTTAsClamp() {
        Self.assertClose(Self.apply([0, 0.25, 1]) { SA.adjustGamma($0, count: 3, gamma: 0.5) }, [1e-4, 0.5, 1], accuracy: 1e-7)
        Self.assertClose(Self.apply([0.5, 0.9, 0.1]) { SA.adjustGamma($0, count: 3, gamma: 2) }, [0.25, 0.81, 0.01], accuracy: 1e-6)
    }

    // MARK: - Geometry

    func testAffineWithIdentityParametersReturnsTheImage() {
        for s in [8, 9] {
            let img = Self.image(s)
            Self.assertClose(Self.warp(img, size: s), img, accuracy: 0)
        }
    }

    /// tx = +1 moves content one column right; the edge-padded column 0 repeats.
    /// ty = −1 moves content one row up; the bottom row repeats.
    func testOnePixelTranslationShiftsWithEdgePadding() {
        let s = 8, n = s * s
        let img = Self.image(s)
        let right = Self.warp(img, size: s, tx: 1)
        let up = Self.warp(img, size: s, ty: -1)
        for c in 0..<3 { for y in 0..<s { for x in 0..<s {
            XCTAssertEqual(right[c * n + y * s + x], img[c * n + y * s + max(x - 1, 0)])
            XCTAssertEqual(up[c * n + y * s + x], img[c * n + min(y + 1, s - 1) * s + x])
        } } }
    }

    /// Odd side: the centre pixel is the rotation centre, so any angle and scale keep it.
    func testSmallRotationKeepsTheCentrePixel() {
        let s = 9, n = s * s
        let img = Self.image(s)
        let out = Self.warp(img, size: s, angle: 10, scale: 1.05)
        for c in 0..<3 { XCTAssertEqual(out[c * n + 4 * s + 4], img[c * n + 4 * s + 4]) }
        XCTAssertNotEqual(out, img)
    }

    /// 90° clockwise (torchvision's F.affine convention): x_in = y_out, y_in = −x_out about the
    /// centre, i.e. out[r][q] = in[8 − q][r] on a 9×9 image.
    func testQuarterTurnFollowsTorchvisionsInverseMatrix() {
        let s = 9, n = s * s
        let img = Self.image(s)
        let out = Self.warp(img, size: s, angle: 90)
        for c in 0..<3 { for r in 0..<s { for q in 0..<s {
            XCTAssertEqual(out[c * n + r * s + q], img[c * n + (8 - q) * s + r], accuracy: 1e-5)
        } } }
    }

    /// Zooming out by 0.45 on a uniform 8×8 image of ones (pad 4, padded side 16, centre 8):
    /// column 0 has x_out = −3.5 → source −7.78 + 7.5 = −0.278: tap −1 lies outside the padded
    /// image, tap 0 inside with weight 0.7222; torchvision's fill path gives value·coverage =
    /// 0.7222² = 0.5216. Row 3 (y_out = −0.5 → 6.39) is inside. Column 3 (x_out = −0.5) is fully
    /// covered; the corner pixel (x = y = −3.5) is covered fx² in all, so it reads fx²·fx² = 0.272.
    func testAffineFillIsZeroOutsideThePaddedImageWithTorchvisionsMask() {
        let s = 8, n = s * s
        let ones = [Float](repeating: 1, count: 3 * n)
        let out = Self.warp(ones, size: s, scale: 0.45)
        let fx = Float((-3.5 / 0.45 + 7.5) - (-1))   // source −0.2778 minus its floor −1
        XCTAssertEqual(fx, 0.72222, accuracy: 1e-4)
        XCTAssertEqual(out[3 * s + 0], fx * fx, accuracy: 1e-5)
        XCTAssertEqual(out[3 * s + 3], 1, accuracy: 1e-6)
        XCTAssertEqual(out[0], fx * fx * fx * fx, accuracy: 1e-5)
        XCTAssertEqual(out[2 * n + 3 * s + 7], fx * fx, accuracy: 1e-5)   // mirror side, blue plane
        // Scale 0.4: column 0 reads source −8.75 + 7.5 = −1.25, both taps outside → exactly 0.
        XCTAssertEqual(Self.warp(ones, size: s, scale: 0.4)[3 * s], 0)
    }

    func testFlipMirrorsColumns() {
        let img: [Float] = (0..<27).map(Float.init)    // three 3×3 planes
        let out = Self.apply(img) { SA.flipHorizontally($0, size: 3) }
        XCTAssertEqual(out, [2, 1, 0, 5, 4, 3, 8, 7, 6, 11, 10, 9, 14, 13, 12, 17, 16, 15, 20, 19, 18, 23, 22, 21, 26, 25, 24])
    }

    // MARK: - Blur

    /// σ = 1: exp(−2), exp(−0.5), 1, … over their sum 2.483732.
    func testGaussianKernelFromSigma() {
        var k = [Float](repeating: 0, count: 5)
        k.withUnsafeMutableBufferPointer { SA.gaussianKernel(sigma: 1, into: $0) }
        Self.assertClose(k, [0.054489, 0.244201, 0.402620, 0.244201, 0.054489], accuracy: 1e-6)
        k.withUnsafeMutableBufferPointer { SA.gaussianKernel(sigma: 0.001, into: $0) }
        XCTAssertEqual(k, [0, 0, 1, 0, 0])
    }

    func testBlurWithTinySigmaIsIdentityAndKeepsAUniformImage() {
        let s = 8
        let img = Self.image(s)
        let sharp = img.withUnsafeBufferPointer { SA.gaussianBlurReflect($0.baseAddress!, size: s, sigma: 0.001) }
        Self.assertClose(sharp, img, accuracy: 0)
        let flat = [Float](repeating: 0.3, count: 3 * s * s)
        let blurred = flat.withUnsafeBufferPointer { SA.gaussianBlurReflect($0.baseAddress!, size: s, sigma: 0.5) }
        Self.assertClose(blurred, flat, accuracy: 1e-6)
    }

    /// A centred impulse on 5×5, σ = 1: out[2+i][2+j] = k[2+i]·k[2+j]; at the border the reflected
    /// copy adds in: out[0][0] = (k0 + k4)², out[0][2] = (k0 + k4)·k2.
    func testBlurOfAnImpulseWithReflectPadding() {
        let s = 5
        var img = [Float](repeating: 0, count: 3 * s * s)
        img[2 * s + 2] = 1
        let out = img.withUnsafeBufferPointer { SA.gaussianBlurReflect($0.baseAddress!, size: s, sigma: 1) }
        let k: [Float] = [0.054489, 0.244201, 0.402620, 0.244201, 0.054489]
        XCTAssertEqual(out[2 * s + 2], k[2] * k[2], accuracy: 1e-6)
        XCTAssertEqual(out[1 * s + 2], k[1] * k[2], accuracy: 1e-6)
        XCTAssertEqual(out[1 * s + 3], k[1] * k[3], accuracy: 1e-6)
        XCTAssertEqual(out[0], (k[0] + k[4]) * (k[0] + k[4]), accuracy: 1e-6)
        XCTAssertEqual(out[2], (k[0] + k[4]) * k[2], accuracy: 1e-6)
        XCTAssertEqual(out[s * s + 2 * s + 2], 0)   // other planes untouched
    }

    // MARK: - Pipeline

    /// Identity parameters and no noise: the normalised view comes back (de- and re-normalised).
    func testIdentityParametersWithoutNoiseReturnTheView() {
        let s = 8
        let aug = SA(preprocessing: Self.config(s), seed: 1, ranges: SA.Ranges(noiseStd: 0))
        let pre = ImagePreprocessor(config: Self.config(s))
        let view: [Float] = (0..<(3 * s * s)).map { i in pre.normalised(UInt8((i * 29) % 256), channel: i / (s * s)) }
        var out = [Float](repeating: .nan, count: view.count)
        view.withUnsafeBufferPointer { v in out.withUnsafeMutableBufferPointer { aug.augment(v, parameters: .identity, into: $0) } }
        Self.assertClose(out, view, accuracy: 1e-4)
        // A flip on top mirrors the normalised view.
        var flipped = [Float](repeating: .nan, count: view.count)
        view.withUnsafeBufferPointer { v in flipped.withUnsafeMutableBufferPointer { aug.augment(v, parameters: SA.Parameters(flip: true), into: $0) } }
        Self.assertClose(flipped, Self.apply(view) { SA.flipHorizontally($0, size: s) }, accuracy: 1e-4)
    }

    func testDrawnParametersLieInCoTTAsRanges() {
        let s = 12
        let aug = SA(preprocessing: Self.config(s), seed: 7)
        XCTAssertEqual(aug.padding, 6)
        XCTAssertEqual(aug.paddedSize, 24)
        var flips = 0, orders = Set<[UInt8]>()
        for _ in 0..<200 {
            let p = aug.drawParameters()
            XCTAssertEqual(Set(p.colourOrder.ops), Set(SA.ColourOp.allCases))
            orders.insert(p.colourOrder.ops.map(\.rawValue))
            XCTAssert((0.6...1.4).contains(p.brightness) && (0.7...1.3).contains(p.contrast) && (0.5...1.5).contains(p.saturation))
            XCTAssert((-0.06...0.06).contains(p.hue) && (0.7...1.3).contains(p.gamma))
            XCTAssert((-15...15).contains(p.angle) && (0.9...1.1).contains(p.scale) && (0.001...0.5).contains(p.sigma))
            // 1/16 of the padded side 24 = 1.5 → round(±1.5) is at most 2 (half to even).
            XCTAssert(abs(p.translateX) <= 2 && abs(p.translateY) <= 2)
            if p.flip { flips += 1 }
        }
        XCTAssert((60...140).contains(flips), "flips \(flips)")
        XCTAssertGreaterThan(orders.count, 20)
    }

    func testPipelineIsDeterministicPerSeedAndDiffersBetweenSeeds() {
        let s = 12
        let img = Self.image(s)
        func views(seed: UInt64) -> [[Float]] {
            let aug = SA(preprocessing: Self.config(s), seed: seed)
            return (0..<2).map { _ in
                var out = [Float](repeating: .nan, count: img.count)
                img.withUnsafeBufferPointer { i in out.withUnsafeMutableBufferPointer { aug.augment(i, into: $0) } }
                return out
            }
        }
        let a = views(seed: 42), b = views(seed: 42), c = views(seed: 43)
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a[0], c[0])
        XCTAssertNotEqual(a[0], a[1])
        XCTAssert(a.allSatisfy { $0.allSatisfy(\.isFinite) })
    }

    /// Un-normalised output stays in [0, 1]; the input is left untouched; the normalised path is
    /// the unit-range path followed by normalisation.
    func testRangeInputUntouchedAndNormalisation() {
        let s = 12, n = s * s
        let cfg = Self.config(s)
        let img = Self.image(s)
        let copy = img
        let unit = SA(preprocessing: cfg, seed: 5), normed = SA(preprocessing: cfg, seed: 5)
        let mean: [Float] = [0.5, 0.4, 0.3], std: [Float] = [0.2, 0.25, 0.3]
        let view: [Float] = (0..<(3 * n)).map { (img[$0] - mean[$0 / n]) / std[$0 / n] }
        let viewCopy = view
        for _ in 0..<4 {
            var out = [Float](repeating: .nan, count: 3 * n), outN = out
            img.withUnsafeBufferPointer { i in out.withUnsafeMutableBufferPointer { unit.augmentUnitRange(i, into: $0) } }
            view.withUnsafeBufferPointer { i in outN.withUnsafeMutableBufferPointer { normed.augment(i, into: $0) } }
            XCTAssert(out.allSatisfy { $0 >= 0 && $0 <= 1 })
            XCTAssertNotEqual(out, img)
            Self.assertClose(outN, (0..<(3 * n)).map { (out[$0] - mean[$0 / n]) / std[$0 / n] }, accuracy: 1e-4)
        }
        XCTAssertEqual(img, copy)
        XCTAssertEqual(view, viewCopy)
    }

    /// The noise has the configured spread: identity parameters on mid-grey, std 0.005.
    func testNoiseHasCoTTAsStandardDeviation() {
        let s = 12, n = s * s
        let aug = SA(preprocessing: Self.config(s), seed: 9)
        let grey = [Float](repeating: 0.5, count: 3 * n)
        var out = grey
        var sum = 0.0, sq = 0.0, count = 0
        for _ in 0..<10 {
            grey.withUnsafeBufferPointer { i in out.withUnsafeMutableBufferPointer { aug.augmentUnitRange(i, parameters: .identity, into: $0) } }
            for v in out { let d = Double(v) - 0.5; sum += d; sq += d * d; count += 1 }
        }
        let m = sum / Double(count), sd = (sq / Double(count) - m * m).squareRoot()
        XCTAssertEqual(m, 0, accuracy: 0.0005)
        XCTAssertEqual(sd, 0.005, accuracy: 0.0005)
    }
}
