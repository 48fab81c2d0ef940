import XCTest
@testable import TTADEngine

final class PatchEmbeddingTests: XCTestCase {
    /// The unrolled product equals a direct strided convolution (no bias), conv weight [D, C, p, p].
    func testUnrolledProductEqualsStridedConvolution() {
        let c = 3, size = 12, p = 4, d = 5, grid = size / p
        let image = OpTestSupport.values(c * size * size, seed: 21)
        let weight = OpTestSupport.values(d * c * p * p, seed: 22)
        let rows = FloatBuffer(count: grid * grid * c * p * p), img = FloatBuffer(image)
        PatchEmbedding.unroll(image: img.pointer, channels: c, size: size, patch: p, rows: rows.pointer)
        let out = FloatBuffer(count: grid * grid * d), wb = FloatBuffer(weight)
        Linear.forward(x: rows.pointer, rows: grid * grid, inDim: c * p * p, weight: wb.pointer, bias: nil, outDim: d, y: out.pointer)
        for gy in 0..<grid {
            for gx in 0..<grid {
                for o in 0..<d {
                    var acc = 0.0
                    for ch in 0..<c {
                        for ky in 0..<p {
                            for kx in 0..<p {
                                let pixel = image[ch * size * size + (gy * p + ky) * size + gx * p + kx]
                                acc += Double(pixel) * Double(weight[((o * c + ch) * p + ky) * p + kx])
                            }
                        }
                    }
                    XCTAssertEqual(out.pointer[(gy * grid + gx) * d + o], Float(acc), accuracy: 1e-5)
                }
            }
        }
    }
}
