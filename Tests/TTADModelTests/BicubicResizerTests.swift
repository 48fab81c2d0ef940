import TTADEngine
import XCTest
@testable import TTADModel

/// The resizer's passes against Pillow's arithmetic written out per pixel: for each output sample,
/// `clamp((2²¹ + Σ in_j · W_j) >> 22, 0, 255)` over the coefficient table's taps, horizontal pass
/// first into an 8-bit intermediate, then vertical. (The Pillow fixtures in ImagePipelineTests pin
/// the tables and the order; these cover the sizes, windows and row widths the vectorised vertical
/// pass splits into 16-byte blocks and a scalar tail.)
final class BicubicResizerTests: XCTestCase {
    private static func clamp(_ s: Int) -> UInt8 { UInt8(max(0, min(255, s >> 22))) }

    /// One pass along one axis of an interleaved RGB image, exactly as described above.
    private static func pass(_ c: ResampleCoefficients, _ src: [UInt8], width: Int, height: Int,
                             horizontal: Bool) -> [UInt8] {
        let outW = horizontal ? c.outputSize : width, outH = horizontal ? height : c.outputSize
        var out = [UInt8](repeating: 0, count: outW * outH * 3)
        for y in 0..<outH {
            for x in 0..<outW {
                let i = horizontal ? x : y
                for ch in 0..<3 {
                    var s = 1 << 21
                    for j in 0..<Int(c.count[i]) {
                        let at = Int(c.first[i]) + j
                        let v = horizontal ? src[(y * width + at) * 3 + ch] : src[(at * width + x) * 3 + ch]
                        s += Int(v) * Int(c.weights[i * c.kernelSize + j])
                    }
                    out[(y * outW + x) * 3 + ch] = clamp(s)
                }
            }
        }
        return out
    }

    private static func reference(_ r: BicubicResizer, _ src: [UInt8], width: Int, height: Int,
                                  outW: Int, outH: Int) -> [UInt8] {
        var pixels = src, w = width
        if outW != width {
            pixels = pass(r.coefficients(input: width, output: outW), pixels, width: w, height: height, horizontal: true)
            w = outW
        }
        if outH != height {
            pixels = pass(r.coefficients(input: height, output: outH), pixels, width: w, height: height, horizontal: false)
        }
        return pixels
    }

    private static func randomImage(_ w: Int, _ h: Int, _ rng: inout SplitMix64) -> [UInt8] {
        // Hard edges (0/255 runs) drive the bicubic overshoot into the clamps on both sides.
        (0..<(w * h * 3)).map { _ in
            let r = rng.next() % 4
            return r == 0 ? 0 : r == 1 ? 255 : UInt8(truncatingIfNeeded: rng.next())
        }
    }

    private static func resize(_ r: BicubicResizer, _ src: [UInt8], _ w: Int, _ h: Int, _ ow: Int, _ oh: Int,
                               window: BicubicResizer.Window? = nil) -> [UInt8] {
        let win = window ?? .init(x: 0, y: 0, width: ow, height: oh)
        var out = [UInt8](repeating: 7, count: win.width * win.height * 3)
        src.withUnsafeBufferPointer { s in
            out.withUnsafeMutableBufferPointer { d in
                r.resize(source: s.baseAddress!, width: w, height: h, outputWidth: ow, outputHeight: oh,
                         window: window, into: d.baseAddress!)
            }
        }
        return out
    }

    func testEveryShapeMatchesThePerPixelFormula() {
        var rng = SplitMix64(seed: 11)
        // (in w, in h, out w, out h): the 28→224 enlargement the scenarios use, shrinking
        // (antialiased, wider kernels), one axis only, and row widths of 1, 5, 16 and 17 pixels
        // (3, 15, 48, 51 bytes: tail only, tail only, whole blocks, blocks plus tail).
        let shapes = [(28, 28, 224, 224), (40, 31, 13, 9), (9, 30, 9, 70), (30, 9, 70, 9),
                      (3, 12, 1, 25), (7, 7, 5, 19), (6, 6, 16, 11), (20, 8, 17, 23)]
        for (w, h, ow, oh) in shapes {
            let r = BicubicResizer()
            let src = Self.randomImage(w, h, &rng)
            XCTAssertEqual(Self.resize(r, src, w, h, ow, oh), Self.reference(r, src, width: w, height: h, outW: ow, outH: oh),
                           "\(w)x\(h) -> \(ow)x\(oh)")
        }
    }

    func testBilinearAndWindowsMatchTheFormula() {
        var rng = SplitMix64(seed: 12)
        let r = BicubicResizer(filter: .bilinear)
        let src = Self.randomImage(23, 17, &rng)
        let full = Self.reference(r, src, width: 23, height: 17, outW: 61, outH: 45)
        XCTAssertEqual(Self.resize(r, src, 23, 17, 61, 45), full)
        // Windows whose rows start mid-block and end in a tail.
        for win in [BicubicResizer.Window(x: 3, y: 5, width: 37, height: 11), .init(x: 60, y: 44, width: 1, height: 1),
                    .init(x: 0, y: 20, width: 61, height: 3)] {
            var expected: [UInt8] = []
            for y in win.y..<(win.y + win.height) {
                let row = (y * 61 + win.x) * 3
                expected += full[row..<(row + win.width * 3)]
            }
            XCTAssertEqual(Self.resize(r, src, 23, 17, 61, 45, window: win), expected, "\(win)")
        }
    }
}
