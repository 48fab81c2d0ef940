import XCTest
import TTADEngine
@testable import TTADAdaptation

final class LabelCorrelationGateTests: XCTestCase {
    private func gate(classes: Int = 2, window: Int = 16, threshold: Double = 0.15) throws -> LabelCorrelationGate {
        LabelCorrelationGate(configuration: try .init(classCount: classes, window: window, threshold: threshold))
    }

    /// W = 16 of alternating 0, 1: no equal neighbours, p̂ = (½, ½) → excess = 0 − ½ = −½.
    /// Then 8 × 0 followed by 8 × 1: 14 equal neighbours → 14/15 − ½ = 0.4333.
    func testExcessByHand() throws {
        var g = try gate()
        for t in 0..<15 { try g.observe(t % 2) }
        XCTAssertNil(g.excess, "not full yet")
        XCTAssertFalse(g.isCorrelated)
        try g.observe(1)
        XCTAssertEqual(g.repeats, 0)
        XCTAssertEqual(g.excess!, -0.5, accuracy: 1e-12)
        XCTAssertFalse(g.isCorrelated)

        var runs = try gate()
        for t in 0..<16 { try runs.observe(t < 8 ? 0 : 1) }
        XCTAssertEqual(runs.repeats, 14)
        XCTAssertEqual(runs.excess!, 14.0 / 15 - 0.5, accuracy: 1e-12)
        XCTAssertTrue(runs.isCorrelated)
        XCTAssertEqual(runs.closedSamples, 1)
    }

    /// Sliding: window 0×8, 1×8, then three more 1s drop three 0s (and their three repeats):
    /// 5 × 0, 11 × 1 → repeats 4 + 10 = 14; Σp̂² = (25 + 121)/256 → excess = 14/15 − 146/256.
    func testSlidingDropsTheOldestRepeat() throws {
        var g = try gate()
        for t in 0..<16 { try g.observe(t < 8 ? 0 : 1) }
        for _ in 0..<3 { try g.observe(1) }
        XCTAssertEqual(g.histogram, [5, 11])
        XCTAssertEqual(g.repeats, 14)
        XCTAssertEqual(g.excess!, 14.0 / 15 - 146.0 / 256, accuracy: 1e-12)
        XCTAssertEqual(g.closedSamples, 4)
        // One long run fills the window: a single class is exchangeable too (excess
        // 15/15 − 1 = 0), so a window shorter than the runs cannot see them.
        for _ in 0..<16 { try g.observe(1) }
        XCTAssertEqual(g.excess!, 0, accuracy: 1e-12)
        XCTAssertFalse(g.isCorrelated)
    }

    /// Hysteresis (threshold 0.3, re-open 0.1): the window 0×6, 1×6, 0, 1, 0, 1 has
    /// 10 repeats, p̂ = (½, ½) → excess 10/15 − ½ = 0.1667. A gate that closed on 0×8, 1×8
    /// (0.433; the windows in between stay ≥ 0.167) stays closed on it; a fresh gate stays open.
    func testHysteresisKeepsAClosedGateClosedBetweenTheLevels() throws {
        let tail = [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1]
        var closed = LabelCorrelationGate(configuration: try .init(classCount: 2, window: 16, threshold: 0.3, reopenThreshold: 0.1))
        for t in 0..<16 { try closed.observe(t < 8 ? 0 : 1) }
        XCTAssertTrue(closed.isCorrelated)
        for c in tail { try closed.observe(c) }
        XCTAssertEqual(closed.excess!, 10.0 / 15 - 0.5, accuracy: 1e-12)
        XCTAssertTrue(closed.isCorrelated, "between the levels a closed gate stays closed")

        var fresh = LabelCorrelationGate(configuration: try .init(classCount: 2, window: 16, threshold: 0.3, reopenThreshold: 0.1))
        for c in tail { try fresh.observe(c) }
        XCTAssertEqual(fresh.excess, closed.excess)
        XCTAssertFalse(fresh.isCorrelated, "and an open one stays open")

        // Alternating classes bring the excess below 0.1: the gate opens.
        for t in 0..<16 { try closed.observe(t % 2) }
        XCTAssertFalse(closed.isCorrelated)
    }

    /// The property the gate rests on, on seeded streams of 8 classes: an exchangeable stream
    /// with a strongly skewed marginal (what a corruption does to the frozen predictions) stays
    /// near 0; runs of 300 samples of one class with 40 % confusions exceed the threshold.
    func testSkewedExchangeableStreamStaysOpenRunsClose() throws {
        var rng = SplitMix64(seed: 7)
        var skewed = try gate(classes: 8, window: 2048)
        var maxExcess = -1.0
        for _ in 0..<10_000 {
            let u = rng.uniform()
            try skewed.observe(u < 0.65 ? 3 : Int(rng.next() % 8))
            if let e = skewed.excess { maxExcess = max(maxExcess, e) }
        }
        XCTAssertLessThan(maxExcess, 0.05)
        XCTAssertEqual(skewed.closedSamples, 0)

        var runs = try gate(classes: 8, window: 2048)
        var minExcess = 1.0
        for t in 0..<10_000 {
            let truth = (t / 300) % 8
            try runs.observe(rng.uniform() < 0.6 ? truth : Int(rng.next() % 8))
            if let e = runs.excess { minExcess = min(minExcess, e) }
        }
        XCTAssertGreaterThan(minExcess, 0.15)
        XCTAssertEqual(runs.closedSamples, 10_000 - 2047)
    }

    func testDisabledNeverCloses() throws {
        var g = try gate(window: 0)
        for _ in 0..<100 { try g.observe(0) }
        for _ in 0..<100 { try g.observe(1) }
        XCTAssertFalse(g.isEnabled)
        XCTAssertNil(g.excess)
        XCTAssertFalse(g.isCorrelated)
    }

    func testRejectsBadClassWithoutChange() throws {
        var g = try gate()
        try g.observe(1)
        let before = g
        XCTAssertThrowsError(try g.observe(2))
        XCTAssertThrowsError(try g.observe(-1))
        XCTAssertEqual(g, before)
    }

    func testConfigurationValidation() {
        typealias C = LabelCorrelationGate.Configuration
        TestSupport.assertConfigurationError("LabelCorrelationGate.classCount") { () throws(AdaptationConfigurationError) in try C(classCount: 1) }
        TestSupport.assertConfigurationError("LabelCorrelationGate.window") { () throws(AdaptationConfigurationError) in try C(classCount: 2, window: 8) }
        TestSupport.assertConfigurationError("LabelCorrelationGate.threshold") { () throws(AdaptationConfigurationError) in
            try C(classCount: 2, threshold: 0)
        }
        TestSupport.assertConfigurationError("LabelCorrelationGate.threshold") { () throws(AdaptationConfigurationError) in
            try C(classCount: 2, threshold: .nan)
        }
        TestSupport.assertConfigurationError("LabelCorrelationGate.reopenThreshold") { () throws(AdaptationConfigurationError) in
            try C(classCount: 2, threshold: 0.15, reopenThreshold: 0.2)
        }
    }

    func testCheckpointRoundTripContinuesIdentically() throws {
        var a = try gate(classes: 3)
        var rng = SplitMix64(seed: 1)
        for _ in 0..<23 { try a.observe(Int(rng.next() % 3)) }
        var b = try TestSupport.roundTrip(a)
        XCTAssertEqual(a, b)
        for _ in 0..<40 {
            let c = Int(rng.next() % 3)
            try a.observe(c)
            try b.observe(c)
        }
        XCTAssertEqual(a, b)
        XCTAssertEqual(a.excess, b.excess)
    }

    func testCorruptCheckpointIsRefused() throws {
        var g = try gate(classes: 3)
        for t in 0..<5 { try g.observe(t % 3) }
        var o = try TestSupport.jsonObject(g)
        var ring = o["ring"] as! [Int]
        ring[0] = 7
        o["ring"] = ring
        XCTAssertThrowsError(try TestSupport.decode(LabelCorrelationGate.self, fromObject: o))
        var short = try TestSupport.jsonObject(g)
        short["ring"] = [0, 1]
        XCTAssertThrowsError(try TestSupport.decode(LabelCorrelationGate.self, fromObject: short))
    }
}
