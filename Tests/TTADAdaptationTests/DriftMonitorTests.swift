import Foundation
import XCTest
import TTADEngine
@testable import TTADAdaptation

final class DriftMonitorTests: XCTestCase {
    /// C = 3, W = 4, D = 2.
    private func monitor(window: Int = 4, dimension: Int = 2) throws -> DriftMonitor {
        DriftMonitor(configuration: try .init(classCount: 3, window: window, embeddingDimension: dimension))
    }

    func testWindowStatisticsByHand() throws {
        var m = try monitor()
        XCTAssertNil(m.snapshot().meanEntropy)
        let first: [(h: Float, c: Float, cls: Int, f: Int?, e: [Float])] = [
            (1, 0.5, 0, 0, [1, 0]), (2, 0.6, 1, 1, [0, 1]), (3, 0.7, 2, 1, [1, 1]), (4, 0.8, 0, nil, [0, 0]),
        ]
        for s in first { try m.observe(entropy: s.h, confidence: s.c, predictedClass: s.cls, frozenClass: s.f, embedding: s.e) }
        var snap = m.snapshot()
        XCTAssertEqual(snap.sampleCount, 4)
        XCTAssertEqual(snap.windowCount, 4)
        XCTAssertEqual(snap.meanEntropy!, 2.5, accuracy: 1e-7)
        XCTAssertEqual(snap.meanConfidence!, 0.65, accuracy: 1e-7)
        XCTAssertEqual(snap.disagreementRate!, 1.0 / 3, accuracy: 1e-12)    // one of three with a frozen class
        XCTAssertTrue(snap.referenceComplete)
        XCTAssertEqual(m.referenceHistogram, [2, 1, 1])
        XCTAssertEqual(snap.classDivergence, 0, "the window is the reference")
        XCTAssertEqual(snap.embeddingShift!, 0, accuracy: 1e-12)

        // Four more: all class 2 at embedding (2, 2), entropy 0.5, confidence 0.9.
        for _ in 0..<4 { try m.observe(entropy: 0.5, confidence: 0.9, predictedClass: 2, frozenClass: 2, embedding: [2, 2]) }
        snap = m.snapshot()
        XCTAssertEqual(snap.meanEntropy!, 0.5, accuracy: 1e-7)
        XCTAssertEqual(snap.meanConfidence!, 0.9, accuracy: 1e-7)
        XCTAssertEqual(snap.disagreementRate, 0)
        // p = (0, 0, 1) against q = (½, ¼, ¼): m = (¼, ⅛, ⅝);
        // JS = ½·log2(1/⅝) + ½·(½·log2 2 + ¼·log2 2 + ¼·log2(¼/⅝)) = 0.548795 bits.
        let js = 0.5 * log2(1 / 0.625) + 0.5 * (0.5 + 0.25 + 0.25 * log2(0.25 / 0.625))
        XCTAssertEqual(snap.classDivergence!, js, accuracy: 1e-12)
        XCTAssertEqual(js, 0.548795, accuracy: 1e-6)
        // Window mean (2, 2) against the reference mean (½, ½): √(1.5² + 1.5²) = 2.121320.
        XCTAssertEqual(snap.embeddingShift!, 2.121320, accuracy: 1e-6)
    }

    func testIncrementalSumsMatchANaiveWindowAfterManyWraps() throws {
        var m = try monitor(window: 5, dimension: 3)
        var rng = SplitMix64(seed: 31)
        var hs: [Float] = [], cs: [Float] = [], es: [[Float]] = []
        for i in 0..<123 {
            let h = rng.uniform() * 2, c = rng.uniform()
            let e = [rng.gaussian(), rng.gaussian(), rng.gaussian()]
            hs.append(h); cs.append(c); es.append(e)
            try m.observe(entropy: h, confidence: c, predictedClass: i % 3, frozenClass: nil, embedding: e)
        }
        let snap = m.snapshot()
        let lastH = hs.suffix(5).map(Double.init), lastC = cs.suffix(5).map(Double.init)
        XCTAssertEqual(snap.meanEntropy!, lastH.reduce(0, +) / 5, accuracy: 1e-12)
        XCTAssertEqual(snap.meanConfidence!, lastC.reduce(0, +) / 5, accuracy: 1e-12)
        let ref = (0..<3).map { j in es.prefix(5).reduce(0.0) { $0 + Double($1[j]) } / 5 }
        let cur = (0..<3).map { j in es.suffix(5).reduce(0.0) { $0 + Double($1[j]) } / 5 }
        let shift = zip(ref, cur).reduce(0.0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
        XCTAssertEqual(snap.embeddingShift!, shift, accuracy: 1e-9)
        XCTAssertNil(snap.disagreementRate)
    }

    /// Entropy steps up (Page–Hinkley) and confidence steps down (ADWIN) after 600 samples; both
    /// alarms are reported by `observe` and stay visible in snapshots for W samples.
    func testAlarmsFromBothDetectors() throws {
        var m = DriftMonitor(configuration: try .init(classCount: 3, window: 64))
        var rng = SplitMix64(seed: 77)
        for i in 0..<600 {
            let alarms = try m.observe(entropy: 0.4 + 0.1 * rng.uniform(), confidence: 0.8 + 0.1 * rng.uniform(),
                                       predictedClass: i % 3, frozenClass: i % 3)
            XCTAssertEqual(alarms, [], "sample \(i + 1)")
        }
        var entropyAt: Int? = nil, confidenceAt: Int? = nil
        for i in 1...200 {
            let alarms = try m.observe(entropy: 1.4 + 0.1 * rng.uniform(), confidence: 0.4 + 0.1 * rng.uniform(),
                                       predictedClass: i % 3, frozenClass: i % 3)
            if alarms.contains(.entropy), entropyAt == nil { entropyAt = i }
            if alarms.contains(.confidence), confidenceAt == nil { confidenceAt = i }
        }
        XCTAssertLessThanOrEqual(try XCTUnwrap(entropyAt), 80)
        XCTAssertLessThanOrEqual(try XCTUnwrap(confidenceAt), 40)
        let snap = m.snapshot()
        XCTAssertGreaterThanOrEqual(snap.entropyAlarmCount, 1)
        XCTAssertGreaterThanOrEqual(snap.confidenceAlarmCount, 1)
        XCTAssertEqual(snap.lastConfidenceAlarmSample.map { $0 >= 600 + confidenceAt! }, true)
        XCTAssertLessThan(snap.confidenceWindowWidth, 400)
        // A stable stretch longer than W clears the flags but not the counts.
        for i in 0..<300 { try m.observe(entropy: 1.45, confidence: 0.45, predictedClass: i % 3, frozenClass: nil) }
        let quiet = m.snapshot()
        XCTAssertFalse(quiet.entropyAlarm)
        XCTAssertFalse(quiet.confidenceAlarm)
        XCTAssertEqual(quiet.entropyAlarmCount, snap.entropyAlarmCount)
    }

    func testNonFiniteObservationsAreSkipped() throws {
        var m = try monitor()
        try m.observe(entropy: .nan, confidence: 0.5, predictedClass: 0, frozenClass: nil, embedding: [0, 0])
        try m.observe(entropy: 1, confidence: 0.5, predictedClass: 0, frozenClass: nil, embedding: [.infinity, 0])
        XCTAssertEqual(m.skippedNonFinite, 2)
        XCTAssertEqual(m.sampleCount, 0)
        XCTAssertEqual(m.snapshot().skippedNonFinite, 2)
    }

    func testBadCallsThrowAndChangeNothing() throws {
        var m = try monitor()
        let before = m
        XCTAssertThrowsError(try m.observe(entropy: 1, confidence: 0.5, predictedClass: 3, frozenClass: nil, embedding: [0, 0]))
        XCTAssertThrowsError(try m.observe(entropy: 1, confidence: 0.5, predictedClass: 0, frozenClass: 9, embedding: [0, 0]))
        XCTAssertThrowsError(try m.observe(entropy: 1, confidence: 0.5, predictedClass: 0, frozenClass: nil, embedding: [0]))
        XCTAssertThrowsError(try m.observe(entropy: 1, confidence: 0.5, predictedClass: 0, frozenClass: nil))
        var noEmbeddings = try monitor(dimension: 0)
        XCTAssertThrowsError(try noEmbeddings.observe(entropy: 1, confidence: 0.5, predictedClass: 0, frozenClass: nil, embedding: [0]))
        XCTAssertNoThrow(try noEmbeddings.observe(entropy: 1, confidence: 0.5, predictedClass: 0, frozenClass: nil))
        XCTAssertNil(noEmbeddings.snapshot().embeddingShift)
        XCTAssertEqual(m, before)
    }

    func testResetReferenceTakesTheNextWindow() throws {
        var m = try monitor()
        for _ in 0..<4 { try m.observe(entropy: 1, confidence: 0.5, predictedClass: 0, frozenClass: nil, embedding: [0, 0]) }
        for _ in 0..<4 { try m.observe(entropy: 1, confidence: 0.5, predictedClass: 1, frozenClass: nil, embedding: [1, 0]) }
        XCTAssertEqual(m.snapshot().classDivergence!, 1, accuracy: 1e-12)
        m.resetReference()
        XCTAssertNil(m.snapshot().classDivergence)
        for _ in 0..<4 { try m.observe(entropy: 1, confidence: 0.5, predictedClass: 1, frozenClass: nil, embedding: [1, 0]) }
        XCTAssertEqual(m.snapshot().classDivergence!, 0, accuracy: 1e-12)
        XCTAssertEqual(m.snapshot().embeddingShift!, 0, accuracy: 1e-12)
    }

    func testCheckpointRoundTripContinuesIdentically() throws {
        var m = try monitor(window: 6, dimension: 2)
        var rng = SplitMix64(seed: 3)
        func step(_ m: inout DriftMonitor, _ rng: inout SplitMix64) throws -> DriftAlarms {
            try m.observe(entropy: rng.uniform(), confidence: rng.uniform(), predictedClass: Int(rng.next() % 3),
                          frozenClass: Int(rng.next() % 3), embedding: [rng.gaussian(), rng.gaussian()])
        }
        for _ in 0..<17 { _ = try step(&m, &rng) }
        var restored = try TestSupport.roundTrip(m)
        XCTAssertEqual(restored, m)
        XCTAssertEqual(restored.snapshot(), m.snapshot())
        var rng2 = rng
        for _ in 0..<50 { XCTAssertEqual(try step(&restored, &rng2), try step(&m, &rng)) }
        XCTAssertEqual(restored, m)
        XCTAssertEqual(try TestSupport.roundTrip(m.snapshot()), m.snapshot())

        var json = try TestSupport.jsonObject(m)
        json["embeddings"] = [0.0]
        XCTAssertThrowsError(try TestSupport.decode(DriftMonitor.self, fromObject: json))
    }

    func testConfigurationIsValidated() throws {
        let d = try DriftMonitor.Configuration(classCount: 10)
        XCTAssertEqual(d.window, 256)
        XCTAssertEqual(d.pageHinkley, try PageHinkley.Configuration())
        XCTAssertEqual(d.adwin, try ADWIN.Configuration())
        TestSupport.assertConfigurationError("DriftMonitor.classCount") { () throws(AdaptationConfigurationError) in
            try DriftMonitor.Configuration(classCount: 1)
        }
        TestSupport.assertConfigurationError("DriftMonitor.window") { () throws(AdaptationConfigurationError) in
            try DriftMonitor.Configuration(classCount: 3, window: 0)
        }
        TestSupport.assertConfigurationError("DriftMonitor.embeddingDimension") { () throws(AdaptationConfigurationError) in
            try DriftMonitor.Configuration(classCount: 3, embeddingDimension: -1)
        }
    }
}
