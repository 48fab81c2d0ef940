import Foundation
import XCTest
import TTADEngine
@testable import TTADModel

/// The `VisionNormLearner` options the `stamp` and `rotta` presets use: SAM around SGD with some
/// affines held fixed, the soft-target objective, and the teacher's EMA — each checked against
/// the same computation done by hand from `lossAndGradient`.
final class VisionNormLearnerVariantsTests: XCTestCase {
    private func classes(_ f: CLIPGradFixture) throws -> ClassEmbeddings {
        try ClassPromptEncoder(model: f.model, classNames: ["cat", "dog", "car", "tree"], template: "a photo of a {}.").classEmbeddings()
    }

    private func learner(_ f: CLIPGradFixture, _ optimization: VisionNormLearner.Optimization,
                         frozen: Set<String> = []) throws -> VisionNormLearner {
        VisionNormLearner(model: f.model, classEmbeddings: try classes(f), logitScale: f.model.logitScale,
                          optimization: optimization, anchorWeight: 0, weightTotal: 8, frozenParameters: frozen)
    }

    func testStampFreezesTheLastQuarterOfTheBlocksAndTheFinalNorm() throws {
        let f = try CLIPGradFixture("quick")
        let l = try learner(f, .adamW(learningRate: 1e-2))
        let names = l.trainer.layerNorms.map(\.name)
        let frozen = VisionNormLearner.stampFrozenParameters(f.model.config, names: names)
        let layers = f.model.config.vision.layers
        let last = layers - max(layers / 4, 0)
        let expected = Set(names.filter { n in
            n.contains("post_layernorm") || (last..<layers).contains { n.contains("encoder.layers.\($0).") }
        })
        XCTAssertEqual(frozen, expected)
        XCTAssertTrue(frozen.contains("vision_model.post_layernorm.weight"))
        XCTAssertFalse(frozen.contains("vision_model.pre_layrnorm.weight"))
        XCTAssertFalse(frozen.contains("vision_model.encoder.layers.0.layer_norm1.weight"))
    }

    /// SAM: gradient g₁ at w, ascent to w + ρ·g₁/‖g₁‖, gradient g₂ there, w ← w − lr·g₂; the
    /// frozen affines take no part (zero gradient) and do not move.
    func testSAMStepIsTheAscentThenSGDFromTheOriginalPointAndFrozenAffinesStay() throws {
        let f = try CLIPGradFixture("quick")
        let n = try f.viewCount, views = try f.tensor("views")
        let lr = 0.5, rho = 0.05
        let probe = try learner(f, .adamW(learningRate: 1e-2))
        let frozen: Set<String> = [probe.trainer.layerNorms[0].name, probe.trainer.layerNorms.last!.name]
        let sam = try learner(f, .samSGD(learningRate: lr, rho: rho), frozen: frozen)
        let byHand = try learner(f, .adamW(learningRate: 1e-2), frozen: frozen)
        let w = byHand.trainer.layerNorms.map(\.value.array)

        // By hand: g₁, the perturbation, g₂.
        _ = views.withUnsafeBufferPointer { byHand.lossAndGradient(images: $0.baseAddress!, batch: n) }
        let g1 = byHand.trainer.layerNorms.map(\.gradient.array)
        let norm = g1.joined().reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        XCTAssertGreaterThan(norm, 0)
        for (i, q) in byHand.trainer.layerNorms.enumerated() {
            for j in 0..<q.value.count { q.value.pointer[j] = w[i][j] + Float(rho / (norm + 1e-12)) * g1[i][j] }
        }
        _ = views.withUnsafeBufferPointer { byHand.lossAndGradient(images: $0.baseAddress!, batch: n) }
        let g2 = byHand.trainer.layerNorms.map(\.gradient.array)

        let result = views.withUnsafeBufferPointer { sam.step(images: $0.baseAddress!, batch: n) }
        XCTAssertTrue(result.applied)
        for (i, q) in sam.trainer.layerNorms.enumerated() {
            let after = q.value.array
            if frozen.contains(q.name) {
                XCTAssertEqual(after, w[i], "\(q.name) is frozen")
                continue
            }
            for j in 0..<after.count {
                XCTAssertEqual(after[j], w[i][j] - Float(lr) * g2[i][j], accuracy: 1e-5, "\(q.name)[\(j)]")
            }
        }
        XCTAssertTrue(zip(g1.joined(), g2.joined()).contains { $0 != $1 }, "the perturbation must change the gradient")
    }

    /// The soft-target loss is the cross-entropy of the student's logits toward the targets,
    /// weighted per row; targets equal to the student's own softmax give zero gradient.
    func testSoftTargetObjectiveIsTheWeightedCrossEntropyOfTheLearnersLogits() throws {
        let f = try CLIPGradFixture("quick")
        let n = try f.viewCount, views = try f.tensor("views")
        let l = try learner(f, .adamW(learningRate: 1e-2))
        let c = l.classCount, p = f.model.config.projectionDim
        // The student's probabilities, by the inference path.
        var feats = [Float](repeating: 0, count: n * p)
        views.withUnsafeBufferPointer { v in feats.withUnsafeMutableBufferPointer { l.encode(images: v.baseAddress!, batch: n, features: $0.baseAddress!) } }
        let texts = try classes(f).matrix.storage
        var probs = [Float](repeating: 0, count: n * c)
        for r in 0..<n {
            let x = Array(feats[r * p ..< (r + 1) * p]), xn = (x.reduce(0) { $0 + $1 * $1 }).squareRoot()
            var z = (0..<c).map { k in f.model.logitScale * zip(x, texts[k * p ..< (k + 1) * p]).reduce(0) { $0 + $1.0 * $1.1 } / xn }
            let m = z.max()!
            z = z.map { exp($0 - m) }
            let s = z.reduce(0, +)
            for k in 0..<c { probs[r * c + k] = z[k] / s }
        }
        let weights = (0..<n).map { Float($0 + 1) / Float(n) }
        // Own probabilities as targets: the loss is the weighted mean entropy, the gradient zero.
        let loss = probs.withUnsafeBufferPointer { q in weights.withUnsafeBufferPointer { w in views.withUnsafeBufferPointer {
            l.lossAndGradient(images: $0.baseAddress!, batch: n, objective: .softTargets(targets: q.baseAddress!, rowWeights: w.baseAddress!))
        } } }
        var expected = 0.0
        for r in 0..<n {
            var h = 0.0
            for k in 0..<c { let q = Double(probs[r * c + k]); h -= q * log(q) }
            expected += Double(weights[r]) * h
        }
        XCTAssertEqual(Double(loss), expected / Double(n), accuracy: 1e-4)
        let largest = l.trainer.layerNorms.map { $0.gradient.array.map(abs).max()! }.max()!
        XCTAssertLessThan(largest, 1e-4, "targets equal to the prediction leave nothing to learn")
        // One-hot targets on class 0 do produce a gradient.
        var oneHot = [Float](repeating: 0, count: n * c)
        for r in 0..<n { oneHot[r * c] = 1 }
        _ = oneHot.withUnsafeBufferPointer { q in weights.withUnsafeBufferPointer { w in views.withUnsafeBufferPointer {
            l.lossAndGradient(images: $0.baseAddress!, batch: n, objective: .softTargets(targets: q.baseAddress!, rowWeights: w.baseAddress!))
        } } }
        XCTAssertGreaterThan(l.trainer.layerNorms.map { $0.gradient.array.map(abs).max()! }.max()!, 1e-4)
    }

    func testTeacherMovesTowardTheStudentByTheRate() throws {
        let f = try CLIPGradFixture("quick")
        let teacher = try learner(f, .adamW(learningRate: 1e-2)), student = try learner(f, .adamW(learningRate: 1e-2))
        let before = teacher.trainer.layerNorms.map(\.value.array)
        for q in student.trainer.layerNorms { for j in 0..<q.value.count { q.value.pointer[j] += 1 } }
        teacher.moveToward(student, rate: 0.25)
        for (i, q) in teacher.trainer.layerNorms.enumerated() {
            for (a, b) in zip(q.value.array, before[i]) { XCTAssertEqual(a, b + 0.25, accuracy: 1e-6) }
        }
        teacher.moveToward(student, rate: 0)
        for (i, q) in teacher.trainer.layerNorms.enumerated() {
            for (a, b) in zip(q.value.array, before[i]) { XCTAssertEqual(a, b + 0.25, accuracy: 1e-6) }
        }
    }
}
