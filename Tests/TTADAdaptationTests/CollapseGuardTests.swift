import Foundation
import XCTest
import TTADEngine
@testable import TTADAdaptation

final class CollapseGuardTests: XCTestCase {
    /// Small settings so hand-made streams stay short: C = 4, W = 8, cool-down 5.
    private func guardian(entropyFloor: Double? = 0.2, window: Int = 8, cooldown: Int = 5, periodic: Int = 0,
                          topShareMargin: Double = 0.1) throws -> CollapseGuard {
        CollapseGuard(configuration: try .init(classCount: 4, entropyFloor: entropyFloor, window: window,
                                               topShareMargin: topShareMargin, cooldown: cooldown,
                                               periodicInterval: periodic))
    }

    /// ema starts at the first loss (1.0), then losses of 0 give ema = 0.9^k; 0.9^15 = 0.2059 is
    /// still above e₀ = 0.2, 0.9^16 = 0.1853 is below → the 17th loss triggers.
    func testEntropyEMATrigger() throws {
        var g = try guardian()
        XCTAssertNil(try g.observe(predictedClass: 0, frozenClass: nil, adaptationLoss: 1.0))
        XCTAssertEqual(g.entropyEMA, 1.0)
        for k in 1...15 {
            XCTAssertNil(try g.observe(predictedClass: k % 4, frozenClass: nil, adaptationLoss: 0), "loss \(k + 1)")
        }
        XCTAssertEqual(g.entropyEMA!, pow(0.9, 15), accuracy: 1e-12)
        // Samples without an adaptation step leave the EMA alone.
        XCTAssertNil(try g.observe(predictedClass: 0, frozenClass: nil))
        let d = try XCTUnwrap(try g.observe(predictedClass: 1, frozenClass: nil, adaptationLoss: 0))
        XCTAssertEqual(d.reason, .entropyEMA)
        XCTAssertEqual(d.sample, 18)
        XCTAssertEqual(d.value, pow(0.9, 16), accuracy: 1e-12)
        XCTAssertEqual(d.threshold, 0.2)
        XCTAssertNil(g.entropyEMA, "a reset clears the EMA")
        XCTAssertEqual(g.counters.entropyEMA, 1)
        XCTAssertEqual(g.lastDecision, d)
    }

    func testDefaultEntropyFloorIsSARScaledByLnC() throws {
        XCTAssertEqual(try CollapseGuard.Configuration(classCount: 1000).entropyFloor, 0.2, accuracy: 1e-12)
        XCTAssertEqual(try CollapseGuard.Configuration(classCount: 8).entropyFloor, 0.2 * log(8.0) / log(1000.0), accuracy: 1e-12)
        let c = try CollapseGuard.Configuration(classCount: 8)
        XCTAssertEqual(c.emaMomentum, 0.9)
        XCTAssertEqual(c.window, 256)
        XCTAssertEqual(c.collapsedClassCount, 2)
        XCTAssertEqual(c.disagreementBound, 0.5)
        XCTAssertEqual(c.cooldown, 500)
        XCTAssertEqual(c.periodicInterval, 0)
    }

    /// Frozen predictions cycle over 4 classes, the adapted model says 0 every time: at the 8th
    /// sample the window is full, d = 1 ≤ k = 2 and the frozen window has 4 classes.
    func testClassCollapseAgainstFrozenPredictions() throws {
        var g = try guardian(entropyFloor: 0)
        for i in 0..<7 { XCTAssertNil(try g.observe(predictedClass: 0, frozenClass: i % 4)) }
        let d = try XCTUnwrap(try g.observe(predictedClass: 0, frozenClass: 3))
        XCTAssertEqual(d.reason, .classCollapse)
        XCTAssertEqual(d.sample, 8)
        XCTAssertEqual(d.value, 1)
        XCTAssertEqual(d.threshold, 2)
    }

    /// Label shift, not collapse: when the frozen model also sees only two classes, two adapted
    /// classes are fine.
    func testFewClassesAreNotCollapseWhenTheFrozenModelAgrees() throws {
        var g = try guardian(entropyFloor: 0)
        for i in 0..<40 { XCTAssertNil(try g.observe(predictedClass: i % 2, frozenClass: i % 2)) }
    }

    /// Without frozen predictions the first full window (4 classes, 2 each) is the reference.
    /// Then class 0 repeats: after sample 10 the window is [2,3,0,1,2,3,0,0] → top share 3/8,
    /// 0.125 above the reference's 0.25 → reset.
    func testTopShareExcessAgainstTheFirstWindow() throws {
        var g = try guardian(entropyFloor: 0)
        for i in 0..<8 { XCTAssertNil(try g.observe(predictedClass: i % 4, frozenClass: nil)) }
        XCTAssertEqual(g.referenceHistogram, [2, 2, 2, 2])
        XCTAssertNil(try g.observe(predictedClass: 0, frozenClass: nil))
        let d = try XCTUnwrap(try g.observe(predictedClass: 0, frozenClass: nil))
        XCTAssertEqual(d.reason, .classCollapse)
        XCTAssertEqual(d.sample, 10)
        XCTAssertEqual(d.value, 0.125, accuracy: 1e-12)
        XCTAssertEqual(d.threshold, 0.1, accuracy: 1e-12)
    }

    /// Frozen classes cycle 1, 2, 3, 0. The adapted model predicts frozen + 1 (mod 4) on samples
    /// 1–4 and agrees on 5–8: 4/8 = 0.5 is not above the bound. Samples 9–12 disagree but push out
    /// 1–4 (still 4/8). Sample 13 (adapted 1, frozen 0) pushes out agreeing sample 5 (1, 1) →
    /// 5/8 > 0.5. The adapted histogram stays 2-2-2-2 throughout and the frozen top share only
    /// grows, so it is not a class collapse.
    func testDisagreementTrigger() throws {
        var g = try guardian(entropyFloor: 0)
        for i in 0..<12 {
            let f = (i + 1) % 4
            let a = (i < 4 || i >= 8) ? (f + 1) % 4 : f
            XCTAssertNil(try g.observe(predictedClass: a, frozenClass: f), "sample \(i + 1)")
        }
        XCTAssertEqual(g.window.disagreementRate, 0.5)
        let d = try XCTUnwrap(try g.observe(predictedClass: 1, frozenClass: 0))
        XCTAssertEqual(d.reason, .disagreement)
        XCTAssertEqual(d.sample, 13)
        XCTAssertEqual(d.value, 5.0 / 8.0)
        XCTAssertEqual(d.threshold, 0.5)
    }

    func testNonFiniteResetsImmediatelyEvenDuringCooldown() throws {
        var g = try guardian()
        let d = try XCTUnwrap(try g.observe(predictedClass: 0, frozenClass: 0, adaptationLoss: .nan))
        XCTAssertEqual(d.reason, .nonFinite)
        XCTAssertTrue(g.isCoolingDown)
        XCTAssertNil(try g.observe(predictedClass: 0, frozenClass: 0))
        let again = try XCTUnwrap(try g.observe(predictedClass: 0, frozenClass: 0, nonFinite: true))
        XCTAssertEqual(again.reason, .nonFinite)
        XCTAssertEqual(again.sample, 3)
        XCTAssertEqual(g.cooldownRemaining, 5, "the cool-down restarts")
        XCTAssertEqual(g.counters.nonFinite, 2)
    }

    /// After a reset, K = 5 samples are cool-down: no trigger even on a collapsed, over-confident
    /// stream, and `shouldAdapt` is false before each of them.
    func testCooldown() throws {
        var g = try guardian(cooldown: 5)
        XCTAssertNotNil(try g.observe(predictedClass: 0, frozenClass: 1, nonFinite: true))
        for _ in 0..<5 {
            XCTAssertFalse(g.shouldAdapt)
            XCTAssertNil(try g.observe(predictedClass: 0, frozenClass: 1, adaptationLoss: 0))
        }
        XCTAssertTrue(g.shouldAdapt)
        XCTAssertNil(g.entropyEMA, "losses during the cool-down are ignored")
        // The window (W = 8) refilled during the cool-down; collapse fires as soon as it is full.
        XCTAssertEqual(g.window.count, 5)
        for _ in 0..<2 { XCTAssertNil(try g.observe(predictedClass: 0, frozenClass: 1)) }
        XCTAssertEqual(try g.observe(predictedClass: 0, frozenClass: 1)?.reason, .disagreement)
    }

    /// RDumb-style: every 10 samples since the last reset; the cool-down counts towards them.
    func testPeriodicReset() throws {
        var g = try guardian(entropyFloor: 0, window: 100, cooldown: 3, periodic: 10)
        var samples: [Int] = []
        for i in 0..<35 {
            if let d = try g.observe(predictedClass: i % 4, frozenClass: i % 4) {
                XCTAssertEqual(d.reason, .periodic)
                samples.append(d.sample)
            }
        }
        XCTAssertEqual(samples, [10, 20, 30])
        XCTAssertEqual(g.counters.periodic, 3)
        XCTAssertEqual(g.counters.total, 3)
    }

    /// A healthy stream at the real defaults (C = 10, W = 256): the adapted model agrees with the
    /// frozen one 85 % of the time, predicts all classes, and the loss hovers around 0.5 nats.
    func testNoTriggerOnAHealthyStream() throws {
        var g = CollapseGuard(configuration: try .init(classCount: 10))
        var rng = SplitMix64(seed: 2024)
        for i in 0..<5000 {
            let f = Int(rng.next() % 10)
            let a = rng.uniform() < 0.85 ? f : Int(rng.next() % 10)
            let loss: Float? = i % 4 == 0 ? 0.5 + 0.2 * rng.gaussian() : nil
            XCTAssertNil(try g.observe(predictedClass: a, frozenClass: f, adaptationLoss: loss.map { abs($0) }), "sample \(i + 1)")
        }
        XCTAssertEqual(g.counters.total, 0)
        XCTAssertEqual(g.sampleCount, 5000)
    }

    func testBadClassThrowsAndChangesNothing() throws {
        var g = try guardian()
        let before = g
        XCTAssertThrowsError(try g.observe(predictedClass: 4, frozenClass: 0))
        XCTAssertThrowsError(try g.observe(predictedClass: 0, frozenClass: -1))
        XCTAssertEqual(g, before)
    }

    func testCheckpointRoundTripContinuesIdentically() throws {
        var g = try guardian(entropyFloor: 0.05, cooldown: 3, periodic: 50)
        var rng = SplitMix64(seed: 5)
        func step(_ g: inout CollapseGuard, _ rng: inout SplitMix64) throws -> ResetDecision? {
            let f = Int(rng.next() % 4)
            let a = rng.uniform() < 0.6 ? f : 0
            return try g.observe(predictedClass: a, frozenClass: rng.uniform() < 0.8 ? f : nil, adaptationLoss: rng.uniform() * 0.3)
        }
        for _ in 0..<37 { _ = try step(&g, &rng) }
        var restored = try TestSupport.roundTrip(g)
        XCTAssertEqual(restored, g)
        var rng2 = rng
        for _ in 0..<200 { XCTAssertEqual(try step(&restored, &rng2), try step(&g, &rng)) }
        XCTAssertEqual(restored, g)
        XCTAssertGreaterThan(g.counters.total, 0, "the stream is meant to exercise resets")

        var json = try TestSupport.jsonObject(g)
        json["cooldownRemaining"] = 99
        XCTAssertThrowsError(try TestSupport.decode(CollapseGuard.self, fromObject: json))
    }

    func testConfigurationIsValidated() {
        typealias C = CollapseGuard.Configuration
        TestSupport.assertConfigurationError("CollapseGuard.classCount") { () throws(AdaptationConfigurationError) in try C(classCount: 1) }
        TestSupport.assertConfigurationError("CollapseGuard.entropyFloor") { () throws(AdaptationConfigurationError) in
            try C(classCount: 4, entropyFloor: -0.1)
        }
        TestSupport.assertConfigurationError("CollapseGuard.emaMomentum") { () throws(AdaptationConfigurationError) in
            try C(classCount: 4, emaMomentum: 1)
        }
        TestSupport.assertConfigurationError("CollapseGuard.window") { () throws(AdaptationConfigurationError) in
            try C(classCount: 4, window: 0)
        }
        TestSupport.assertConfigurationError("CollapseGuard.minimumClassShare") { () throws(AdaptationConfigurationError) in
            try C(classCount: 4, minimumClassShare: 0)
        }
        TestSupport.assertConfigurationError("CollapseGuard.collapsedClassCount") { () throws(AdaptationConfigurationError) in
            try C(classCount: 4, collapsedClassCount: 5)
        }
        TestSupport.assertConfigurationError("CollapseGuard.topShareMargin") { () throws(AdaptationConfigurationError) in
            try C(classCount: 4, topShareMargin: 0)
        }
        TestSupport.assertConfigurationError("CollapseGuard.disagreementBound") { () throws(AdaptationConfigurationError) in
            try C(classCount: 4, disagreementBound: 1.5)
        }
        TestSupport.assertConfigurationError("CollapseGuard.cooldown") { () throws(AdaptationConfigurationError) in
            try C(classCount: 4, cooldown: -1)
        }
        TestSupport.assertConfigurationError("CollapseGuard.periodicInterval") { () throws(AdaptationConfigurationError) in
            try C(classCount: 4, periodicInterval: -5)
        }
    }
}
