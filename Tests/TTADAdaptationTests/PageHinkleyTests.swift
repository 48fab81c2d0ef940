import XCTest
import TTADEngine
@testable import TTADAdaptation

final class PageHinkleyTests: XCTestCase {
    private func detector(minInstances: Int = 1, delta: Double = 0, threshold: Double = 5, alpha: Double = 1,
                          mode: PageHinkley.Mode = .up) throws -> PageHinkley {
        PageHinkley(configuration: try .init(minInstances: minInstances, delta: delta, threshold: threshold, alpha: alpha, mode: mode))
    }

    /// δ = 0.5, λ = 5, α = 1, values 0, 0, 0, 0, 10:
    /// m⁺ = −0.5, −1, −1.5, −2 (M⁺ = −2); the fifth value moves the mean to 2, dev = 8,
    /// m⁺ = −2 + 8 − 0.5 = 5.5 → m⁺ − M⁺ = 7.5 > 5 → alarm on the fifth value.
    func testStepUpByHand() throws {
        var ph = try detector(delta: 0.5)
        for _ in 0..<4 { XCTAssertFalse(ph.update(0)) }
        XCTAssertEqual(ph.sumIncrease, -2)
        XCTAssertEqual(ph.minIncrease, -2)
        XCTAssertEqual(ph.sumDecrease, 2)            // m⁻ = +0.5 per step
        XCTAssertTrue(ph.update(10))
        XCTAssertEqual(ph.mean, 2)
        XCTAssertEqual(ph.sumIncrease, 5.5)
        XCTAssertEqual(ph.increaseStatistic, 7.5)
        XCTAssertEqual(ph.sumDecrease, 10.5)
        XCTAssertEqual(ph.decreaseStatistic, 0)
        XCTAssertEqual(ph.detections, 1)
        // River resets at the start of the next update.
        XCTAssertTrue(ph.driftDetected)
        XCTAssertFalse(ph.update(10))
        XCTAssertEqual(ph.count, 1)
        XCTAssertEqual(ph.mean, 10)
    }

    /// α = 0.5, δ = 0: values 0, 4, 4 → means 0, 2, 8/3; m⁺ = 0, 0.5·0 + 2 = 2,
    /// 0.5·2 + 4/3 = 7/3.
    func testForgettingFactorByHand() throws {
        var ph = try detector(threshold: 100, alpha: 0.5)
        ph.update(0); ph.update(4); ph.update(4)
        XCTAssertEqual(ph.mean, 8.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(ph.sumIncrease, 7.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(ph.minIncrease, 0)
    }

    func testModes() throws {
        var down = try detector(mode: .down)
        for _ in 0..<4 { down.update(10) }
        XCTAssertTrue(down.update(0), "mean 8, dev −8: M⁻ − m⁻ = 0 − (−8) = 8 > 5")
        var up = try detector(mode: .up)
        for _ in 0..<4 { up.update(10) }
        XCTAssertFalse(up.update(0))
        var both = try detector(mode: .both)
        for _ in 0..<4 { both.update(10) }
        XCTAssertTrue(both.update(0))
    }

    func testNoAlarmBeforeMinInstances() throws {
        var ph = try detector(minInstances: 6)
        for _ in 0..<4 { ph.update(0) }
        XCTAssertFalse(ph.update(10), "only 5 values")
        XCTAssertTrue(ph.update(10), "sixth value: mean 10/3, m⁺ = 8 + 20/3 > 5")
    }

    /// Defaults (δ = 0.005, λ = 50, α = 1 − 10⁻⁴): an entropy-like stream around 0.5 nats that
    /// steps to 1.5 after 1000 samples. The deviation is ≈ 1 per sample after the step, so the
    /// statistic crosses 50 after ≈ 52 samples.
    func testStepChangeAlarmsWithinBoundedDelay() throws {
        var ph = PageHinkley(configuration: try .init())
        var rng = SplitMix64(seed: 1)
        for i in 0..<1000 {
            XCTAssertFalse(ph.update(0.5 + 0.1 * Double(rng.gaussian())), "false alarm at \(i)")
        }
        var delay: Int? = nil
        for i in 1...200 where ph.update(1.5 + 0.1 * Double(rng.gaussian())) {
            delay = i
            break
        }
        let d = try XCTUnwrap(delay)
        XCTAssertGreaterThanOrEqual(d, 45)
        XCTAssertLessThanOrEqual(d, 70)
    }

    /// λ is in units of x × samples and the statistic's excursions on a stationary stream grow
    /// with the noise variance (≈ σ²/δ): at σ ≈ 0.15–0.2 (entropy-like) they stay far below 50;
    /// uniform [0, 1] noise (σ ≈ 0.29) already reaches 20–49 over 10 000 samples (seeds 1–5).
    func testStationaryStreamDoesNotAlarm() throws {
        var rng = SplitMix64(seed: 42)
        var uniform = PageHinkley(configuration: try .init())
        var worst = 0.0
        for _ in 0..<10_000 {
            uniform.update(TestSupport.uniform(&rng, 0.25, 0.75))          // σ ≈ 0.144
            worst = max(worst, uniform.increaseStatistic, uniform.decreaseStatistic)
        }
        XCTAssertEqual(uniform.detections, 0)
        XCTAssertLessThan(worst, 25)
        var gaussian = PageHinkley(configuration: try .init())
        for _ in 0..<10_000 { gaussian.update(1 + 0.2 * Double(rng.gaussian())) }
        XCTAssertEqual(gaussian.detections, 0)
    }

    func testNonFiniteValuesAreIgnored() throws {
        var ph = try detector()
        ph.update(1)
        let before = ph
        XCTAssertFalse(ph.update(.nan))
        XCTAssertFalse(ph.update(.infinity))
        XCTAssertEqual(ph.ignoredNonFinite, 2)
        XCTAssertEqual(ph.count, before.count)
        XCTAssertEqual(ph.mean, before.mean)
    }

    func testCheckpointRoundTrip() throws {
        var ph = PageHinkley(configuration: try .init())
        var rng = SplitMix64(seed: 9)
        for _ in 0..<100 { ph.update(Double(rng.uniform())) }
        var restored = try TestSupport.roundTrip(ph)
        XCTAssertEqual(restored, ph)
        for _ in 0..<100 {
            let x = Double(rng.uniform()) + 2
            XCTAssertEqual(restored.update(x), ph.update(x))
        }
        XCTAssertEqual(restored, ph)
        var json = try TestSupport.jsonObject(ph)
        json["minIncrease"] = 1e9
        XCTAssertThrowsError(try TestSupport.decode(PageHinkley.self, fromObject: json))
    }

    func testConfigurationIsValidated() throws {
        let d = try PageHinkley.Configuration()
        XCTAssertEqual([Double(d.minInstances), d.delta, d.threshold, d.alpha], [30, 0.005, 50, 0.9999])
        XCTAssertEqual(d.mode, .both)
        TestSupport.assertConfigurationError("PageHinkley.minInstances") { () throws(AdaptationConfigurationError) in
            try PageHinkley.Configuration(minInstances: 0)
        }
        TestSupport.assertConfigurationError("PageHinkley.delta") { () throws(AdaptationConfigurationError) in
            try PageHinkley.Configuration(delta: -1)
        }
        TestSupport.assertConfigurationError("PageHinkley.threshold") { () throws(AdaptationConfigurationError) in
            try PageHinkley.Configuration(threshold: 0)
        }
        TestSupport.assertConfigurationError("PageHinkley.alpha") { () throws(AdaptationConfigurationError) in
            try PageHinkley.Configuration(alpha: 1.5)
        }
    }
}
