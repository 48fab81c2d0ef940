import Foundation
import XCTest
@testable import TTADAdaptation

final class PredictionWindowTests: XCTestCase {
    func testHistogramsAndDisagreementAcrossTheWrap() throws {
        var w = try PredictionWindow(capacity: 3, classCount: 4)
        try w.append(adapted: 0, frozen: 0)
        try w.append(adapted: 1, frozen: 2)
        XCTAssertEqual(w.count, 2)
        XCTAssertEqual(w.adaptedHistogram, [1, 1, 0, 0])
        XCTAssertEqual(w.frozenHistogram, [1, 0, 1, 0])
        XCTAssertEqual(w.disagreementRate, 0.5)
        try w.append(adapted: 3, frozen: nil)
        XCTAssertTrue(w.isFull)
        XCTAssertEqual(w.frozenCount, 2)
        XCTAssertEqual(w.disagreementRate, 0.5, "samples without a frozen prediction do not count")
        // The fourth sample pushes out (0, 0).
        try w.append(adapted: 3, frozen: 1)
        XCTAssertEqual(w.count, 3)
        XCTAssertEqual(w.adaptedHistogram, [0, 1, 0, 2])
        XCTAssertEqual(w.frozenHistogram, [0, 1, 1, 0])
        XCTAssertEqual(w.disagreements, 2)
        XCTAssertEqual(w.disagreementRate, 1)
        w.removeAll()
        XCTAssertEqual(w.count, 0)
        XCTAssertNil(w.disagreementRate)
        XCTAssertEqual(w.adaptedHistogram, [0, 0, 0, 0])
    }

    func testShareHelpers() {
        XCTAssertEqual(PredictionWindow.classesWithShare(atLeast: 0.01, in: [100, 1, 0, 0]), 1, "1/101 < 1 %")
        XCTAssertEqual(PredictionWindow.classesWithShare(atLeast: 0.01, in: [99, 1, 0, 0]), 2, "exactly 1 % counts")
        XCTAssertEqual(PredictionWindow.classesWithShare(atLeast: 0.01, in: [0, 0]), 0)
        XCTAssertEqual(PredictionWindow.topShare(of: [1, 3, 0]), 0.75)
        XCTAssertEqual(PredictionWindow.topShare(of: [0, 0]), 0)
    }

    /// p = (½, ½), q = (1, 0), m = (¾, ¼): JS = ½·log2(4/3) + ¼·log2(2/3) + ¼ ≈ 0.311278 bits.
    func testJensenShannonByHand() {
        let want = 0.5 * log2(4.0 / 3) + 0.25 * log2(2.0 / 3) + 0.25
        XCTAssertEqual(PredictionWindow.jensenShannonBits([1, 1], [3, 0]), want, accuracy: 1e-12)
        XCTAssertEqual(PredictionWindow.jensenShannonBits([3, 0], [1, 1]), want, accuracy: 1e-12)
        XCTAssertEqual(PredictionWindow.jensenShannonBits([5, 0], [0, 7]), 1, accuracy: 1e-12)
        XCTAssertEqual(PredictionWindow.jensenShannonBits([1, 2], [2, 4]), 0, accuracy: 1e-12)
        XCTAssertEqual(PredictionWindow.jensenShannonBits([0, 0], [1, 2]), 0)
    }

    func testBadClassThrowsAndChangesNothing() throws {
        var w = try PredictionWindow(capacity: 2, classCount: 2)
        try w.append(adapted: 1, frozen: 0)
        let before = w
        XCTAssertThrowsError(try w.append(adapted: 2, frozen: nil))
        XCTAssertThrowsError(try w.append(adapted: 0, frozen: 5))
        XCTAssertEqual(w, before)
    }

    func testCheckpointRoundTripBeforeAndAfterTheWrap() throws {
        var w = try PredictionWindow(capacity: 4, classCount: 3)
        for i in 0..<3 { try w.append(adapted: i % 3, frozen: i == 1 ? nil : 2) }
        XCTAssertEqual(try TestSupport.roundTrip(w), w)
        for i in 0..<6 { try w.append(adapted: (i * 2) % 3, frozen: i % 3) }
        var restored = try TestSupport.roundTrip(w)
        XCTAssertEqual(restored, w)
        try restored.append(adapted: 1, frozen: 1)
        try w.append(adapted: 1, frozen: 1)
        XCTAssertEqual(restored, w)

        var json = try TestSupport.jsonObject(w)
        json["adapted"] = [0, 1, 7, 0]
        XCTAssertThrowsError(try TestSupport.decode(PredictionWindow.self, fromObject: json))
        json = try TestSupport.jsonObject(w)
        json["capacity"] = 5
        XCTAssertThrowsError(try TestSupport.decode(PredictionWindow.self, fromObject: json))
    }

    func testConfigurationIsValidated() {
        TestSupport.assertConfigurationError("PredictionWindow.capacity") { () throws(AdaptationConfigurationError) in
            try PredictionWindow(capacity: 0, classCount: 3)
        }
        TestSupport.assertConfigurationError("PredictionWindow.classCount") { () throws(AdaptationConfigurationError) in
            try PredictionWindow(capacity: 3, classCount: 0)
        }
    }
}
