import XCTest
import TTADEngine
@testable import TTADAdaptation

/// The gate's warm-up: closed from the first sample until the frozen predictions show the stream
/// mixed (low excess over enough effective classes), and the early close on a partial window.
final class LabelCorrelationGateWarmupTests: XCTestCase {
    private func gate(warmup: Int = 64, window: Int = 512, mixedClasses: Double = 3) throws -> LabelCorrelationGate {
        LabelCorrelationGate(configuration: try .init(classCount: 8, window: window, threshold: 0.15, reopenThreshold: 0.10,
                                                      warmupSamples: warmup, mixedBelow: 0.05, mixedClasses: mixedClasses))
    }

    /// By hand on a partial window: 0, 1, 2, 3 repeated (no equal neighbours, 4 classes evenly)
    /// → excess −¼ over 4 effective classes: mixed as soon as the warm-up count is reached.
    func testMixedStreamOpensAtTheWarmupCount() throws {
        var g = try gate(warmup: 16)
        XCTAssertTrue(g.isCorrelated, "closed before the first sample")
        XCTAssertFalse(g.hasOpened)
        for t in 0..<15 {
            try g.observe(t % 4)
            XCTAssertTrue(g.isCorrelated, "closed until 16 samples were seen (sample \(t))")
        }
        try g.observe(3)
        XCTAssertEqual(g.partialExcess!, 0.0 / 15 - 0.25, accuracy: 1e-12)
        XCTAssertEqual(g.effectiveClasses, 4, accuracy: 1e-12)
        XCTAssertNil(g.excess, "the window is not full")
        XCTAssertFalse(g.isCorrelated)
        XCTAssertTrue(g.hasOpened)
        XCTAssertEqual(g.closedSamples, 15)
        XCTAssertEqual(g.warmupClosedSamples, 15)
        XCTAssertEqual(g.closures, 0, "the warm-up is not a closure")
    }

    /// One run of a class with the frozen model's confusions (three classes drawn independently):
    /// its excess is about 0 — inside one run the stream looks exchangeable — but it spreads over
    /// fewer than 3 effective classes, so it is no evidence of a mixed stream and the gate stays
    /// closed. Without the spread requirement (mixedClasses 1) the same run opens it.
    func testOneRunWithConfusionsIsNoEvidence() throws {
        var rng = SplitMix64(seed: 3)
        var strict = try gate(), lax = try gate(mixedClasses: 1)
        var maxAbsExcess = 0.0
        for _ in 0..<400 {
            let u = rng.uniform()
            let c = u < 0.7 ? 6 : (u < 0.85 ? 0 : 2)
            try strict.observe(c)
            try lax.observe(c)
            if strict.count >= 64 { maxAbsExcess = max(maxAbsExcess, abs(strict.partialExcess!)) }
        }
        XCTAssertLessThan(maxAbsExcess, 0.05, "a run with independent confusions looks exchangeable")
        XCTAssertLessThan(strict.effectiveClasses, 3)
        XCTAssertTrue(strict.isCorrelated)
        XCTAssertEqual(strict.closedSamples, 400)
        XCTAssertFalse(lax.isCorrelated, "without the spread requirement the run would open the gate")
    }

    /// Seeded streams of 8 classes: an exchangeable one with a skewed marginal opens within the
    /// first 100 samples and never closes; runs of 150 samples with 40 % confusions never open it,
    /// through the warm-up and the full windows after it.
    func testExchangeableOpensEarlyRunsNeverOpen() throws {
        var rng = SplitMix64(seed: 11)
        var mixed = try gate()
        for _ in 0..<3000 {
            try mixed.observe(rng.uniform() < 0.4 ? 3 : Int(rng.next() % 8))
        }
        XCTAssertLessThan(mixed.warmupClosedSamples, 100)
        XCTAssertEqual(mixed.closures, 0)
        XCTAssertEqual(mixed.closedSamples, mixed.warmupClosedSamples)

        var runs = try gate()
        for t in 0..<3000 {
            let truth = Int((UInt64(t / 150) &* 0x9E3779B97F4A7C15) >> 61)
            try runs.observe(rng.uniform() < 0.6 ? truth : Int(rng.next() % 8))
        }
        XCTAssertFalse(runs.hasOpened)
        XCTAssertEqual(runs.closedSamples, 3000)
        XCTAssertEqual(runs.closures, 0)
    }

    /// Once open, a partial window whose excess rises above the threshold closes the gate without
    /// waiting for the window to fill: 64 alternating samples of 4 classes (16 each), then one
    /// class. After 44 of it: repeats 43 of 107, Σ n² = 4 · 16² + 44² = 2960 over 108² → excess
    /// 0.1481 ≤ 0.15, still open; the 45th brings it to 44/108 − 3049/109² = 0.1508: closed.
    func testEarlyCloseOnAPartialWindow() throws {
        var g = try gate()
        for t in 0..<64 { try g.observe(t % 4) }
        XCTAssertFalse(g.isCorrelated)
        for _ in 0..<44 { try g.observe(5) }
        XCTAssertEqual(g.partialExcess!, 43.0 / 107 - 2960.0 / (108 * 108), accuracy: 1e-12)
        XCTAssertFalse(g.isCorrelated)
        try g.observe(5)
        XCTAssertEqual(g.partialExcess!, 44.0 / 108 - 3049.0 / (109 * 109), accuracy: 1e-12)
        XCTAssertTrue(g.isCorrelated)
        XCTAssertNil(g.excess, "closed before the window was full")
        XCTAssertEqual(g.closures, 1)
        XCTAssertEqual(g.closedSamples, 63 + 1)
        XCTAssertEqual(g.warmupClosedSamples, 63)
    }

    /// A gate whose warm-up never saw a mixed stream uses the full window's re-open level.
    func testFullWindowEndsAWarmupThatNeverMixed() throws {
        var g = try gate(warmup: 32, window: 64, mixedClasses: 8)   // 8 effective classes: never reached
        var rng = SplitMix64(seed: 5)
        for _ in 0..<63 { try g.observe(Int(rng.next() % 4)) }
        XCTAssertTrue(g.isCorrelated)
        try g.observe(0)
        XCTAssertNotNil(g.excess)
        XCTAssertEqual(g.isCorrelated, g.excess! >= 0.10)
        for _ in 0..<64 { try g.observe(Int(rng.next() % 4)) }
        XCTAssertFalse(g.isCorrelated, "an exchangeable full window opens it")
        XCTAssertEqual(g.closures, 0)
    }

    func testWarmupConfigurationValidation() {
        typealias C = LabelCorrelationGate.Configuration
        TestSupport.assertConfigurationError("LabelCorrelationGate.warmupSamples") { () throws(AdaptationConfigurationError) in
            try C(classCount: 8, window: 64, warmupSamples: 65)
        }
        TestSupport.assertConfigurationError("LabelCorrelationGate.warmupSamples") { () throws(AdaptationConfigurationError) in
            try C(classCount: 8, window: 64, warmupSamples: 1)
        }
        TestSupport.assertConfigurationError("LabelCorrelationGate.mixedBelow") { () throws(AdaptationConfigurationError) in
            try C(classCount: 8, threshold: 0.15, warmupSamples: 64, mixedBelow: 0.2)
        }
        TestSupport.assertConfigurationError("LabelCorrelationGate.mixedClasses") { () throws(AdaptationConfigurationError) in
            try C(classCount: 8, warmupSamples: 64, mixedClasses: 0.5)
        }
        XCTAssertEqual(try C(classCount: 2, warmupSamples: 64, mixedClasses: 3).mixedClasses, 2, "at most the class count")
        XCTAssertEqual(try C(classCount: 8, window: 0, warmupSamples: 64).warmupSamples, 0, "a disabled gate has no warm-up")
    }

    /// Mid-warm-up and after it, a checkpoint continues identically; one written before the
    /// warm-up existed (no warm-up keys) decodes as a gate without warm-up that has been open.
    func testCheckpointsWithAndWithoutWarmup() throws {
        var a = try gate()
        var rng = SplitMix64(seed: 9)
        for _ in 0..<40 { try a.observe(Int(rng.next() % 8)) }
        var b = try TestSupport.roundTrip(a)
        XCTAssertEqual(a, b)
        for _ in 0..<100 {
            let c = Int(rng.next() % 8)
            try a.observe(c)
            try b.observe(c)
        }
        XCTAssertEqual(a, b)
        XCTAssertTrue(a.hasOpened)

        var old = try TestSupport.jsonObject(LabelCorrelationGate(configuration: try .init(classCount: 8, window: 16)))
        for k in ["warmupClosedSamples", "closures", "hasOpened"] { old[k] = nil }
        var config = old["configuration"] as! [String: Any]
        for k in ["warmupSamples", "mixedBelow", "mixedClasses"] { config[k] = nil }
        old["configuration"] = config
        let restored = try TestSupport.decode(LabelCorrelationGate.self, fromObject: old)
        XCTAssertEqual(restored.configuration.warmupSamples, 0)
        XCTAssertTrue(restored.hasOpened)
        XCTAssertFalse(restored.isCorrelated)

        var corrupt = try TestSupport.jsonObject(a)
        corrupt["warmupClosedSamples"] = a.closedSamples + 1
        XCTAssertThrowsError(try TestSupport.decode(LabelCorrelationGate.self, fromObject: corrupt))
    }
}
