import XCTest
@testable import TTADEvaluation

/// A camera group's ids (`<camera>/<domain>|<position>`) are reported per stream as well as per
/// camera and domain; a single stream's are not.
final class StreamStatTests: XCTestCase {
    private func p(_ id: String, label: Int, predicted: Int) -> EvalPrediction {
        EvalPrediction(id: id, label: label, predicted: predicted, entropy: 0.1)
    }

    func testCamerasAreReportedApart() {
        let r = Evaluator.evaluate([
            p("cam-a/clean|0", label: 1, predicted: 1), p("cam-b/fog|1", label: 2, predicted: 0),
            p("cam-a/clean|2", label: 3, predicted: 3), p("cam-b/contrast|3", label: 2, predicted: 2),
            p("cam-a/clean|4", label: 9, predicted: 0),
        ], options: EvalOptions(knownClasses: 8))
        XCTAssertEqual(r.domains.map(\.domain), ["cam-a/clean", "cam-b/fog", "cam-b/contrast"])
        XCTAssertEqual(r.streams.map(\.stream), ["cam-a", "cam-b"])
        XCTAssertEqual(r.streams.map(\.samples), [3, 2])
        XCTAssertEqual(r.streams.map(\.known), [2, 2])
        XCTAssertEqual(r.streams.map(\.accuracy), [1.0, 0.5])
        XCTAssertTrue(ReportFormat.markdown(r, title: "t").contains("| cam-b | 2 | 2 | 50.00 % |"), ReportFormat.markdown(r, title: "t"))
    }

    func testASingleStreamHasNoStreamTable() {
        let r = Evaluator.evaluate([p("fog|0", label: 1, predicted: 1)], options: EvalOptions(knownClasses: 8))
        XCTAssertTrue(r.streams.isEmpty)
        XCTAssertFalse(ReportFormat.markdown(r, title: "t").contains("Per stream"))
    }
}
