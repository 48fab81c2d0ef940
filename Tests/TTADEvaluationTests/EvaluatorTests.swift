import Foundation
import XCTest
@testable import TTADEvaluation

final class EvaluatorTests: XCTestCase {
    func p(_ domain: String, _ pos: Int, label: Int?, pred: Int?, entropy: Double = 1, outlier: Bool = false,
           score: Double? = nil, latency: Double? = nil, at t: Double = 0) -> EvalPrediction {
        EvalPrediction(id: "\(domain)|\(pos)", label: label, predicted: pred, entropy: entropy, outlier: outlier,
                       outlierScore: score, latencySeconds: latency, arrivalSeconds: t)
    }

    func testWindowAccuracyByPosition() {
        // Window 4: positions 0…3 (3 of 4 right), 4…7 (1 of 2 right, 6 and 7 missing), 8 (1 of 1).
        let preds = [
            p("clean", 0, label: 1, pred: 1), p("clean", 1, label: 2, pred: 2), p("clean", 2, label: 3, pred: 0),
            p("clean", 3, label: 4, pred: 4), p("fog", 4, label: 5, pred: 5), p("fog", 5, label: 6, pred: 1),
            p("fog", 8, label: 0, pred: 0),
        ]
        let r = Evaluator.evaluate(preds.reversed(), options: EvalOptions(knownClasses: 8, window: 4))
        XCTAssertEqual(r.windows.map(\.index), [0, 1, 2])
        XCTAssertEqual(r.windows.map(\.known), [4, 2, 1])
        XCTAssertEqual(r.windows.map(\.correct), [3, 1, 1])
        XCTAssertEqual(r.windows.map(\.accuracy), [0.75, 0.5, 1])
        XCTAssertEqual(r.windows.map(\.start), [0, 4, 8])
        XCTAssertEqual(r.windows.map(\.domain), ["clean", "fog", "fog"])
        XCTAssertEqual(r.accuracy!, 5.0 / 7.0, accuracy: 1e-12)
    }

    func testPerDomainAndKnownOnlyAccuracy() {
        let preds = [
            p("clean", 0, label: 0, pred: 0), p("clean", 1, label: 1, pred: 2),
            p("fog", 2, label: 3, pred: 3), p("fog", 3, label: 9, pred: 3),  // outlier: not in accuracy
            p("fog", 4, label: 8, pred: 8),  // label ≥ known never counts, even if "right"
            p("clean", 5, label: 2, pred: 2),  // a later cycle of "clean" joins the first
        ]
        let r = Evaluator.evaluate(preds)
        XCTAssertEqual(r.known, 4)
        XCTAssertEqual(r.correct, 3)
        XCTAssertEqual(r.domains.map(\.domain), ["clean", "fog"])
        XCTAssertEqual(r.domains.map(\.known), [3, 1])
        XCTAssertEqual(r.domains.map(\.correct), [2, 1])
        XCTAssertEqual(r.domains.map(\.outliers), [0, 2])
        XCTAssertEqual(r.domains.map(\.firstPosition), [0, 2])
        XCTAssertEqual(r.domains[0].accuracy!, 2.0 / 3.0, accuracy: 1e-12)
        XCTAssertEqual(r.outliers.outlierSamples, 2)
    }

    func testOpenSetScores() {
        // Known: 4 samples; 3 right, of which one flagged → knownAccepted 2/4. Outliers: 2, one
        // flagged → rejection 1/2. H = 2·0.5·0.5/1 = 0.5. Scores separate perfectly except one tie.
        let preds = [
            p("c", 0, label: 0, pred: 0, score: 0.1), p("c", 1, label: 1, pred: 1, outlier: true, score: 0.9),
            p("c", 2, label: 2, pred: 2, score: 0.2), p("c", 3, label: 3, pred: 1, score: 0.3),
            p("c", 4, label: 8, pred: 0, outlier: true, score: 0.9), p("c", 5, label: 9, pred: 0, score: 0.8),
        ]
        let r = Evaluator.evaluate(preds)
        XCTAssertEqual(r.outliers.knownAcceptedAccuracy, 0.5)
        XCTAssertEqual(r.outliers.rejectionAccuracy, 0.5)
        XCTAssertEqual(r.outliers.hScore, 0.5)
        XCTAssertEqual(r.outliers.falseRejectionRate, 0.25)
        // Positive 0.9: beats 0.1, 0.2, 0.3, ties 0.9 → 3.5; positive 0.8: beats 3 → 3. 6.5 / 8.
        XCTAssertEqual(r.outliers.auroc!, 6.5 / 8, accuracy: 1e-12)
        XCTAssertEqual(r.outliers.scoredSamples, 6)
    }

    func testLatencyRateErrorsAndUnparsed() {
        var preds = (0..<11).map { i in
            p("clean", i, label: 0, pred: 0, latency: Double(i) / 1000, at: Double(i) * 0.5)
        }
        preds.append(EvalPrediction(id: "cam-1", label: nil, predicted: 1, entropy: 0.5, arrivalSeconds: 1))
        let r = Evaluator.evaluate(preds, errorReasons: ["decode_failed", "decode_failed", "bad_shape"])
        let l = r.latency!
        XCTAssertEqual(l.count, 11)
        XCTAssertEqual(l.p50, 0.005, accuracy: 1e-12)
        XCTAssertEqual(l.p90, 0.009, accuracy: 1e-12)
        XCTAssertEqual(l.p99, 0.0099, accuracy: 1e-12)
        XCTAssertEqual(l.max, 0.010, accuracy: 1e-12)
        XCTAssertEqual(r.errorsByReason, ["decode_failed": 2, "bad_shape": 1])
        XCTAssertEqual(r.errors, 3)
        XCTAssertEqual(r.unlabeled, 1)
        XCTAssertEqual(r.unparsedIDs, 1)
        XCTAssertEqual(r.durationSeconds, 5)
        // 12 predictions + 3 errors = 15 outputs over 5 s: 14 intervals.
        XCTAssertEqual(r.samplesPerSecond!, 14.0 / 5.0, accuracy: 1e-12)
    }

    /// Predictions read back from an earlier run (`ttad eval --resume`) carry NaN arrivals: they
    /// count for accuracy but not for the rate, which is this run's own.
    func testUnknownArrivalsCountForAccuracyButNotForTheRate() {
        var preds = (0..<4).map { EvalPrediction(id: "d|\($0)", label: 0, predicted: 1, entropy: 0.1, arrivalSeconds: .nan) }
        preds += (4..<8).map { EvalPrediction(id: "d|\($0)", label: 0, predicted: 0, entropy: 0.1, arrivalSeconds: Double($0)) }
        let r = Evaluator.evaluate(preds)
        XCTAssertEqual(r.predictions, 8)
        XCTAssertEqual(r.accuracy!, 0.5, accuracy: 1e-12)
        XCTAssertEqual(r.durationSeconds, 3)
        XCTAssertEqual(r.samplesPerSecond!, 1, accuracy: 1e-12, "3 intervals over 3 s")
    }

    func testEmptyReportAndFormats() throws {
        let r = Evaluator.evaluate([])
        XCTAssertNil(r.accuracy)
        XCTAssertNil(r.latency)
        XCTAssertNil(r.outliers.auroc)
        XCTAssertTrue(ReportFormat.markdown(r).contains("| predictions | 0 |"))
        XCTAssertFalse(try ReportFormat.json(r).isEmpty)
        XCTAssertTrue(ReportFormat.svg(r).hasPrefix("<svg"))
    }

    func testFormatsCarryTheNumbers() throws {
        var preds: [EvalPrediction] = []
        for i in 0..<30 {
            let label = i % 10
            let pred = i % 3 == 0 ? 0 : label
            let domain = i < 15 ? "clean" : "fog"
            let entropy = Double(i) / 30
            let score = Double(label) / 10
            preds.append(p(domain, i, label: label, pred: pred, entropy: entropy, outlier: label >= 8,
                           score: score, latency: 0.001, at: Double(i)))
        }
        let r = Evaluator.evaluate(preds, options: EvalOptions(knownClasses: 8, window: 10))
        let md = ReportFormat.markdown(r)
        XCTAssertTrue(md.contains("| fog | 15 |"), md)
        XCTAssertEqual(r.outliers.auroc, 1)
        XCTAssertTrue(md.contains("| outlier AUROC | 1.0000 |"), md)
        let json = try JSONSerialization.jsonObject(with: ReportFormat.json(r)) as! [String: Any]
        XCTAssertEqual(json["predictions"] as? Int, 30)
        XCTAssertNotNil(json["errors_by_reason"])
        XCTAssertEqual((json["windows"] as? [Any])?.count, 3)
        let svg = ReportFormat.svg(r)
        XCTAssertEqual(svg.components(separatedBy: "<polyline").count - 1, 3)
        XCTAssertTrue(svg.contains(">fog</text>"))
    }
}
