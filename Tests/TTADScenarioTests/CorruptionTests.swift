import Foundation
import XCTest
@testable import TTADScenario

final class CorruptionTests: XCTestCase {
    /// A Fashion-MNIST-like 28×28 image: black background, a textured bright object.
    static func garment(_ variant: Int = 0) -> RGBImage {
        var g = [UInt8](repeating: 0, count: 28 * 28)
        for y in 0..<28 {
            for x in 0..<28 {
                let dx = (Double(x) - 13.5) / Double(9 + variant), dy = (Double(y) - 13.5) / 12
                if dx * dx + dy * dy <= 1 {
                    let t = 150 + 70 * sin(Double(x) * (0.9 + 0.2 * Double(variant))) * cos(Double(y) * 0.7)
                    g[y * 28 + x] = UInt8(max(0, min(255, t)))
                }
            }
        }
        return RGBImage(grey: g, width: 28, height: 28)
    }

    /// Mean absolute difference from the clean image, averaged over a few images and seeds so
    /// that the severity ordering, not one draw, is what is tested.
    static func damage(_ c: Corruption, severity: Int, images: [RGBImage], seeds: [UInt64] = [1, 2, 3, 4]) throws -> Double {
        var total = 0.0
        for img in images {
            for s in seeds { total += try c.apply(to: img, severity: severity, seed: s).meanAbsoluteDifference(img) }
        }
        return total / Double(images.count * seeds.count)
    }

    /// Strictly increasing damage, except motion blur 3 → 4: CIFAR-10-C's table gives both
    /// sigma 2 and only lengthens the radius (6 → 8), and ImageMagick's half-Gaussian weights past
    /// 6 pixels at sigma 2 are ~1e-10, so the reference's severities 3 and 4 are the same blur.
    static func assertMonotone(_ c: Corruption, _ d: [Double], file: StaticString = #filePath, line: UInt = #line) {
        for s in 1..<d.count {
            if c == .motionBlur && s == 3 {
                XCTAssertEqual(d[s], d[s - 1], accuracy: 0.05, "\(c): \(d)", file: file, line: line)
            } else {
                XCTAssertGreaterThan(d[s], d[s - 1], "\(c): \(d)", file: file, line: line)
            }
        }
    }

    func testDeterministicForSeed() throws {
        let img = Self.garment()
        for c in Corruption.allCases {
            for sev in Corruption.severities {
                let a = try c.apply(to: img, severity: sev, seed: 42)
                let b = try c.apply(to: img, severity: sev, seed: 42)
                XCTAssertEqual(a, b, "\(c) \(sev)")
                XCTAssertEqual(a.width, 28)
                XCTAssertEqual(a.pixels.count, img.pixels.count)
            }
        }
        // Random corruptions depend on the seed.
        for c in [Corruption.gaussianNoise, .shotNoise, .impulseNoise, .motionBlur, .fog] {
            XCTAssertNotEqual(try c.apply(to: img, severity: 3, seed: 1), try c.apply(to: img, severity: 3, seed: 2), "\(c)")
        }
    }

    func testDamageGrowsWithSeverity() throws {
        let images = (0..<4).map { Self.garment($0) }
        for c in Corruption.allCases {
            let d = try Corruption.severities.map { try Self.damage(c, severity: $0, images: images) }
            Self.assertMonotone(c, d)
            // Every corruption bites at 28 px: severity 5 changes the image noticeably.
            XCTAssertGreaterThan(d[4], 2, "\(c): \(d)")
        }
    }

    func testSeverityOutOfRangeRejected() {
        for c in Corruption.allCases {
            for s in [0, 6, -1] {
                XCTAssertThrowsError(try c.apply(to: Self.garment(), severity: s, seed: 1)) {
                    XCTAssertEqual($0 as? CorruptionError, .invalidSeverity(s))
                }
            }
        }
    }

    func testValuesStayInRangeOnExtremes() throws {
        // All-white and all-black images push every corruption against its clipping bounds; the
        // output is 8-bit by construction, so this checks for traps (overflow, NaN → UInt8).
        for v: UInt8 in [0, 255] {
            let img = RGBImage(width: 28, height: 28, pixels: [UInt8](repeating: v, count: 28 * 28 * 3))
            for c in Corruption.allCases { for s in Corruption.severities { _ = try c.apply(to: img, severity: s, seed: 7) } }
        }
        // Non-square, non-power-of-two sizes work too (working resolutions other than 28).
        let odd = Self.garment().resized(width: 37, height: 19)
        for c in Corruption.allCases { XCTAssertEqual(try c.apply(to: odd, severity: 5, seed: 3).width, 37) }
    }

    func testReferenceFormulas() throws {
        let img = Self.garment()
        // Contrast keeps the per-channel mean (up to rounding).
        let lowered = try Corruption.contrast.apply(to: img, severity: 5, seed: 0)
        let mean = { (i: RGBImage) in Double(i.pixels.reduce(0) { $0 + Int($1) }) / Double(i.pixels.count) }
        XCTAssertEqual(mean(lowered), mean(img), accuracy: 0.6)
        // Brightness turns the black background into grey V = c (0.3 · 255 ≈ 77 at severity 5).
        XCTAssertEqual(try Corruption.brightness.apply(to: img, severity: 5, seed: 0).pixels[0], 77)
        // Shot noise leaves exact black black (Poisson(0) = 0).
        XCTAssertEqual(try Corruption.shotNoise.apply(to: img, severity: 5, seed: 9).pixels[0], 0)
        // Impulse noise only writes 0 or 255.
        let sp = try Corruption.impulseNoise.apply(to: img, severity: 5, seed: 9)
        for i in 0..<img.pixels.count where sp.pixels[i] != img.pixels[i] { XCTAssertTrue(sp.pixels[i] == 0 || sp.pixels[i] == 255) }
        // Pixelate at severity 5 goes through ⌊28 · 0.65⌋ = 18 px.
        XCTAssertEqual(Digital.boxResize(img, width: 18, height: 18).width, 18)
        // The defocus kernel is normalised and symmetric; radius 1.5 with tiny alias blur is a 3×3 box.
        let (k, m) = Blur.diskKernel(radius: 1.5, alias: 0.1)
        XCTAssertEqual(k.reduce(0, +), 1, accuracy: 1e-9)
        XCTAssertEqual(m, 3)
        for w in k { XCTAssertEqual(w, 1.0 / 9, accuracy: 1e-6) }
        // Plasma is normalised to [0, 1].
        var rng = ScenarioRNG(seed: 5)
        let map = Photometric.plasmaFractal(size: 32, decay: 2, rng: &rng)
        XCTAssertEqual(map.min(), 0)
        XCTAssertEqual(map.max(), 1)
    }

    /// On real Fashion-MNIST images (when installed) the damage is also monotone in severity.
    func testDamageOnFashionMNIST() throws {
        guard FileManager.default.fileExists(atPath: FashionMNIST.defaultDirectory + "/t10k-images-idx3-ubyte.gz") else {
            throw XCTSkip("dataset-fashion-mnist not installed")
        }
        let set = try FashionMNIST.load(.test)
        let images = (0..<16).map { set.rgb($0 * 97) }
        var lines = [String]()
        for c in Corruption.allCases {
            let d = try Corruption.severities.map { try Self.damage(c, severity: $0, images: images, seeds: [1, 2]) }
            lines.append("\(c.rawValue): " + d.map { String(format: "%.1f", $0) }.joined(separator: " "))
            Self.assertMonotone(c, d)
        }
        print("mean |Δ| per severity on Fashion-MNIST at 28 px:\n" + lines.joined(separator: "\n"))
    }
}
