import Foundation
import XCTest
import TTADEngine
@testable import TTADModel

/// `TPTStep` on the gradient fixtures (8 views, keep fraction 0.5 → 4, fixed visual prompts):
/// the step's loss, kept views and updated context must be torch's, and its prediction must be
/// the inference encoders' logits for view 0 under that context.
final class TPTStepTests: XCTestCase {
    private func makeStep(_ f: CLIPGradFixture, episodic: Bool = true, trainVisualPrompts: Bool = false) throws -> TPTStep {
        try TPTStep(model: f.model, classPrompts: try f.promptIDs, contextCount: try f.int("n_ctx"),
                    initialContext: try f.tensor("ctx"), visualPrompts: try f.tensor("visual_prompts"),
                    trainVisualPrompts: trainVisualPrompts, keepFraction: 0.5, episodic: episodic)
    }

    func testOneStepMatchesTorchAndPredictsWithTheUpdatedContext() throws {
        for name in CLIPGradientReferenceTests.names {
            let f = try CLIPGradFixture(name)
            let step = try makeStep(f)
            let views = try f.tensor("views")
            let logits = step.step(views: views, viewCount: try f.viewCount)
            let loss = try f.tensor("loss")[0]
            XCTAssertEqual(step.lastLoss, loss, accuracy: 1e-4 * loss, "\(name): loss")
            XCTAssertEqual(step.lastKept, try f.selected, "\(name): kept views")
            let ctx1 = try f.tensor("adamw/ctx_after1")
            XCTAssertLessThan(maxAbsDifference(step.text.context.array, ctx1), 1e-6, "\(name): context after the step")

            // The prediction, independently: inference encoders at ctx_after1, view 0.
            let model = f.model
            let nCtx = try f.int("n_ctx"), vp = try f.tensor("visual_prompts")
            let texts = try model.makeTextEncoder().encode(sequences: try f.promptIDs, context: ctx1, contextCount: nCtx)
            let view0 = Array(views[0..<step.vision.imageFloatCount])
            let image = model.makeVisionEncoder().encode(images: view0, batch: 1, prompts: vp, promptCount: vp.count / model.config.vision.hiddenSize)
            let expected = clipLogits(images: image, texts: texts, dim: model.config.projectionDim, scale: model.logitScale)
            XCTAssertLessThan(maxAbsDifference(logits, expected), 1e-4, "\(name): prediction logits")
        }
    }

    func testEpisodicStepsRestartWhileOnlineStepsContinue() throws {
        let f = try CLIPGradFixture("quick")
        let views = try f.tensor("views"), v = try f.viewCount
        let episodic = try makeStep(f)
        let first = episodic.step(views: views, viewCount: v)
        XCTAssertEqual(episodic.step(views: views, viewCount: v), first, "an episodic step must not depend on the previous one")
        XCTAssertEqual(episodic.optimizer.stepCount, 1)

        // Online: the second step starts at ctx_after1 with the moments of step 1 and (the fixture
        // checked) re-selects the same views, so it lands on torch's second AdamW step.
        let online = try makeStep(f, episodic: false)
        online.step(views: views, viewCount: v)
        online.step(views: views, viewCount: v)
        XCTAssertEqual(online.optimizer.stepCount, 2)
        XCTAssertLessThan(maxAbsDifference(online.text.context.array, try f.tensor("adamw/ctx_after2")), 1e-6)
    }

    func testTrainingVisualPromptsUsesTheirTorchGradient() throws {
        for name in CLIPGradientReferenceTests.names {
            let f = try CLIPGradFixture(name)
            let step = try makeStep(f, trainVisualPrompts: true)
            step.step(views: try f.tensor("views"), viewCount: try f.viewCount)
            XCTAssertLessThan(relativeError(step.text.contextGradient.array, try f.tensor("grad_ctx")), 1e-4, "\(name): ctx")
            XCTAssertLessThan(relativeError(step.vision.promptGradient.array, try f.tensor("grad_visual_prompts")), 1e-4,
                              "\(name): visual prompts")
            XCTAssertEqual(step.optimizer.parameters.count, 2)
            XCTAssertLessThan(maxAbsDifference(step.text.context.array, try f.tensor("adamw/ctx_after1")), 1e-6)
        }
    }

    func testInitialContextIsThePhraseTokenEmbeddings() throws {
        let f = try CLIPGradFixture("tiny")
        let model = f.model
        let (count, values) = TPTStep.initialContext(model: model, phrase: "a photo of a")
        XCTAssertEqual(count, 4)
        let ids = try f.promptIDs[0]
        let d = model.config.text.hiddenSize
        for j in 0..<count {
            let row = Array(UnsafeBufferPointer(start: model.weights.text.tokenEmbedding.pointer + Int(ids[1 + j]) * d, count: d))
            XCTAssertEqual(Array(values[(j * d)..<((j + 1) * d)]), row)
        }
    }
}
