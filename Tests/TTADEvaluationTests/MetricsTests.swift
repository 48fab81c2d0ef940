import XCTest
@testable import TTADEvaluation

final class MetricsTests: XCTestCase {
    func testAUROCPerfectAndInverted() {
        XCTAssertEqual(Metrics.auroc(scores: [0.1, 0.2, 0.8, 0.9], positives: [false, false, true, true]), 1)
        XCTAssertEqual(Metrics.auroc(scores: [0.9, 0.8, 0.2, 0.1], positives: [false, false, true, true]), 0)
    }

    func testAUROCHandWorked() {
        // Positives 0.8, 0.4; negatives 0.7, 0.3, 0.1. Pairs won: 0.8 beats all 3, 0.4 beats
        // 0.3 and 0.1 → 5 of 6.
        let a = Metrics.auroc(scores: [0.8, 0.7, 0.4, 0.3, 0.1], positives: [true, false, true, false, false])
        XCTAssertEqual(a!, 5.0 / 6.0, accuracy: 1e-12)
    }

    func testAUROCTiesCountHalf() {
        // Every score tied: chance.
        XCTAssertEqual(Metrics.auroc(scores: [1, 1, 1, 1], positives: [true, false, true, false]), 0.5)
        // Positive 0.5 ties negative 0.5 (½) and beats 0.2 (1); positive 0.9 beats both (2).
        // 3.5 of 4 pairs.
        let a = Metrics.auroc(scores: [0.5, 0.5, 0.2, 0.9], positives: [true, false, false, true])
        XCTAssertEqual(a!, 3.5 / 4, accuracy: 1e-12)
        // Three-way tie spanning classes: positives {0.3, 0.3}, negatives {0.3, 0.1}.
        // 0.3 vs 0.3 → ½ each (2 pairs), vs 0.1 → 1 each (2 pairs): 3 of 4.
        let b = Metrics.auroc(scores: [0.3, 0.3, 0.3, 0.1], positives: [true, true, false, false])
        XCTAssertEqual(b!, 0.75, accuracy: 1e-12)
    }

    func testAUROCMatchesBruteForce() {
        var state: UInt64 = 12345
        func next() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double((state >> 33) % 7) / 7  // coarse → many ties
        }
        let n = 200
        let scores = (0..<n).map { _ in next() }
        let pos = (0..<n).map { _ in next() > 0.5 }
        var wins = 0.0, pairs = 0.0
        for i in 0..<n where pos[i] {
            for j in 0..<n where !pos[j] {
                pairs += 1
                if scores[i] > scores[j] { wins += 1 } else if scores[i] == scores[j] { wins += 0.5 }
            }
        }
        XCTAssertEqual(Metrics.auroc(scores: scores, positives: pos)!, wins / pairs, accuracy: 1e-12)
    }

    func testAUROCUndefined() {
        XCTAssertNil(Metrics.auroc(scores: [0.1, 0.2], positives: [false, false]))
        XCTAssertNil(Metrics.auroc(scores: [0.1, 0.2], positives: [true, true]))
        XCTAssertNil(Metrics.auroc(scores: [], positives: []))
        XCTAssertNil(Metrics.auroc(scores: [.nan, 0.2], positives: [true, false]))
    }

    func testHScore() {
        XCTAssertEqual(Metrics.hScore(knownAccuracy: 0.8, rejectionAccuracy: 0.6)!, 2 * 0.48 / 1.4, accuracy: 1e-12)
        XCTAssertEqual(Metrics.hScore(knownAccuracy: 1, rejectionAccuracy: 1), 1)
        XCTAssertEqual(Metrics.hScore(knownAccuracy: 0.9, rejectionAccuracy: 0), 0)
        XCTAssertEqual(Metrics.hScore(knownAccuracy: 0, rejectionAccuracy: 0), 0)
        XCTAssertNil(Metrics.hScore(knownAccuracy: 0.9, rejectionAccuracy: nil))
    }

    func testPercentilesInterpolate() {
        let v: [Double] = [4, 1, 3, 2, 5]  // sorted 1…5
        XCTAssertEqual(Metrics.percentile(v, 50), 3)
        XCTAssertEqual(Metrics.percentile(v, 0), 1)
        XCTAssertEqual(Metrics.percentile(v, 100), 5)
        XCTAssertEqual(Metrics.percentile(v, 90)!, 4.6, accuracy: 1e-12)   // rank 3.6
        XCTAssertEqual(Metrics.percentile(v, 99)!, 4.96, accuracy: 1e-12)  // rank 3.96
        XCTAssertEqual(Metrics.percentile([1, 2, 3, 4], 50)!, 2.5, accuracy: 1e-12)
        XCTAssertEqual(Metrics.percentile([7], 99), 7)
        XCTAssertNil(Metrics.percentile([], 50))
        let hundred = (1...100).map(Double.init)
        XCTAssertEqual(Metrics.percentile(hundred, 99)!, 99.01, accuracy: 1e-9)
    }

    func testDomainParsing() {
        XCTAssertEqual(StreamSampleID(parsing: "fog|123"), StreamSampleID(domain: "fog", position: 123))
        XCTAssertEqual(StreamSampleID(parsing: "clean|0"), StreamSampleID(domain: "clean", position: 0))
        XCTAssertEqual(StreamSampleID(parsing: "a|b|7"), StreamSampleID(domain: "a|b", position: 7))
        XCTAssertNil(StreamSampleID(parsing: "cam1-000123"))
        XCTAssertNil(StreamSampleID(parsing: "|5"))
        XCTAssertNil(StreamSampleID(parsing: "fog|"))
        XCTAssertNil(StreamSampleID(parsing: "fog|-3"))
        XCTAssertNil(StreamSampleID(parsing: "fog|1x"))
        XCTAssertEqual(StreamSampleID(domain: "gaussian_noise", position: 42).id, "gaussian_noise|42")
    }
}
