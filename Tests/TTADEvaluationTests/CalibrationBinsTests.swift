import XCTest
@testable import TTADEvaluation

final class CalibrationBinsTests: XCTestCase {
    func testHandComputedECE() {
        // Bin (0.8667, 0.9333]: confidences 0.9, 0.9, 0.9, 0.9, 3 right → |0.75 − 0.9| = 0.15, weight 4/6.
        // Bin (0.2667, 0.3333]: confidence 0.3 twice, 1 right → |0.5 − 0.3| = 0.2, weight 2/6.
        var b = CalibrationBins()
        for right in [true, true, true, false] { b.add(confidence: 0.9, correct: right) }
        b.add(confidence: 0.3, correct: true)
        b.add(confidence: 0.3, correct: false)
        XCTAssertEqual(b.samples, 6)
        XCTAssertEqual(b.expectedCalibrationError!, 4.0 / 6 * 0.15 + 2.0 / 6 * 0.2, accuracy: 1e-12)
    }

    func testPerfectCalibrationAndEdges() {
        var b = CalibrationBins(bins: 10)
        XCTAssertNil(b.expectedCalibrationError)
        // Confidence 1 and always right, confidence 0 and always wrong: calibrated.
        b.add(confidence: 1, correct: true)
        b.add(confidence: 0, correct: false)
        XCTAssertEqual(b.expectedCalibrationError!, 0, accuracy: 1e-12)
        // Overconfident: 1.0 but wrong costs its full weight.
        b.add(confidence: 1, correct: false)
        XCTAssertEqual(b.expectedCalibrationError!, 2.0 / 3 * 0.5, accuracy: 1e-12)
        // Out-of-range confidences are clamped, not dropped.
        b.add(confidence: 1.5, correct: true)
        XCTAssertEqual(b.samples, 4)
    }

    func testTheEvaluatorReportsECEOverallAndPerDomainOnKnownClassesOnly() {
        let preds = [
            EvalPrediction(id: "clean|0", label: 1, predicted: 1, entropy: 0.1, confidence: 0.9),
            EvalPrediction(id: "clean|1", label: 2, predicted: 0, entropy: 0.1, confidence: 0.9),
            EvalPrediction(id: "fog|2", label: 3, predicted: 3, entropy: 0.1, confidence: 0.6),
            // An unknown-class sample and one without a confidence are left out.
            EvalPrediction(id: "fog|3", label: 9, predicted: 3, entropy: 0.1, confidence: 0.99),
            EvalPrediction(id: "fog|4", label: 3, predicted: 3, entropy: 0.1),
        ]
        let r = Evaluator.evaluate(preds, options: EvalOptions(knownClasses: 8, window: 10))
        XCTAssertEqual(r.domains.map(\.domain), ["clean", "fog"])
        XCTAssertEqual(r.domains[0].ece!, 0.4, accuracy: 1e-12)      // 0.9 confident, half right
        XCTAssertEqual(r.domains[1].ece!, 0.4, accuracy: 1e-12)      // 0.6 confident, right
        XCTAssertEqual(r.ece!, 2.0 / 3 * 0.4 + 1.0 / 3 * 0.4, accuracy: 1e-12)
        XCTAssertTrue(ReportFormat.markdown(r, title: "t").contains("| expected calibration error (15 bins) | 0.4000 |"))
    }
}
