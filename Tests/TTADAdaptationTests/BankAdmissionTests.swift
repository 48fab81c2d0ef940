import Foundation
import XCTest
@testable import TTADAdaptation

final class BankAdmissionTests: XCTestCase {
    private func admission(classes: Int = 10, alpha: Double = 0.4, agreement: Bool = true) throws -> BankAdmission {
        BankAdmission(configuration: try .init(classCount: classes, entropyFraction: alpha, requireAgreement: agreement))
    }

    func testMarginIsAlphaTimesLnC() throws {
        let a = try admission()
        XCTAssertEqual(Double(a.entropyMargin), 0.4 * log(10.0), accuracy: 1e-6)      // 0.921034
        XCTAssertEqual(a.configuration.entropyFraction, BankAdmission.Configuration.defaultEntropyFraction)
    }

    func testEachRuleByHand() throws {
        var a = try admission()
        XCTAssertEqual(a.evaluate(entropy: 0.5, adaptedClass: 3, frozenClass: 3, isOutlier: false), .admit)
        // The outlier flag wins over everything, even a confident, agreeing sample.
        XCTAssertEqual(a.evaluate(entropy: 0.01, adaptedClass: 3, frozenClass: 3, isOutlier: true), .reject(.outlier))
        XCTAssertEqual(a.evaluate(entropy: .nan, adaptedClass: 3, frozenClass: 3, isOutlier: false), .reject(.nonFiniteEntropy))
        XCTAssertEqual(a.evaluate(entropy: .infinity, adaptedClass: 3, frozenClass: 3, isOutlier: false), .reject(.nonFiniteEntropy))
        // Strictly below the margin: the margin itself is rejected.
        XCTAssertEqual(a.evaluate(entropy: a.entropyMargin, adaptedClass: 3, frozenClass: 3, isOutlier: false),
                       .reject(.entropyTooHigh))
        XCTAssertEqual(a.evaluate(entropy: a.entropyMargin.nextDown, adaptedClass: 3, frozenClass: 3, isOutlier: false), .admit)
        XCTAssertEqual(a.evaluate(entropy: 0.5, adaptedClass: 3, frozenClass: 4, isOutlier: false), .reject(.disagreesWithFrozen))
        XCTAssertEqual(a.evaluate(entropy: 0.5, adaptedClass: 3, frozenClass: nil, isOutlier: false), .reject(.noFrozenPrediction))

        XCTAssertEqual(a.counters.admitted, 2)
        XCTAssertEqual(a.counters.outlier, 1)
        XCTAssertEqual(a.counters.nonFiniteEntropy, 2)
        XCTAssertEqual(a.counters.entropyTooHigh, 1)
        XCTAssertEqual(a.counters.disagreesWithFrozen, 1)
        XCTAssertEqual(a.counters.noFrozenPrediction, 1)
        XCTAssertEqual(a.counters.rejected, 6)
        a.resetCounters()
        XCTAssertEqual(a.counters, BankAdmission.Counters())
    }

    func testAgreementCanBeSwitchedOff() throws {
        let a = try admission(agreement: false)      // STAMP's C = 1000 setting
        XCTAssertEqual(a.decide(entropy: 0.5, adaptedClass: 3, frozenClass: 4, isOutlier: false), .admit)
        XCTAssertEqual(a.decide(entropy: 0.5, adaptedClass: 3, frozenClass: nil, isOutlier: false), .admit)
        XCTAssertEqual(a.decide(entropy: 0.5, adaptedClass: 3, frozenClass: nil, isOutlier: true), .reject(.outlier))
    }

    /// Admission in front of the bank: only admitted samples reach it, so rejected ones neither
    /// take a slot nor age the bank.
    func testRejectedSamplesNeverReachTheBank() throws {
        var a = try admission(classes: 4, alpha: 0.4)               // margin 0.4·ln 4 = 0.554518
        var bank = MemoryBank<Int>(configuration: try MemoryBankConfiguration(classCount: 4, capacity: 8))
        let offers: [(id: Int, h: Float, adapted: Int, frozen: Int?, outlier: Bool)] = [
            (0, 0.2, 1, 1, false),    // admitted
            (1, 0.6, 1, 1, false),    // entropy too high
            (2, 0.1, 2, 3, false),    // disagrees
            (3, 0.1, 2, 2, true),     // outlier
            (4, 0.3, 0, 0, false),    // admitted
            (5, 0.1, 0, nil, false),  // no frozen prediction
        ]
        for o in offers where a.evaluate(entropy: o.h, adaptedClass: o.adapted, frozenClass: o.frozen, isOutlier: o.outlier).isAdmitted {
            try bank.insert(o.id, classIndex: o.adapted, uncertainty: o.h, byteSize: 4)
        }
        XCTAssertEqual(bank.items.map(\.payload), [4, 0])          // class order: class 0 first
        XCTAssertEqual(bank.clock, 2)
        XCTAssertEqual(a.counters.admitted, 2)
        XCTAssertEqual(a.counters.rejected, 4)
    }

    func testCheckpointRoundTrip() throws {
        var a = try admission()
        _ = a.evaluate(entropy: 0.1, adaptedClass: 0, frozenClass: 1, isOutlier: false)
        let restored = try TestSupport.roundTrip(a)
        XCTAssertEqual(restored, a)
        XCTAssertEqual(restored.entropyMargin, a.entropyMargin)
        var json = try TestSupport.jsonObject(a)
        json["configuration"] = ["classCount": 10, "entropyFraction": 1.5, "requireAgreement": true]
        XCTAssertThrowsError(try TestSupport.decode(BankAdmission.self, fromObject: json))
    }

    func testConfigurationIsValidated() {
        TestSupport.assertConfigurationError("BankAdmission.classCount") { () throws(AdaptationConfigurationError) in
            try BankAdmission.Configuration(classCount: 1)
        }
        TestSupport.assertConfigurationError("BankAdmission.entropyFraction") { () throws(AdaptationConfigurationError) in
            try BankAdmission.Configuration(classCount: 10, entropyFraction: 0)
        }
        TestSupport.assertConfigurationError("BankAdmission.entropyFraction") { () throws(AdaptationConfigurationError) in
            try BankAdmission.Configuration(classCount: 10, entropyFraction: 1.01)
        }
    }
}
