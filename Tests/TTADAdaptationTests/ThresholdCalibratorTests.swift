import XCTest
@testable import TTADAdaptation

final class ThresholdCalibratorTests: XCTestCase {
    func testMedianOfFiveByHand() throws {
        var c = try ThresholdCalibrator(sampleCount: 5, quantile: 0.5)
        for s: Float in [5, 1, 4, 2] {
            XCTAssertFalse(c.observe(s), "nothing is flagged while calibrating")
            XCTAssertFalse(c.isCalibrated)
        }
        // The fifth score completes calibration (sorted 1…5, h = 4·0.5 = 2 → 3) and is judged by it.
        XCTAssertFalse(c.observe(3))
        XCTAssertEqual(c.threshold, 3)
        XCTAssertTrue(c.scores.isEmpty, "scores are dropped once calibrated")
        XCTAssertFalse(c.observe(3), "strictly above the threshold")
        XCTAssertTrue(c.observe(3.5))
        XCTAssertTrue(c.isOutlier(.nan))
        XCTAssertTrue(c.isOutlier(.infinity))
    }

    func testType7Quantile() {
        let v: [Float] = [10, 9, 8, 7, 6, 5, 4, 3, 2, 1]
        // h = 9·0.95 = 8.55 → x[8] + 0.55·(x[9] − x[8]) = 9 + 0.55.
        XCTAssertEqual(ThresholdCalibrator.quantile(of: v, q: 0.95), 9.55, accuracy: 1e-6)
        XCTAssertEqual(ThresholdCalibrator.quantile(of: v, q: 0), 1)
        XCTAssertEqual(ThresholdCalibrator.quantile(of: v, q: 1), 10)
        XCTAssertEqual(ThresholdCalibrator.quantile(of: [4], q: 0.3), 4)
    }

    func testNonFiniteScoresAreNotCollected() throws {
        var c = try ThresholdCalibrator(sampleCount: 3, quantile: 0.5)
        XCTAssertFalse(c.observe(.nan))
        XCTAssertFalse(c.observe(-.infinity))
        XCTAssertEqual(c.skippedNonFinite, 2)
        _ = c.observe(1); _ = c.observe(2)
        XCTAssertFalse(c.isCalibrated)
        _ = c.observe(7)
        XCTAssertEqual(c.threshold, 2)
    }

    func testDefaultsAndFlagRate() throws {
        var c = try ThresholdCalibrator()
        XCTAssertEqual(c.sampleCount, 1000)
        XCTAssertEqual(c.quantile, 0.95)
        for i in 0..<1000 { _ = c.observe(Float(i) / 1000) }          // 0.000 … 0.999
        XCTAssertEqual(c.threshold!, 0.94905, accuracy: 1e-6)          // h = 999·0.95 = 949.05
        var flagged = 0
        for i in 0..<1000 where c.isOutlier(Float(i) / 1000) { flagged += 1 }
        XCTAssertEqual(flagged, 50)
    }

    func testFixedThresholdAndRecalibration() throws {
        var c = try ThresholdCalibrator(fixedThreshold: 1.5, sampleCount: 3, quantile: 0.5)
        XCTAssertTrue(c.isCalibrated)
        XCTAssertTrue(c.observe(2))
        XCTAssertFalse(c.observe(1))
        c.recalibrate()
        XCTAssertFalse(c.isCalibrated)
        XCTAssertFalse(c.observe(100))
        _ = c.observe(0); _ = c.observe(7)
        XCTAssertEqual(c.threshold, 7, "median of 0, 7, 100")
    }

    func testCheckpointRoundTrip() throws {
        var c = try ThresholdCalibrator(sampleCount: 4, quantile: 0.9)
        _ = c.observe(0.25); _ = c.observe(.nan)
        XCTAssertEqual(try TestSupport.roundTrip(c), c)
        _ = c.observe(0.5); _ = c.observe(0.75); _ = c.observe(1)
        XCTAssertEqual(try TestSupport.roundTrip(c), c)
        var json = try TestSupport.jsonObject(c)
        json["scores"] = [1.0]                     // scores after calibration: inconsistent
        XCTAssertThrowsError(try TestSupport.decode(ThresholdCalibrator.self, fromObject: json))
    }

    func testConfigurationIsValidated() {
        TestSupport.assertConfigurationError("ThresholdCalibrator.sampleCount") { () throws(AdaptationConfigurationError) in
            try ThresholdCalibrator(sampleCount: 0)
        }
        TestSupport.assertConfigurationError("ThresholdCalibrator.quantile") { () throws(AdaptationConfigurationError) in
            try ThresholdCalibrator(quantile: 1)
        }
        TestSupport.assertConfigurationError("ThresholdCalibrator.fixedThreshold") { () throws(AdaptationConfigurationError) in
            try ThresholdCalibrator(fixedThreshold: .nan)
        }
    }
}
