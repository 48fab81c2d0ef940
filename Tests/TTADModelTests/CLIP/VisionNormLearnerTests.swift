import Foundation
import XCTest
import TTADEngine
@testable import TTADModel

/// `VisionNormLearner` on the `quick` checkpoint and its fixture views: the gradient of the
/// anchored objective against finite differences, what a step, a reset and a restore do to the
/// parameters, and that a non-finite input never reaches them.
final class VisionNormLearnerTests: XCTestCase {
    private func makeLearner(_ f: CLIPGradFixture, lr: Double = 1e-2, anchor: Float = 0.5) throws -> VisionNormLearner {
        let classes = try ClassPromptEncoder(model: f.model, classNames: ["cat", "dog", "car", "tree"], template: "a photo of a {}.")
            .classEmbeddings()
        return VisionNormLearner(model: f.model, classEmbeddings: classes, logitScale: f.model.logitScale,
                                 learningRate: lr, anchorWeight: anchor, weightTotal: 8)
    }

    /// The objective the gradient belongs to: weighted entropy plus (λ/2)‖θ − θ₀‖².
    private func objective(_ l: VisionNormLearner, _ views: [Float], _ n: Int, source: [[Float]]) -> Double {
        let loss = views.withUnsafeBufferPointer { l.lossAndGradient(images: $0.baseAddress!, batch: n) }
        var pull = 0.0
        for (i, q) in l.trainer.layerNorms.enumerated() {
            for (v, s) in zip(q.value.array, source[i]) { pull += Double(v - s) * Double(v - s) }
        }
        return Double(loss) + 0.5 * Double(l.anchorWeight) * pull
    }

    func testGradientOfTheAnchoredObjectiveMatchesFiniteDifferences() throws {
        let f = try CLIPGradFixture("quick")
        let l = try makeLearner(f)
        let n = try f.viewCount, views = try f.tensor("views")
        let source = l.trainer.layerNorms.map(\.value.array)
        // Move off the source so the anchor term has a gradient of its own.
        for q in l.trainer.layerNorms { for j in 0..<q.value.count { q.value.pointer[j] += 0.05 * Float((j % 7) - 3) } }
        _ = objective(l, views, n, source: source)
        let analytic = l.trainer.layerNorms.map(\.gradient.array)
        var checked = 0
        for (i, q) in l.trainer.layerNorms.enumerated() {
            // The largest-gradient coordinate of every parameter: where float noise matters least.
            let order = analytic[i].indices.sorted { abs(analytic[i][$0]) > abs(analytic[i][$1]) }
            for j in order.prefix(1) {
                let h: Float = 1e-2, original = q.value.pointer[j]
                q.value.pointer[j] = original + h
                let up = objective(l, views, n, source: source)
                q.value.pointer[j] = original - h
                let down = objective(l, views, n, source: source)
                q.value.pointer[j] = original
                let numeric = (up - down) / (2 * Double(h))
                let a = Double(analytic[i][j])
                XCTAssertEqual(a, numeric, accuracy: 0.03 * max(abs(numeric), 1e-3), "\(q.name)[\(j)]")
                checked += 1
            }
        }
        XCTAssertEqual(checked, l.trainer.layerNorms.count)
    }

    func testStepsLowerTheLossResetRestoresTheSourceExactly() throws {
        let f = try CLIPGradFixture("quick")
        let l = try makeLearner(f, anchor: 0)
        let n = try f.viewCount, views = try f.tensor("views")
        let source = l.trainer.layerNorms.map(\.value.array)
        XCTAssertEqual(l.distanceFromSource(), 0)
        var losses: [Float] = []
        for _ in 0..<5 {
            let r = views.withUnsafeBufferPointer { l.step(images: $0.baseAddress!, batch: n) }
            XCTAssertTrue(r.applied)
            losses.append(r.loss)
        }
        XCTAssertLessThan(losses.last!, losses.first!, "entropy minimisation must lower the entropy on its own batch")
        XCTAssertEqual(l.stepsSinceReset, 5)
        XCTAssertGreaterThan(l.distanceFromSource(), 0)

        // Predictions use the adapted affines; the frozen path does not.
        let p = f.model.config.projectionDim
        var adapted = [Float](repeating: 0, count: p), frozen = adapted, reference = adapted
        views.withUnsafeBufferPointer { v in
            l.encode(images: v.baseAddress!, batch: 1, features: &adapted)
            l.encodeFrozen(images: v.baseAddress!, batch: 1, features: &frozen)
        }
        reference = f.model.makeVisionEncoder().encode(images: Array(views[0..<l.imageFloatCount]), batch: 1)
        XCTAssertEqual(frozen, reference)
        XCTAssertGreaterThan(maxAbsDifference(adapted, reference), 1e-4)

        l.resetToSource()
        XCTAssertEqual(l.trainer.layerNorms.map(\.value.array), source)
        XCTAssertEqual(l.optimizer.stepCount, 0)
        XCTAssertEqual(l.stepsSinceReset, 0)
    }

    func testTheAnchorHoldsTheParametersNearerTheSource() throws {
        let f = try CLIPGradFixture("quick")
        let n = try f.viewCount, views = try f.tensor("views")
        var distances: [Float] = []
        for anchor: Float in [0, 50] {
            let l = try makeLearner(f, lr: 5e-2, anchor: anchor)
            for _ in 0..<10 { _ = views.withUnsafeBufferPointer { l.step(images: $0.baseAddress!, batch: n) } }
            distances.append(l.distanceFromSource())
        }
        XCTAssertLessThan(distances[1], 0.8 * distances[0], "λ = 50 must keep the affines closer than λ = 0: \(distances)")
    }

    func testANonFiniteImageChangesNothing() throws {
        let f = try CLIPGradFixture("quick")
        let l = try makeLearner(f)
        var views = try f.tensor("views")
        let n = try f.viewCount
        _ = views.withUnsafeBufferPointer { l.step(images: $0.baseAddress!, batch: n) }
        let before = l.state()
        views[17] = .nan
        let r = views.withUnsafeBufferPointer { l.step(images: $0.baseAddress!, batch: n) }
        XCTAssertFalse(r.applied)
        XCTAssertTrue(r.loss.isNaN)
        XCTAssertEqual(l.state(), before)
    }

    func testStateRoundTripsAndBadStatesAreRefused() throws {
        let f = try CLIPGradFixture("quick")
        let l = try makeLearner(f)
        let n = try f.viewCount, views = try f.tensor("views")
        for _ in 0..<3 { _ = views.withUnsafeBufferPointer { l.step(images: $0.baseAddress!, batch: n) } }
        let saved = try JSONDecoder().decode(VisionNormLearner.State.self, from: JSONEncoder().encode(l.state()))

        let other = try makeLearner(f)
        try other.restore(saved)
        XCTAssertEqual(other.state(), l.state())
        // The next step from the restored state lands where the original's does.
        let a = views.withUnsafeBufferPointer { l.step(images: $0.baseAddress!, batch: n) }
        let b = views.withUnsafeBufferPointer { other.step(images: $0.baseAddress!, batch: n) }
        XCTAssertEqual(a, b)
        XCTAssertEqual(other.state(), l.state())

        let fresh = try makeLearner(f)
        let untouched = fresh.state()
        var wrong = saved
        let name = wrong.parameters.keys.sorted()[0]
        wrong.parameters[name]!.removeLast()
        XCTAssertThrowsError(try fresh.restore(wrong))
        wrong = saved
        wrong.parameters[name]![0] = .infinity
        XCTAssertThrowsError(try fresh.restore(wrong))
        wrong = saved
        wrong.parameters["vision_model.nonexistent.weight"] = [1]
        XCTAssertThrowsError(try fresh.restore(wrong))
        wrong = saved
        wrong.optimizer.kind = "sgd"
        XCTAssertThrowsError(try fresh.restore(wrong))
        XCTAssertEqual(fresh.state(), untouched, "a refused state must leave the learner as it was")
    }

    /// Replay from kept patch embeddings is the same step as replay from the pixels, bit for bit,
    /// and an image's embeddings do not depend on the batch they were made in (so a bank item
    /// embedded alone on admission can be replayed among others).
    func testStepsFromPatchEmbeddingsEqualStepsFromPixels() throws {
        let f = try CLIPGradFixture("quick")
        let a = try makeLearner(f), b = try makeLearner(f)
        let n = try f.viewCount, views = try f.tensor("views")
        let m = a.trainer.patchEmbeddingFloatCount, size = a.imageFloatCount
        XCTAssertEqual(m, f.model.config.patchCount * f.model.config.vision.hiddenSize)
        var together = [Float](repeating: .nan, count: n * m), alone = together
        views.withUnsafeBufferPointer { v in
            together.withUnsafeMutableBufferPointer { a.trainer.embedPatches(images: v.baseAddress!, batch: n, into: $0.baseAddress!) }
            for i in 0..<n {
                alone.withUnsafeMutableBufferPointer {
                    b.trainer.embedPatches(images: v.baseAddress! + i * size, batch: 1, into: $0.baseAddress! + i * m)
                }
            }
        }
        XCTAssertEqual(together, alone)
        XCTAssertFalse(together.contains { !$0.isFinite })
        for _ in 0..<3 {
            let ra = views.withUnsafeBufferPointer { a.step(images: $0.baseAddress!, batch: n) }
            let rb = alone.withUnsafeBufferPointer { b.step(.patchEmbeddings($0.baseAddress!), batch: n) }
            XCTAssertEqual(ra, rb)
            XCTAssertTrue(ra.applied)
        }
        XCTAssertEqual(a.trainer.layerNorms.map(\.value.array), b.trainer.layerNorms.map(\.value.array))
        XCTAssertGreaterThan(a.distanceFromSource(), 0, "the steps moved something, so the comparison can fail")
    }
}
