import Foundation
import XCTest
import TTADEngine
@testable import TTADModel

/// `DynaPromptStep` on the tiny fixture model (5 classes, 8 views, keep fraction 0.25 → 2 views,
/// 3 slots). Its numbers are checked against torch (Fixtures/dynaprompt, made by
/// tools/make_dynaprompt_fixture.py) and against `DynaPromptReference` below, which recomputes
/// everything through the inference encoders in Double with no code shared with the step.
final class DynaPromptStepTests: XCTestCase {
    private struct Fixture {
        let file: SafeTensorsFile
        let json: [String: Any]
        let model: CLIPModel
        init() throws {
            file = try SafeTensorsFile(path: Fixtures.path("dynaprompt/tiny.safetensors"))
            let data = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("dynaprompt/tiny.json")))
            json = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
            model = try CLIPModel(folder: Fixtures.path("clip-models/tiny"))
        }
        func tensor(_ key: String) throws -> [Float] { try file.floats(key) }
        func int(_ key: String) throws -> Int { try XCTUnwrap(json[key] as? NSNumber).intValue }
        func ints(_ key: String) throws -> [Int] { try XCTUnwrap(json[key] as? [NSNumber]).map(\.intValue) }
        var promptIDs: [[Int32]] {
            get throws { try XCTUnwrap(json["prompt_ids"] as? [[NSNumber]]).map { $0.map { Int32($0.intValue) } } }
        }
        var keepFraction: Double { get throws { try XCTUnwrap(json["keep_fraction"] as? NSNumber).doubleValue } }

        func makeStep() throws -> DynaPromptStep {
            try DynaPromptStep(model: model, classPrompts: try promptIDs, contextCount: try int("n_ctx"),
                               initialContext: try tensor("init_ctx"), keepFraction: try keepFraction)
        }
        func makeReference() throws -> DynaPromptReference {
            try DynaPromptReference(model: model, prompts: try promptIDs, contextCount: try int("n_ctx"),
                                    initialContext: try tensor("init_ctx"), views: try tensor("views"), viewCount: try int("V"))
        }
    }

    private static let decay = Float(1 - 5e-3 * 0.01)

    private func score(_ step: DynaPromptStep, views: [Float], viewCount: Int, residuals: [Float], slots m: Int) -> (e: [Float], d: [Float]) {
        var e = [Float](repeating: .nan, count: m + 1), d = e
        let r = residuals.isEmpty ? [0] : residuals   // m = 0 reads none, but the pointer must exist
        views.withUnsafeBufferPointer { v in
            r.withUnsafeBufferPointer { r in
                step.score(views: v.baseAddress!, viewCount: viewCount, residuals: r.baseAddress!,
                           slotCount: m, entropies: &e, differences: &d)
            }
        }
        return (e, d)
    }

    private func update(_ step: DynaPromptStep, residuals: inout [Float], slots m: Int, selected: [Int]) -> (loss: Float, logits: [Float]) {
        var logits = [Float](repeating: .nan, count: step.classCount)
        let loss = residuals.withUnsafeMutableBufferPointer { r in
            step.update(residuals: r.baseAddress!, slotCount: m, selected: selected, logits: &logits)
        }
        return (loss, logits)
    }

    private func rows(_ residuals: [Float], _ slots: [Int], length l: Int) -> [[Float]] {
        slots.map { Array(residuals[($0 * l)..<(($0 + 1) * l)]) }
    }

    // MARK: Phase 1

    func testScoreOfTheFreshPromptAloneAndOfZeroSlotsIsTheInitialContexts() throws {
        let f = try Fixture()
        let step = try f.makeStep(), reference = try f.makeReference()
        let views = try f.tensor("views"), v = try f.int("V"), l = step.residualLength

        let fresh = score(step, views: views, viewCount: v, residuals: [], slots: 0)
        let (e, d) = try reference.score(residual: [Float](repeating: 0, count: l))
        XCTAssertEqual(Double(fresh.e[0]), e, accuracy: 1e-5)
        XCTAssertEqual(Double(fresh.d[0]), d, accuracy: 1e-5)
        XCTAssertGreaterThan(fresh.d[0].magnitude, 1e-3, "a zero D would not test the max-logit drop")

        // Zero residuals are the initial context: bit-identical to the fresh prompt's numbers.
        let zeros = score(step, views: views, viewCount: v, residuals: [Float](repeating: 0, count: 2 * l), slots: 2)
        XCTAssertEqual(zeros.e, [Float](repeating: fresh.e[0], count: 3))
        XCTAssertEqual(zeros.d, [Float](repeating: fresh.d[0], count: 3))

        // One view: no augmented view to compare, D is 0 by definition; E is that view's entropy.
        let single = score(step, views: Array(views[0..<step.imageFloatCount]), viewCount: 1, residuals: [], slots: 0)
        XCTAssertEqual(single.d, [0])
        XCTAssertEqual(Double(single.e[0]), try reference.viewEntropies(residuals: [[Float](repeating: 0, count: l)])[0], accuracy: 1e-5)
    }

    func testScoreMatchesTorchAndTheInferenceEncoders() throws {
        let f = try Fixture()
        let step = try f.makeStep(), reference = try f.makeReference()
        let m = try f.int("M"), residuals = try f.tensor("residuals"), l = step.residualLength
        let (e, d) = score(step, views: try f.tensor("views"), viewCount: try f.int("V"), residuals: residuals, slots: m)
        XCTAssertLessThan(maxAbsDifference(e, try f.tensor("entropy")), 1e-5, "E against torch")
        XCTAssertLessThan(maxAbsDifference(d, try f.tensor("difference")), 1e-5, "D against torch")
        for i in 0...m {
            let row = i < m ? Array(residuals[(i * l)..<((i + 1) * l)]) : [Float](repeating: 0, count: l)
            let (ei, di) = try reference.score(residual: row)
            XCTAssertEqual(Double(e[i]), ei, accuracy: 1e-5, "E of prompt \(i)")
            XCTAssertEqual(Double(d[i]), di, accuracy: 1e-5, "D of prompt \(i)")
        }
        // The prompts differ enough that the metrics tell them apart.
        XCTAssertGreaterThan((e.max()! - e.min()!), 1e-3)
        XCTAssertGreaterThan((d.max()! - d.min()!), 1e-3)
    }

    // MARK: Phase 2

    func testOneUpdateMatchesTorch() throws {
        let f = try Fixture()
        let step = try f.makeStep()
        let m = try f.int("M"), selected = try f.ints("selected")
        var residuals = try f.tensor("residuals")
        _ = score(step, views: try f.tensor("views"), viewCount: try f.int("V"), residuals: residuals, slots: m)
        let (loss, logits) = update(step, residuals: &residuals, slots: m, selected: selected)
        let torchLoss = try f.tensor("loss")[0]
        XCTAssertEqual(loss, torchLoss, accuracy: 1e-5 * torchLoss)
        XCTAssertEqual(step.lastLoss, loss)
        XCTAssertEqual(step.lastKept, try f.ints("kept"))
        XCTAssertTrue(step.lastUpdated)
        XCTAssertLessThan(relativeError(step.lastGradient, try f.tensor("grad")), 1e-4, "gradient of the residual block")
        XCTAssertLessThan(maxAbsDifference(residuals, try f.tensor("residuals_after")), 1e-6, "residuals after AdamW")
        XCTAssertLessThan(maxAbsDifference(logits, try f.tensor("prediction")), 1e-4, "prediction")
    }

    /// The buffer's usual move between the phases: the fresh prompt is put in a new slot (zero
    /// residual, the slot count grows) and selected with an older slot. The step's gradient must
    /// be that of the loss computed independently, by central differences.
    func testGradientIsTheLossDerivativeAfterTheFreshPromptIsAppended() throws {
        let f = try Fixture()
        let step = try f.makeStep(), reference = try f.makeReference()
        let views = try f.tensor("views"), v = try f.int("V"), l = step.residualLength
        let k = Losses.confidentCount(rows: v, fraction: try f.keepFraction)
        let scored = Array(try f.tensor("residuals")[0..<(2 * l)])
        _ = score(step, views: views, viewCount: v, residuals: scored, slots: 2)
        var residuals = scored + [Float](repeating: 0, count: l)
        let before = residuals, selected = [2, 0]
        let (loss, logits) = update(step, residuals: &residuals, slots: 3, selected: selected)

        let expected = try reference.loss(residuals: rows(before, selected, length: l), keep: k)
        XCTAssertEqual(Double(loss), expected.loss, accuracy: 1e-5 * expected.loss)
        XCTAssertEqual(step.lastKept, expected.kept)
        let gradient = step.lastGradient
        XCTAssertEqual(gradient.count, 3 * l)
        XCTAssertEqual(Array(gradient[l..<(2 * l)]), [Float](repeating: 0, count: l), "slot 1 is not selected")
        let scale = gradient.map(abs).max()!
        XCTAssertGreaterThan(scale, 1e-3)

        // Central differences on the largest entries of each selected slot and a few others.
        let h: Float = 3e-3   // at 1e-3 the encoders' float32 noise already costs up to 2e-3 of the scale
        var probes = [Int]()
        for slot in selected {
            let range = (slot * l)..<((slot + 1) * l)
            probes.append(range.max { abs(gradient[$0]) < abs(gradient[$1]) }!)
            probes += [range.lowerBound + 5, range.lowerBound + l / 2 + 3]
        }
        for index in probes {
            var plus = before, minus = before
            plus[index] += h
            minus[index] -= h
            let up = try reference.loss(residuals: rows(plus, selected, length: l), keep: k)
            let down = try reference.loss(residuals: rows(minus, selected, length: l), keep: k)
            XCTAssertEqual(up.kept, expected.kept, "the probe must not change the kept views")
            XCTAssertEqual(down.kept, expected.kept)
            let numeric = (up.loss - down.loss) / (Double(plus[index]) - Double(minus[index]))
            XCTAssertEqual(Double(gradient[index]), numeric, accuracy: 5e-3 * Double(scale), "entry \(index)")
        }

        // Unselected slot 1: decay only, exactly. Selected slots: one AdamW step from fresh moments.
        XCTAssertEqual(Array(residuals[l..<(2 * l)]), before[l..<(2 * l)].map { $0 * Self.decay })
        XCTAssertLessThan(maxAbsDifference(residuals, freshAdamW(before, gradient)), 1e-6)

        // Prediction: mean of view 0's logits under the updated selected prompts, independently.
        let prediction = try reference.prediction(residuals: rows(residuals, selected, length: l))
        XCTAssertLessThan(maxAbsDifference(logits, prediction.map(Float.init)), 1e-4)
    }

    /// A zero slot selected alone is the fresh prompt: its view selection must be the fresh
    /// prompt's, not a neighbouring slot's (slot 1, scaled ×4, keeps other views).
    func testAppendedZeroSlotIsTheFreshPrompt() throws {
        let f = try Fixture()
        let step = try f.makeStep(), reference = try f.makeReference()
        let views = try f.tensor("views"), v = try f.int("V"), l = step.residualLength
        let k = Losses.confidentCount(rows: v, fraction: try f.keepFraction)
        var scored = Array(try f.tensor("residuals")[0..<(2 * l)])
        for i in l..<(2 * l) { scored[i] *= 4 }
        _ = score(step, views: views, viewCount: v, residuals: scored, slots: 2)
        var residuals = scored + [Float](repeating: 0, count: l)
        let (loss, logits) = update(step, residuals: &residuals, slots: 3, selected: [2])
        let expected = try reference.loss(residuals: [[Float](repeating: 0, count: l)], keep: k)
        XCTAssertNotEqual(try reference.loss(residuals: rows(scored, [1], length: l), keep: k).kept, expected.kept, "power")
        XCTAssertEqual(step.lastKept, expected.kept)
        XCTAssertEqual(Double(loss), expected.loss, accuracy: 1e-5 * expected.loss)
        let prediction = try reference.prediction(residuals: rows(residuals, [2], length: l))
        XCTAssertLessThan(maxAbsDifference(logits, prediction.map(Float.init)), 1e-4)
    }

    /// A slot changed after `score` (neither as scored nor zero) is encoded again, and every update
    /// starts from fresh moments: the second step is again the closed-form first AdamW step.
    func testUpdatesRestartTheMomentsAndReencodeChangedSlots() throws {
        let f = try Fixture()
        let step = try f.makeStep(), reference = try f.makeReference()
        let views = try f.tensor("views"), v = try f.int("V"), l = step.residualLength, m = try f.int("M")
        let k = Losses.confidentCount(rows: v, fraction: try f.keepFraction)
        var residuals = try f.tensor("residuals")
        _ = score(step, views: views, viewCount: v, residuals: residuals, slots: m)
        let scoredKept = try reference.loss(residuals: rows(residuals, [1], length: l), keep: k).kept
        for i in 0..<l { residuals[l + i] *= 4 }   // slot 1 changed after scoring
        for round in 0..<2 {
            let before = residuals, selected = [1]
            let (loss, _) = update(step, residuals: &residuals, slots: m, selected: selected)
            let expected = try reference.loss(residuals: rows(before, selected, length: l), keep: k)
            // Power: logits kept from `score` for slot 1 would keep other views (and miss the loss).
            if round == 0 { XCTAssertNotEqual(expected.kept, scoredKept) }
            XCTAssertEqual(Double(loss), expected.loss, accuracy: 1e-5 * expected.loss, "round \(round)")
            XCTAssertEqual(step.lastKept, expected.kept, "round \(round)")
            XCTAssertLessThan(maxAbsDifference(residuals, freshAdamW(before, step.lastGradient)), 1e-6, "round \(round)")
            XCTAssertEqual(Array(residuals[0..<l]), before[0..<l].map { $0 * Self.decay }, "round \(round)")
        }
    }

    func testNonFiniteLossLeavesTheResidualsUntouched() throws {
        let f = try Fixture()
        let step = try f.makeStep()
        let views = try f.tensor("views"), v = try f.int("V"), l = step.residualLength, m = try f.int("M")
        let good = try f.tensor("residuals")
        _ = score(step, views: views, viewCount: v, residuals: good, slots: m)
        var residuals = good
        residuals[2 * l + 7] = .nan
        let before = residuals
        let (loss, logits) = update(step, residuals: &residuals, slots: m, selected: [2, 0])
        XCTAssertTrue(loss.isNaN)
        XCTAssertTrue(step.lastLoss.isNaN)
        XCTAssertFalse(step.lastUpdated)
        XCTAssertEqual(residuals.map(\.bitPattern), before.map(\.bitPattern), "no decay either: the step is skipped")
        XCTAssertEqual(logits.count, step.classCount)

        // The next sample updates normally.
        residuals = good
        _ = score(step, views: views, viewCount: v, residuals: residuals, slots: m)
        let again = update(step, residuals: &residuals, slots: m, selected: [2, 0])
        XCTAssertTrue(again.loss.isFinite)
        XCTAssertTrue(step.lastUpdated)
        XCTAssertLessThan(maxAbsDifference(residuals, try f.tensor("residuals_after")), 1e-6)
    }

    func testRejectsInconsistentConfiguration() throws {
        let f = try Fixture()
        let prompts = try f.promptIDs, ctx = try f.tensor("init_ctx")
        XCTAssertThrowsError(try DynaPromptStep(model: f.model, classPrompts: prompts, contextCount: 4, initialContext: Array(ctx.dropLast()))) {
            guard case .badInput = $0 as? CLIPModelError else { return XCTFail("\($0)") }
        }
        XCTAssertThrowsError(try DynaPromptStep(model: f.model, classPrompts: prompts, contextCount: 4, initialContext: ctx, keepFraction: 0)) {
            guard case .badInput = $0 as? CLIPModelError else { return XCTFail("\($0)") }
        }
        let step = try DynaPromptStep(model: f.model, classPrompts: prompts, contextCount: 4, initialContext: ctx)
        XCTAssertEqual(step.residualLength, 4 * f.model.config.text.hiddenSize)
        XCTAssertEqual(step.classCount, prompts.count)
        XCTAssertEqual(step.imageFloatCount, 3 * 32 * 32)
    }

    /// torch AdamW's first step from zero moments (lr 5e-3, betas 0.9/0.999, eps 1e-8, wd 0.01), in Double.
    private func freshAdamW(_ p: [Float], _ g: [Float]) -> [Float] {
        let lr = 5e-3, b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = 0.01
        return zip(p, g).map { p, g in
            let g = Double(g), m = (1 - b1) * g, v = (1 - b2) * g * g
            return Float(Double(p) * (1 - lr * wd) - lr * (m / (1 - b1)) / ((v / (1 - b2)).squareRoot() + eps))
        }
    }
}

/// DynaPrompt's numbers for one image, recomputed through the inference encoders: features in
/// Float (the encoders'), everything after the cosine logits in Double.
struct DynaPromptReference {
    let model: CLIPModel
    let prompts: [[Int32]]
    let contextCount: Int
    let initialContext: [Float]
    let images: [Float]
    let viewCount: Int

    init(model: CLIPModel, prompts: [[Int32]], contextCount: Int, initialContext: [Float], views: [Float], viewCount: Int) throws {
        self.model = model
        self.prompts = prompts
        self.contextCount = contextCount
        self.initialContext = initialContext
        self.viewCount = viewCount
        images = model.makeVisionEncoder().encode(images: views, batch: viewCount)
    }

    /// `[V][C]` logits under the prompt with this residual.
    func logits(residual: [Float]) throws -> [[Double]] {
        let context = zip(initialContext, residual).map { $0 + $1 }
        let texts = try model.makeTextEncoder().encode(sequences: prompts, context: context, contextCount: contextCount)
        let z = clipLogits(images: images, texts: texts, dim: model.config.projectionDim, scale: model.logitScale)
        let c = prompts.count
        return (0..<viewCount).map { j in z[(j * c)..<((j + 1) * c)].map(Double.init) }
    }

    static func softmax(_ z: [Double]) -> [Double] {
        let top = z.max()!, e = z.map { Foundation.exp($0 - top) }, s = e.reduce(0, +)
        return e.map { $0 / s }
    }

    static func entropy(_ p: [Double]) -> Double { -p.reduce(0) { $0 + ($1 > 0 ? $1 * Foundation.log($1) : 0) } }

    /// E and D of one prompt.
    func score(residual: [Float]) throws -> (e: Double, d: Double) {
        let z = try logits(residual: residual)
        let e = z.map { Self.entropy(Self.softmax($0)) }.reduce(0, +) / Double(viewCount)
        let d = (1..<viewCount).map { z[0].max()! - z[$0].max()! }.reduce(0, +) / Double(viewCount - 1)
        return (e, d)
    }

    /// Per-view entropy averaged over these prompts.
    func viewEntropies(residuals: [[Float]]) throws -> [Double] {
        var h = [Double](repeating: 0, count: viewCount)
        for r in residuals {
            for (j, row) in try logits(residual: r).enumerated() { h[j] += Self.entropy(Self.softmax(row)) / Double(residuals.count) }
        }
        return h
    }

    /// The DynaPrompt loss of the selected prompts (their residuals) and the kept views.
    func loss(residuals: [[Float]], keep k: Int) throws -> (loss: Double, kept: [Int]) {
        let h = try viewEntropies(residuals: residuals)
        let kept = Array((0..<viewCount).sorted { (h[$0], $0) < (h[$1], $1) }.prefix(k))
        var total = 0.0
        for r in residuals {
            let z = try logits(residual: r)
            var mean = [Double](repeating: 0, count: prompts.count)
            for j in kept { for (c, p) in Self.softmax(z[j]).enumerated() { mean[c] += p / Double(k) } }
            total += Self.entropy(mean)
        }
        return (total / Double(residuals.count), kept)
    }

    /// View 0's logits averaged over the prompts.
    func prediction(residuals: [[Float]]) throws -> [Double] {
        var out = [Double](repeating: 0, count: prompts.count)
        for r in residuals {
            for (c, x) in try logits(residual: r)[0].enumerated() { out[c] += x / Double(residuals.count) }
        }
        return out
    }
}
