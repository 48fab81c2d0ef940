import Foundation
import XCTest
import TTADEngine
@testable import TTADModel

/// Optimizer steps driven by the Swift gradients, against torch (Fixtures/clip-grads): TPT's
/// AdamW on the text context for one and two steps (the step-1 view selection reused, as TPT
/// does), and one SAM step (SAR's two-step form around SGD with momentum) on the vision
/// LayerNorms under the Tent loss. Parameters must agree to 1e-6 absolute.
final class CLIPPromptOptimizerReferenceTests: XCTestCase {
    static let tolerance: Float = 1e-6

    func testTwoAdamWStepsOnTheContextMatchTorch() throws {
        for name in CLIPGradientReferenceTests.names {
            let f = try CLIPGradFixture(name)
            let problem = try CLIPGradProblem(f, trainLayerNorms: false)
            let selected = try f.selected
            let text = problem.text
            let adamW = AdamW(parameters: [text.context], gradients: [text.contextGradient],
                              learningRate: 5e-3, betas: (0.9, 0.999), eps: 1e-8, weightDecay: 0.01)
            problem.run(.tpt(selected: selected))
            adamW.step()
            XCTAssertLessThan(maxAbsDifference(text.context.array, try f.tensor("adamw/ctx_after1")), Self.tolerance, "\(name): step 1")

            let second = problem.run(.tpt(selected: selected))
            let loss2 = try f.tensor("adamw/loss2")[0]
            XCTAssertEqual(second.loss, loss2, accuracy: 1e-4 * abs(loss2), "\(name): loss at ctx_after1")
            let e = relativeError(text.contextGradient.array, try f.tensor("adamw/grad_ctx2"))
            XCTAssertLessThan(e, CLIPGradientReferenceTests.tolerance, "\(name): gradient at ctx_after1")
            adamW.step()
            XCTAssertEqual(adamW.stepCount, 2)
            XCTAssertLessThan(maxAbsDifference(text.context.array, try f.tensor("adamw/ctx_after2")), Self.tolerance, "\(name): step 2")
        }
    }

    func testSAMStepOnTheVisionLayerNormsMatchesTorch() throws {
        for name in CLIPGradientReferenceTests.names {
            let f = try CLIPGradFixture(name)
            let problem = try CLIPGradProblem(f)
            let norms = problem.vision.layerNorms
            let sgd = SGD(parameters: norms.map(\.value), gradients: norms.map(\.gradient), learningRate: 1e-3, momentum: 0.9)
            let sam = SAM(base: sgd, rho: 0.05)
            problem.run(.tent)
            let gradNorm = try f.tensor("sam/grad_norm")[0]
            XCTAssertEqual(Float(sam.gradientNorm()), gradNorm, accuracy: 1e-4 * gradNorm, "\(name): gradient norm")
            var perturbedLoss: Float = .nan
            sam.step {
                perturbedLoss = problem.run(.tent).loss
                for n in norms {
                    let e = relativeError(n.gradient.array, try! f.tensor("sam/perturbed_grad/\(n.name)"))
                    XCTAssertLessThan(e, CLIPGradientReferenceTests.tolerance, "\(name): perturbed gradient of \(n.name)")
                }
            }
            let expectedLoss = try f.tensor("sam/perturbed_loss")[0]
            XCTAssertEqual(perturbedLoss, expectedLoss, accuracy: 1e-4 * expectedLoss, "\(name): loss at w + e")
            for n in norms {
                let d = maxAbsDifference(n.value.array, try f.tensor("sam/\(n.name)"))
                XCTAssertLessThan(d, Self.tolerance, "\(name): \(n.name) after the SAM step")
            }
        }
    }
}
