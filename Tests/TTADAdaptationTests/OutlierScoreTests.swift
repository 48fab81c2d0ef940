import Foundation
import XCTest
@testable import TTADAdaptation

final class OutlierScoreTests: XCTestCase {
    func testEntropyOfMeanByHand() {
        // One view: −(0.7 ln 0.7 + 0.2 ln 0.2 + 0.1 ln 0.1) = 0.249672 + 0.321888 + 0.230259.
        XCTAssertEqual(OutlierScore.entropyOfMean(probabilities: [0.7, 0.2, 0.1]), 0.801819, accuracy: 1e-6)
        // Two confident views that disagree: p̄ = (½, ½) → ln 2, although each view has entropy 0.
        XCTAssertEqual(OutlierScore.entropyOfMean(probabilities: [1, 0, 0, 1], viewCount: 2), Float(log(2.0)), accuracy: 1e-7)
        // Views (0.9, 0.1, 0) and (0.5, 0.3, 0.2) → p̄ = (0.7, 0.2, 0.1), as above.
        XCTAssertEqual(OutlierScore.entropyOfMean(probabilities: [0.9, 0.1, 0, 0.5, 0.3, 0.2], viewCount: 2), 0.801819, accuracy: 1e-6)
        // Uniform over C is the maximum, ln C.
        XCTAssertEqual(OutlierScore.entropyOfMean(probabilities: [Float](repeating: 0.125, count: 8)), Float(log(8.0)), accuracy: 1e-6)
        XCTAssertEqual(OutlierScore.entropyOfMean(probabilities: [1, 0, 0]), 0)
    }

    func testHigherMeansMoreOutlierLikeForEveryScore() {
        // A confident, in-distribution-looking sample against an unsure one.
        let confidentLogits: [Float] = [9, 1, 0.5], unsureLogits: [Float] = [2, 1.9, 2.1]
        XCTAssertLessThan(OutlierScore.energy(logits: confidentLogits), OutlierScore.energy(logits: unsureLogits))
        XCTAssertLessThan(OutlierScore.entropyOfMean(probabilities: [0.98, 0.01, 0.01]),
                          OutlierScore.entropyOfMean(probabilities: [0.4, 0.3, 0.3]))
        XCTAssertLessThan(OutlierScore.maxCosine(cosines: [0.35, 0.1]), OutlierScore.maxCosine(cosines: [0.12, 0.1]))
    }

    func testMaxCosineByHand() {
        XCTAssertEqual(OutlierScore.maxCosine(cosines: [0.2, 0.31, -0.5]), 0.69, accuracy: 1e-7)
        XCTAssertEqual(OutlierScore.maxCosine(cosines: [-1]), 2)
    }

    func testEnergyByHand() {
        // T = 1: −log(e + e² + e³) = −(3 + log(1 + e⁻¹ + e⁻²)) = −3.407606.
        XCTAssertEqual(OutlierScore.energy(logits: [1, 2, 3]), -3.407606, accuracy: 1e-6)
        // T = 2: −2·log(e^0.5 + e + e^1.5) = −2·log(8.848692) = −2·2.180270 = −4.360540.
        XCTAssertEqual(OutlierScore.energy(logits: [1, 2, 3], temperature: 2), -4.360540, accuracy: 1e-5)
        // Large logits do not overflow: −(1000 + ln 2).
        XCTAssertEqual(OutlierScore.energy(logits: [1000, 1000]), -(1000 + Float(log(2.0))), accuracy: 1e-3)
        XCTAssertEqual(OutlierScore.energy(logits: [.infinity, 0]), -.infinity)
        XCTAssertEqual(OutlierScore.energy(logits: [-.infinity, -.infinity]), .infinity)
    }

    func testEmptyOrNaNInputGivesNaN() {
        XCTAssertTrue(OutlierScore.entropyOfMean(probabilities: []).isNaN)
        XCTAssertTrue(OutlierScore.entropyOfMean(probabilities: [0.5, .nan]).isNaN)
        XCTAssertTrue(OutlierScore.maxCosine(cosines: []).isNaN)
        XCTAssertTrue(OutlierScore.maxCosine(cosines: [0.9, .nan]).isNaN)
        XCTAssertTrue(OutlierScore.energy(logits: []).isNaN)
        XCTAssertTrue(OutlierScore.energy(logits: [1, .nan]).isNaN)
    }

    func testConfiguration() throws {
        let c = try OutlierScore.Configuration()
        XCTAssertEqual(c.kind, .entropyOfMean)
        XCTAssertEqual(c.temperature, 1)
        XCTAssertEqual(try TestSupport.roundTrip(try OutlierScore.Configuration(kind: .energy, temperature: 0.5)).kind, .energy)
        TestSupport.assertConfigurationError("OutlierScore.temperature") { () throws(AdaptationConfigurationError) in
            try OutlierScore.Configuration(kind: .energy, temperature: 0)
        }
        let bad = #"{"kind":"energy","temperature":-1}"#.data(using: .utf8)!
        XCTAssertThrowsError(try JSONDecoder().decode(OutlierScore.Configuration.self, from: bad))
    }
}
