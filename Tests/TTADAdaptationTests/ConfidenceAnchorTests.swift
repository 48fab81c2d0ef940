import Foundation
import XCTest
import TTADEngine
@testable import TTADAdaptation

final class ConfidenceAnchorTests: XCTestCase {
    /// Two classes with logit margin m: the top-1 probability at temperature T is σ(m / T).
    private func confidence(margin m: Double, temperature t: Float) -> Double { 1 / (1 + exp(-m / Double(t))) }

    /// An adapted model more confident than the source (margin 3 → 0.953 against the source's
    /// 0.8 on every sample) settles where σ(3 / T) = 0.8, i.e. T = 3 / ln 4 = 2.164.
    func testSettlesWhereTheConfidencesAgree() throws {
        var a = ConfidenceAnchor(configuration: try .init(rate: 0.05))
        XCTAssertEqual(a.temperature, 1)
        for _ in 0..<5000 {
            a.observe(adaptedConfidence: confidence(margin: 3, temperature: a.temperature), sourceConfidence: 0.8)
        }
        XCTAssertEqual(Double(a.temperature), 3 / log(4), accuracy: 0.01)
        XCTAssertEqual(a.observed, 5000)
        // Less confident than the source: the temperature falls below 1 (sharper).
        var b = ConfidenceAnchor(configuration: try .init(rate: 0.05))
        for _ in 0..<5000 {
            b.observe(adaptedConfidence: confidence(margin: 1, temperature: b.temperature), sourceConfidence: 0.9)
        }
        XCTAssertEqual(Double(b.temperature), 1 / log(9), accuracy: 0.01)
    }

    /// The 5/(k + 5) start: with a rate of 0.001 (a time constant of thousands of samples) T is
    /// within 2 % of where the confidences agree after 300 samples; a reset starts it again.
    func testFastStartAfterReset() throws {
        var a = ConfidenceAnchor(configuration: try .init(rate: 0.001))
        for _ in 0..<300 {
            a.observe(adaptedConfidence: confidence(margin: 3, temperature: a.temperature), sourceConfidence: 0.8)
        }
        XCTAssertEqual(Double(a.temperature), 3 / log(4), accuracy: 0.02 * 3 / log(4))
        a.reset()
        XCTAssertEqual(a.observed, 0)
        XCTAssertEqual(a.temperature, 1)
        a.observe(adaptedConfidence: 0.9, sourceConfidence: 0.8)
        XCTAssertEqual(a.logTemperature, 0.1, accuracy: 1e-12, "the first sample after a reset moves log T by the whole difference")
    }

    /// Noisy per-sample confidences (the source's drawn around its mean): the temperature still
    /// settles near where the means agree.
    func testSettlesOnNoisySamples() throws {
        var a = ConfidenceAnchor(configuration: try .init(rate: 0.02))
        var rng = SplitMix64(seed: 4)
        var sum = 0.0
        for k in 0..<20_000 {
            let s = 0.8 + 0.3 * (Double(rng.uniform()) - 0.5)
            a.observe(adaptedConfidence: confidence(margin: 3, temperature: a.temperature), sourceConfidence: s)
            if k >= 10_000 { sum += Double(a.temperature) }
        }
        XCTAssertEqual(sum / 10_000, 3 / log(4), accuracy: 0.05)
    }

    func testOffClampResetAndBadInput() throws {
        var off = ConfidenceAnchor(configuration: try .init(rate: 0))
        off.observe(adaptedConfidence: 1, sourceConfidence: 0)
        XCTAssertEqual(off.temperature, 1)
        XCTAssertFalse(off.isEnabled)

        var a = ConfidenceAnchor(configuration: try .init(rate: 1, maxLog: log(2)))
        for _ in 0..<10 { a.observe(adaptedConfidence: 1, sourceConfidence: 0) }
        XCTAssertEqual(a.temperature, 2, accuracy: 1e-6, "clamped at maxLog")
        let before = a
        a.observe(adaptedConfidence: .nan, sourceConfidence: 0.5)
        a.observe(adaptedConfidence: 0.5, sourceConfidence: .infinity)
        XCTAssertEqual(a, before, "non-finite input changes nothing")
        a.reset()
        XCTAssertEqual(a.temperature, 1)

        var logits: [Float] = [2, -4, 1]
        a.observe(adaptedConfidence: 1, sourceConfidence: 0)   // T = 2
        logits.withUnsafeMutableBufferPointer { a.scale($0) }
        XCTAssertEqual(logits, [1, -2, 0.5])
    }

    func testConfigurationAndCheckpoint() throws {
        typealias C = ConfidenceAnchor.Configuration
        TestSupport.assertConfigurationError("ConfidenceAnchor.rate") { () throws(AdaptationConfigurationError) in try C(rate: -0.1) }
        TestSupport.assertConfigurationError("ConfidenceAnchor.rate") { () throws(AdaptationConfigurationError) in try C(rate: .nan) }
        TestSupport.assertConfigurationError("ConfidenceAnchor.maxLog") { () throws(AdaptationConfigurationError) in try C(maxLog: 0) }

        var a = ConfidenceAnchor(configuration: try .init(rate: 0.1))
        for _ in 0..<7 { a.observe(adaptedConfidence: 0.9, sourceConfidence: 0.6) }
        let b = try TestSupport.roundTrip(a)
        XCTAssertEqual(a, b)
        var o = try TestSupport.jsonObject(a)
        o["logTemperature"] = 100.0
        XCTAssertThrowsError(try TestSupport.decode(ConfidenceAnchor.self, fromObject: o))
    }
}
