import Foundation
import XCTest
import TTADEngine
@testable import TTADModel

/// The training-mode towers' gradients against torch autograd (Fixtures/clip-grads): the TPT loss
/// on 8 views with 4 kept, its gradients to the text context, the visual prompts and every vision
/// LayerNorm affine, and the Tent loss's gradients to those LayerNorms. Every tensor must agree
/// to 1e-4 of its largest entry (the fixture records float32 vs float64 autograd at ~1.5e-6, so
/// this leaves room for a different summation order, not for a wrong term).
final class CLIPGradientReferenceTests: XCTestCase {
    static let tolerance: Float = 1e-4
    static let names = ["tiny", "quick"]

    func testTPTLossAndGradientsMatchTorch() throws {
        for name in Self.names {
            let f = try CLIPGradFixture(name)
            let problem = try CLIPGradProblem(f)
            // Selection: the Swift entropies rank the views as torch did.
            let probe = problem.run(.tent)
            XCTAssertLessThan(relativeError(probe.logits, try f.tensor("logits")), Self.tolerance, "\(name): logits")
            var entropies = [Float](repeating: 0, count: problem.viewCount)
            Losses.entropy(logits: probe.logits, rows: problem.viewCount, classes: problem.classes, entropies: &entropies)
            XCTAssertLessThan(relativeError(entropies, try f.tensor("entropy")), Self.tolerance, "\(name): entropies")
            let keep = Losses.confidentCount(rows: problem.viewCount, fraction: 0.5)
            XCTAssertEqual(keep, try f.keptCount)
            var selected = [Int](repeating: 0, count: keep)
            Losses.selectLowestEntropy(entropies: entropies, rows: problem.viewCount, count: keep, indices: &selected)
            XCTAssertEqual(selected, try f.selected, "\(name): kept views")

            let result = problem.run(.tpt(selected: selected))
            let loss = try f.tensor("loss")[0]
            XCTAssertEqual(result.loss, loss, accuracy: Self.tolerance * abs(loss), "\(name): TPT loss")
            try check(problem.text.contextGradient.array, f, "grad_ctx")
            try check(problem.vision.promptGradient.array, f, "grad_visual_prompts")
            for n in try f.layerNormNames {
                try check(try problem.layerNorm(n).gradient.array, f, "grad/\(n)")
            }
        }
    }

    func testTentLossAndLayerNormGradientsMatchTorch() throws {
        for name in Self.names {
            let f = try CLIPGradFixture(name)
            let problem = try CLIPGradProblem(f)
            let result = problem.run(.tent)
            let loss = try f.tensor("tent/loss")[0]
            XCTAssertEqual(result.loss, loss, accuracy: Self.tolerance * abs(loss), "\(name): Tent loss")
            let names = try f.layerNormNames
            XCTAssertEqual(problem.vision.layerNorms.map(\.name), names, "\(name): LayerNorm parameters and their order")
            for n in names {
                try check(try problem.layerNorm(n).gradient.array, f, "tent/grad/\(n)")
            }
        }
    }

    func testPrefixSharingGivesTheSameFeaturesAndGradients() throws {
        // The shared prefix must be a pure optimisation: same features and context gradient as
        // running every class prompt whole (to float rounding).
        for name in Self.names {
            let f = try CLIPGradFixture(name)
            let shared = try CLIPGradProblem(f, sharePrefix: true, trainLayerNorms: false)
            let whole = try CLIPGradProblem(f, sharePrefix: false, trainLayerNorms: false)
            XCTAssertTrue(shared.text.sharesPrefix)
            XCTAssertFalse(whole.text.sharesPrefix)
            XCTAssertLessThan(shared.text.rowCount, whole.text.rowCount)
            XCTAssertLessThan(relativeError(shared.text.encode(), whole.text.encode()), 1e-5, "\(name): features")
            let selected = try f.selected
            shared.run(.tpt(selected: selected))
            whole.run(.tpt(selected: selected))
            let e = relativeError(shared.text.contextGradient.array, whole.text.contextGradient.array)
            XCTAssertLessThan(e, 1e-5, "\(name): shared-prefix context gradient")
        }
    }

    func testTrainerForwardsMatchTheInferenceEncoders() throws {
        // Same ops in the same order: the training-mode forward must give the inference features.
        let f = try CLIPGradFixture("quick")
        let problem = try CLIPGradProblem(f)
        let model = f.model
        let context = try f.tensor("ctx"), prompts = try f.tensor("visual_prompts")
        let text = try model.makeTextEncoder().encode(sequences: try f.promptIDs, context: context, contextCount: context.count / model.config.text.hiddenSize)
        XCTAssertLessThan(maxAbsDifference(problem.text.encode(record: true), text), 1e-5)
        XCTAssertLessThan(maxAbsDifference(problem.text.encode(record: false), text), 1e-5)
        let image = model.makeVisionEncoder().encode(images: problem.views, batch: problem.viewCount, prompts: prompts,
                                                     promptCount: problem.vision.promptCount)
        var got = [Float](repeating: 0, count: image.count)
        problem.views.withUnsafeBufferPointer {
            problem.vision.encode(images: $0.baseAddress!, batch: problem.viewCount, features: &got, record: true)
        }
        XCTAssertLessThan(maxAbsDifference(got, image), 1e-5)
    }

    private func check(_ got: [Float], _ f: CLIPGradFixture, _ key: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let expected = try f.tensor(key)
        let e = relativeError(got, expected)
        XCTAssertLessThan(e, Self.tolerance, "\(f.name): \(key) relative error \(e)", file: file, line: line)
        if ProcessInfo.processInfo.environment["TTAD_PRINT_GRAD_ERRORS"] != nil {
            print("grad-error \(f.name) \(key) \(e)")
        }
    }
}
