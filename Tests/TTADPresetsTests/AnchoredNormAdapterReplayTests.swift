import Foundation
import TTADModel
import TTADProtocol
import XCTest
@testable import TTADPresets

/// `AnchoredNormAdapter.step` decodes a bank item once and replays its kept patch embeddings after that:
/// how many items each step decodes, and that a restarted adapter (nothing kept, every item
/// decoded again) takes exactly the step the running one takes from what it kept.
final class AnchoredNormAdapterReplayTests: XCTestCase {
    private func makeAdapter() throws -> (AnchoredNormAdapter, ReplayDecoder) {
        var s = AdaptationSection()
        s.preset = .ttad
        s.learningRate = 1e-2
        s.updateEverySamples = 4
        s.minBankItems = 2
        s.bank.capacity = 6
        s.bank.entropyFraction = 1
        s.guardSettings.cooldownSamples = 0
        s.labelGate.warmupSamples = 0   // replay from the first samples; the gate is not what this tests
        let (model, _, classes) = try PresetFixtures.model()
        let adapter = try AnchoredNormAdapter(settings: s, model: model, classes: classes, logitScale: model.logitScale)
        return (adapter, ReplayDecoder(limits: ImageDecodeLimits(), preprocessing: model.preprocessing))
    }

    /// Offers sample k (class k % 4, confident, agreeing with the frozen model) to the bank.
    private func observe(_ a: AnchoredNormAdapter, _ k: Int) {
        var r = ClassificationResult()
        r.predicted = k % 4
        r.entropy = 0.1 + 0.01 * Float(k % 7)
        r.maxCosine = 0.5
        let sample = BankSample(encoding: SampleEncoding.rawU8HWC.rawValue, shape: [16, 16, 3], bytes: Data(PresetFixtures.image(k)))
        _ = a.observe(sample: { sample }, result: r, frozenClass: k % 4, isOutlier: false)
    }

    /// Steps, counting the items it had to decode.
    private func step(_ a: AnchoredNormAdapter, _ replay: ReplayDecoder) -> (VisionNormLearner.StepResult?, decoded: Int) {
        var decoded = 0
        let r = a.step { item, out in decoded += 1; return replay.preprocess(item, into: out) }
        return (r, decoded)
    }

    func testItemsAreDecodedOnceAndReplayedFromTheirEmbeddings() throws {
        let (a, replay) = try makeAdapter()
        for k in 0..<4 { observe(a, k) }
        XCTAssertEqual(a.bank.count, 4)
        let first = step(a, replay)
        XCTAssertEqual(first.decoded, 4, "the first step decodes every item")
        XCTAssertEqual(first.0?.applied, true)
        XCTAssertEqual(step(a, replay).decoded, 0, "an unchanged bank is replayed from what was kept")
        for k in 4..<6 { observe(a, k) }                  // two more: the bank (capacity 6) is full
        XCTAssertEqual(a.bank.count, 6)
        XCTAssertEqual(step(a, replay).decoded, 2, "only the newcomers are decoded")
        // A newcomer now replaces an item; only it is decoded, and the bank order may shift.
        observe(a, 8)
        XCTAssertEqual(a.bank.count, 6)
        XCTAssertEqual(step(a, replay).decoded, 1)
        // An item that does not decode is left out of that step and not kept: the next step tries
        // it again, while the kept items replay regardless.
        observe(a, 9)
        var tried = 0
        XCTAssertNotNil(a.step { _, _ in tried += 1; return false }, "the five kept items still replay")
        XCTAssertEqual(tried, 1)
        XCTAssertEqual(step(a, replay).decoded, 1)
    }

    func testARestartedAdapterTakesTheSameStepFromDecodedItems() throws {
        let (a, replayA) = try makeAdapter()
        for k in 0..<6 { observe(a, k) }
        _ = step(a, replayA)
        observe(a, 8)
        let saved = a.state()
        let (b, replayB) = try makeAdapter()
        XCTAssertNil(b.restore(saved))
        let ra = step(a, replayA), rb = step(b, replayB)
        XCTAssertEqual(ra.decoded, 1, "the running adapter kept five of six")
        XCTAssertEqual(rb.decoded, 6, "the restarted one keeps nothing and decodes all")
        XCTAssertEqual(ra.0, rb.0)
        XCTAssertEqual(a.learner.trainer.layerNorms.map(\.value.array), b.learner.trainer.layerNorms.map(\.value.array))
        XCTAssertGreaterThan(a.learner.distanceFromSource(), 0)
    }
}
