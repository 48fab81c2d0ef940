import Foundation
import XCTest
@testable import TTADAdaptation

/// TDA's cache on hand-worked cases: which samples enter which cache, the replacement order, and
/// the logit adjustment to the last float.
final class TDACacheTests: XCTestCase {
    private func cache(classes: Int = 4) throws -> TDACache {
        TDACache(configuration: try .init(classCount: classes, dimension: 2))
    }

    func testPositiveCacheKeepsTheLowestEntropiesPerPseudoLabel() throws {
        var t = try cache()
        let p0: [Float] = [0.7, 0.1, 0.1, 0.1]          // pseudo-label 0
        for h: Float in [0.9, 0.5, 0.7, 0.8, 0.3] {
            try t.update(feature: [1, 0], probabilities: p0, entropy: h)
        }
        XCTAssertEqual(t.positive[0].map(\.entropy), [0.3, 0.5, 0.7], "capacity 3, sorted, worst replaced by better")
        XCTAssertEqual(t.positive[1].count + t.positive[2].count + t.positive[3].count, 0)
        try t.update(feature: [0, 1], probabilities: p0, entropy: 0.75)
        XCTAssertEqual(t.positive[0].map(\.entropy), [0.3, 0.5, 0.7], "not better than the worst: rejected")
        try t.update(feature: [0, 1], probabilities: [0.1, 0.1, 0.1, 0.7], entropy: 0.75)
        XCTAssertEqual(t.positive[3].map(\.entropy), [0.75])
    }

    func testNegativeCacheUsesTDAsNormalisationAndStoresTheMask() throws {
        var t = try cache()
        // log2(4) = 2: entropy 0.6 nats → 0.3 (inside (0.2, 0.5)); 0.3 → 0.15 and 1.2 → 0.6 (outside).
        let p: [Float] = [0.02, 0.5, 0.4, 0.08]
        try t.update(feature: [1, 0], probabilities: p, entropy: 0.6)
        try t.update(feature: [1, 0], probabilities: p, entropy: 0.3)
        try t.update(feature: [1, 0], probabilities: p, entropy: 1.2)
        XCTAssertEqual(t.negativeCount, 1)
        XCTAssertEqual(t.negative[1].first?.mask, [0, 1, 1, 1], "1[0.03 < p < 1]")
        XCTAssertEqual(t.positiveCount, 3)
    }

    func testAdjustAddsPositiveAndSubtractsNegativeAffinities() throws {
        var t = try cache()
        try t.update(feature: [1, 0], probabilities: [0.9, 0.05, 0.03, 0.02], entropy: 0.1)   // positive, class 0
        try t.update(feature: [0, 1], probabilities: [0.02, 0.5, 0.4, 0.08], entropy: 0.6)    // positive + negative, class 1
        var logits: [Float] = [1, 2, 3, 4]
        let f: [Float] = [0.6, 0.8]
        logits.withUnsafeMutableBufferPointer { l in f.withUnsafeBufferPointer { t.adjust(logits: l.baseAddress!, feature: $0.baseAddress!) } }
        let a0 = 2 * Foundation.exp(-5 * (1 - Float(0.6)))      // positive class 0: cos 0.6
        let a1 = 2 * Foundation.exp(-5 * (1 - Float(0.8)))      // positive class 1: cos 0.8
        let n1 = 0.117 * Foundation.exp(-1 * (1 - Float(0.8)))  // negative: mask [0, 1, 1, 1]
        XCTAssertEqual(logits[0], 1 + a0, accuracy: 1e-6)
        XCTAssertEqual(logits[1], 2 + a1 - n1, accuracy: 1e-6)
        XCTAssertEqual(logits[2], 3 - n1, accuracy: 1e-6)
        XCTAssertEqual(logits[3], 4 - n1, accuracy: 1e-6)
    }

    func testBadInputChangesNothingAndBadStatesAreRefused() throws {
        var t = try cache()
        let before = t
        XCTAssertThrowsError(try t.update(feature: [1], probabilities: [0.25, 0.25, 0.25, 0.25], entropy: 1))
        XCTAssertThrowsError(try t.update(feature: [1, 0], probabilities: [0.5, 0.5], entropy: 1))
        XCTAssertThrowsError(try t.update(feature: [.nan, 0], probabilities: [0.25, 0.25, 0.25, 0.25], entropy: 1))
        XCTAssertEqual(t, before)

        try t.update(feature: [1, 0], probabilities: [0.7, 0.1, 0.1, 0.1], entropy: 0.5)
        try t.update(feature: [0, 1], probabilities: [0.7, 0.1, 0.1, 0.1], entropy: 0.2)
        let data = try JSONEncoder().encode(t)
        XCTAssertEqual(try JSONDecoder().decode(TDACache.self, from: data), t)
        var json = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        var pos = try XCTUnwrap(json["positive"] as? [[Any]])
        pos[0].reverse()                                                   // unsorted
        json["positive"] = pos
        XCTAssertThrowsError(try JSONDecoder().decode(TDACache.self, from: JSONSerialization.data(withJSONObject: json)))
        XCTAssertThrowsError(try TDACache.Configuration(classCount: 1, dimension: 2))
        XCTAssertThrowsError(try TDACache.Configuration(classCount: 3, dimension: 2, positiveAlpha: -1))
    }
}
