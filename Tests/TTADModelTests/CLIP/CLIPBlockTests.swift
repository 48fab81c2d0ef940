import Foundation
import XCTest
import TTADEngine
@testable import TTADModel

/// `CLIPBlock.forward` is the only block forward: an image's features are the same floats whether
/// its forward was recorded for a gradient (the tape) or not (the inference encoder). Replayed
/// adaptation steps rely on it — the bank's items were scored by the forward that predicted them.
final class CLIPBlockTests: XCTestCase {
    func testARecordedForwardGivesTheInferenceFeaturesBitForBit() throws {
        let f = try CLIPGradFixture("quick")
        let views = try f.tensor("views"), n = try f.viewCount
        for trainLayerNorms in [false, true] {
            let trainer = CLIPVisionTrainer(config: f.model.config, weights: f.model.weights.vision, trainLayerNorms: trainLayerNorms)
            // Move the trained affines off the source so both paths must read the trainer's own.
            for q in trainer.layerNorms { for j in 0..<q.value.count { q.value.pointer[j] += 0.01 * Float((j % 5) - 2) } }
            let p = f.model.config.projectionDim, size = trainer.imageFloatCount
            var inferred = [Float](repeating: 0, count: p), recorded = inferred
            for v in 0..<n {
                views.withUnsafeBufferPointer { img in
                    inferred.withUnsafeMutableBufferPointer {
                        trainer.encode(images: img.baseAddress! + v * size, batch: 1, features: $0.baseAddress!, record: false)
                    }
                    recorded.withUnsafeMutableBufferPointer {
                        trainer.encode(images: img.baseAddress! + v * size, batch: 1, features: $0.baseAddress!, record: true)
                    }
                }
                XCTAssertEqual(inferred.map(\.bitPattern), recorded.map(\.bitPattern),
                               "view \(v), trainLayerNorms \(trainLayerNorms): the recorded forward computed other floats")
            }
        }
    }
}
