import Foundation
import XCTest
import TTADEngine
@testable import TTADAdaptation

final class ADWINTests: XCTestCase {
    private func naive(_ values: [Double]) -> (total: Double, squaredDeviations: Double) {
        let total = values.reduce(0, +)
        let mean = total / Double(values.count)
        return (total, values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) })
    }

    /// M = 2: a row overflows at 3 buckets and its two oldest merge into one of double size.
    /// Values 1…7: after 3 → [1] [2]; after 5 → [1] [2,2]; after 7 row 1 overflows → [1] [2] [4].
    /// The size-4 bucket holds 1+2+3+4 = 10 with squared deviations 2.25+0.25+0.25+2.25 = 5.
    func testExponentialHistogramByHand() throws {
        var a = ADWIN(configuration: try .init(delta: 0.002, maxBucketsPerRow: 2))
        for x in 1...7 { a.update(Double(x)) }
        XCTAssertEqual(a.rows.map(\.count), [1, 1, 1])
        XCTAssertEqual(a.rows[2][0], ADWIN.Bucket(total: 10, variance: 5))
        XCTAssertEqual(a.rows[1][0], ADWIN.Bucket(total: 11, variance: 0.5))
        XCTAssertEqual(a.rows[0][0], ADWIN.Bucket(total: 7, variance: 0))
        XCTAssertEqual(a.width, 7)
        XCTAssertEqual(a.total, 28)
        XCTAssertEqual(a.squaredDeviations, 28, accuracy: 1e-12)          // Σ (x − 4)² for 1…7
        XCTAssertEqual(a.mean, 4)
    }

    func testWindowStatisticsMatchANaiveComputation() throws {
        var a = ADWIN(configuration: try .init())
        var rng = SplitMix64(seed: 4)
        var values: [Double] = []
        for _ in 0..<777 {
            let x = Double(rng.uniform())
            values.append(x)
            XCTAssertFalse(a.update(x))
        }
        let (t, s) = naive(values)
        XCTAssertEqual(a.width, 777)
        XCTAssertEqual(a.total, t, accuracy: 1e-9)
        XCTAssertEqual(a.squaredDeviations, s, accuracy: 1e-9)
        XCTAssertEqual(a.rows.reduce(0) { $0 + $1.reduce(0) { $0 + $1.total } }, t, accuracy: 1e-9)
        XCTAssertTrue(a.rows.allSatisfy { $0.count <= 5 })
        XCTAssertLessThan(a.bucketCount, 50, "O(M log n) buckets")
    }

    /// 10 alternating 0/1 values: σ²_W = 0.25, n₀ = n₁ = 5 → m = 2.5, ln(2n/δ) = ln 10⁴ = 9.210340;
    /// ε = √(2/2.5 · 0.25 · 9.210340) + 2/7.5 · 9.210340 = 1.357228 + 2.456091 = 3.813319.
    func testEpsilonCutByHand() throws {
        var a = ADWIN(configuration: try .init())
        for i in 0..<10 { a.update(Double(i % 2)) }
        XCTAssertEqual(a.variance, 0.25)
        XCTAssertEqual(a.epsilonCut(n0: 5, n1: 5), 3.813319, accuracy: 1e-6)
    }

    /// A confidence that falls from ≈ 0.8 to ≈ 0.4: detected within a bounded delay, after which
    /// the window holds (almost) only the new regime.
    func testStepChangeIsDetectedWithinBoundedDelay() throws {
        var a = ADWIN(configuration: try .init())
        var rng = SplitMix64(seed: 8)
        for i in 0..<1000 { XCTAssertFalse(a.update(TestSupport.uniform(&rng, 0.7, 0.9)), "false alarm at \(i)") }
        var delay: Int? = nil
        for i in 1...300 where a.update(TestSupport.uniform(&rng, 0.3, 0.5)) {
            delay = i
            break
        }
        let d = try XCTUnwrap(delay)
        XCTAssertLessThanOrEqual(d, 40)
        XCTAssertEqual(a.detections, 1)
        // The old regime was dropped down to a short tail: a few dozen old values are not enough
        // evidence for the paper's bound (its 2/(3m)·ln(2/δ') term), so they stay until the
        // window is long enough to single them out.
        for _ in 0..<200 { a.update(TestSupport.uniform(&rng, 0.3, 0.5)) }
        XCTAssertLessThan(a.width, 400)
        XCTAssertEqual(a.mean, 0.4, accuracy: 0.05)
    }

    func testStationaryStreamDoesNotAlarm() throws {
        var a = ADWIN(configuration: try .init())
        var rng = SplitMix64(seed: 42)
        for _ in 0..<10_000 { a.update(Double(rng.uniform())) }
        XCTAssertEqual(a.detections, 0)
        XCTAssertEqual(a.width, 10_000)
        var bernoulli = ADWIN(configuration: try .init())
        for _ in 0..<10_000 { bernoulli.update(rng.uniform() < 0.3 ? 1 : 0) }
        XCTAssertEqual(bernoulli.detections, 0)
    }

    func testClockTestsOnlyEveryKValues() throws {
        var a = ADWIN(configuration: try .init(clock: 32))
        for _ in 0..<500 { a.update(1) }
        var firstDetection: Int? = nil
        for i in 1...200 where a.update(0) {
            firstDetection = i
            break
        }
        XCTAssertEqual(try XCTUnwrap(firstDetection) % 32, (32 - 500 % 32) % 32, "only on multiples of the clock")
    }

    func testNonFiniteValuesAreIgnored() throws {
        var a = ADWIN(configuration: try .init())
        a.update(0.5)
        XCTAssertFalse(a.update(.nan))
        XCTAssertEqual(a.width, 1)
        XCTAssertEqual(a.ignoredNonFinite, 1)
    }

    func testCheckpointRoundTrip() throws {
        var a = ADWIN(configuration: try .init())
        var rng = SplitMix64(seed: 12)
        for _ in 0..<300 { a.update(Double(rng.uniform())) }
        var restored = try TestSupport.roundTrip(a)
        XCTAssertEqual(restored, a)
        for _ in 0..<300 {
            let x = 0.5 * Double(rng.uniform())
            XCTAssertEqual(restored.update(x), a.update(x))
        }
        XCTAssertEqual(restored, a)
        var json = try TestSupport.jsonObject(a)
        json["width"] = 1
        XCTAssertThrowsError(try TestSupport.decode(ADWIN.self, fromObject: json))
    }

    func testConfigurationIsValidated() throws {
        let d = try ADWIN.Configuration()
        XCTAssertEqual(d.delta, 0.002)
        XCTAssertEqual(d.maxBucketsPerRow, 5)
        TestSupport.assertConfigurationError("ADWIN.delta") { () throws(AdaptationConfigurationError) in try ADWIN.Configuration(delta: 0) }
        TestSupport.assertConfigurationError("ADWIN.delta") { () throws(AdaptationConfigurationError) in try ADWIN.Configuration(delta: 1) }
        TestSupport.assertConfigurationError("ADWIN.maxBucketsPerRow") { () throws(AdaptationConfigurationError) in
            try ADWIN.Configuration(maxBucketsPerRow: 1)
        }
        TestSupport.assertConfigurationError("ADWIN.minSubwindowLength") { () throws(AdaptationConfigurationError) in
            try ADWIN.Configuration(minSubwindowLength: 0)
        }
        TestSupport.assertConfigurationError("ADWIN.clock") { () throws(AdaptationConfigurationError) in try ADWIN.Configuration(clock: 0) }
    }
}
