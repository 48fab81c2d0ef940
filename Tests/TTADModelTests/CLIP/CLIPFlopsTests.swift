import XCTest
@testable import TTADModel

final class CLIPFlopsTests: XCTestCase {
    /// The figures usually quoted for CLIP image towers (4.4 "GFLOPs" for ViT-B/32, 17.5 for
    /// ViT-B/16) count multiply-accumulates; at 2 FLOPs each that is ~8.8 and ~35.1.
    func testKnownModelSizes() {
        let b32 = CLIPConfiguration.vitB(patch: 32), b16 = CLIPConfiguration.vitB(patch: 16)
        XCTAssertEqual(CLIPFlops.image(b32) / 1e9, 8.82, accuracy: 0.01)
        XCTAssertEqual(CLIPFlops.image(b16) / 1e9, 35.13, accuracy: 0.01)
        XCTAssertEqual(CLIPFlops.text(b32, tokens: 77) / 1e9, 5.96, accuracy: 0.01)
    }

    func testBlockCountsEachProduct() {
        let c = CLIPTowerConfiguration(hiddenSize: 4, intermediateSize: 8, layers: 1, heads: 2, activation: .gelu, layerNormEps: 1e-5)
        // t=3: qkv 2·3·4·12=288, out 2·3·4·4=96, attention 2·(2·9·4)=144, mlp 2·(2·3·4·8)=384.
        XCTAssertEqual(CLIPFlops.block(c, tokens: 3), 288 + 96 + 144 + 384)
    }
}
