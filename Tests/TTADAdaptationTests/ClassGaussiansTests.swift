import Foundation
import XCTest
@testable import TTADAdaptation

/// The running class statistics of the `dota` preset: weighted means and pooled variances equal
/// the batch formulas, the scores are the Gaussian log-likelihood's class-dependent part, and
/// the state survives a checkpoint and refuses a corrupt one.
final class ClassGaussiansTests: XCTestCase {
    private func add(_ g: inout ClassGaussians, _ x: [Float], _ k: Int, _ w: Float) throws {
        try x.withUnsafeBufferPointer { try g.add($0, toClass: k, weight: w) }
    }

    func testWeightedMeansAndPooledVariancesMatchTheBatchFormulas() throws {
        var g = ClassGaussians(configuration: try .init(classCount: 2, dimension: 2, shrinkage: 0))
        let samples: [([Float], Int, Float)] = [([1, 0], 0, 1), ([0, 1], 0, 3), ([2, 2], 1, 0.5), ([4, 0], 1, 0.5)]
        for (x, k, w) in samples { try add(&g, x, k, w) }
        // Class 0: weights 1 and 3 → mean (0.25, 0.75); class 1: equal weights → (3, 1).
        XCTAssertEqual(g.means, [0.25, 0.75, 3, 1])
        XCTAssertEqual(g.counts, [4, 1])
        // Σ w (x − μ)² per dimension over both classes: dim 0: 1·0.75² + 3·0.25² + 0.5·1 + 0.5·1.
        XCTAssertEqual(g.deviations[0], 0.5625 + 0.1875 + 1, accuracy: 1e-6)
        XCTAssertEqual(g.deviations[1], 0.5625 + 0.1875 + 1, accuracy: 1e-6)
        XCTAssertEqual(g.totalCount, 5)
    }

    func testScoresAreTheGaussianLogLikelihoodUpToAClassFreeTerm() throws {
        var g = ClassGaussians(configuration: try .init(classCount: 3, dimension: 2, shrinkage: 0.25))
        for (x, k) in [([Float](arrayLiteral: 1, 0.1), 0), ([0.8, -0.1], 0), ([0.1, 1], 1), ([-0.1, 0.6], 1)] { try add(&g, x, k, 1) }
        XCTAssertTrue(g.isEstimated(0) && g.isEstimated(1) && !g.isEstimated(2))
        XCTAssertEqual(g.estimatedClassCount, 2)
        var p = [Float](repeating: 0, count: 2), w = [Float](repeating: 0, count: 6), b = [Float](repeating: 0, count: 3)
        p.withUnsafeMutableBufferPointer { g.precisions(into: $0) }
        p.withUnsafeBufferPointer { pp in w.withUnsafeMutableBufferPointer { ww in b.withUnsafeMutableBufferPointer { g.scoringWeights(precisions: pp, weights: ww, biases: $0) } } }
        // Shrunk variances and precisions by hand.
        let v = g.deviations.map { $0 / 4 }, vbar = (v[0] + v[1]) / 2
        for j in 0..<2 { XCTAssertEqual(p[j], vbar / (0.75 * v[j] + 0.25 * vbar), accuracy: 1e-5) }
        // g_k(x) = −½ Σ p (x − μ)² + ½ Σ p x²: the difference between two classes is the log-likelihood ratio.
        let x: [Float] = [0.3, 0.7]
        func score(_ k: Int) -> Float { w[k * 2] * x[0] + w[k * 2 + 1] * x[1] + b[k] }
        func loglik(_ k: Int) -> Float { -0.5 * (0..<2).reduce(0) { $0 + p[$1] * (x[$1] - g.means[k * 2 + $1]) * (x[$1] - g.means[k * 2 + $1]) } }
        XCTAssertEqual(score(0) - score(1), loglik(0) - loglik(1), accuracy: 1e-5)
        XCTAssertGreaterThan(score(1), score(0), "x is nearer class 1's mean")
    }

    func testBadInputIsRefusedAndLeavesTheStateUnchanged() throws {
        var g = ClassGaussians(configuration: try .init(classCount: 2, dimension: 2))
        XCTAssertThrowsError(try add(&g, [1, 0], 2, 1))
        XCTAssertThrowsError(try add(&g, [1], 0, 1))
        XCTAssertThrowsError(try add(&g, [1, .nan], 0, 1))
        XCTAssertThrowsError(try add(&g, [1, 0], 0, 0))
        XCTAssertEqual(g, ClassGaussians(configuration: try .init(classCount: 2, dimension: 2)))
        TestSupport.assertConfigurationError("ClassGaussians.shrinkage") { () throws(AdaptationConfigurationError) in
            try ClassGaussians.Configuration(classCount: 2, dimension: 2, shrinkage: 2)
        }
        TestSupport.assertConfigurationError("ClassGaussians.classCount") { () throws(AdaptationConfigurationError) in
            try ClassGaussians.Configuration(classCount: 1, dimension: 2)
        }
    }

    func testCheckpointRoundTripAndCorruptStateIsRefused() throws {
        var g = ClassGaussians(configuration: try .init(classCount: 2, dimension: 3))
        try add(&g, [0.5, 0.5, 0], 1, 0.7)
        XCTAssertEqual(try TestSupport.roundTrip(g), g)
        var o = try TestSupport.jsonObject(g)
        o["counts"] = [1, -1]
        XCTAssertThrowsError(try TestSupport.decode(ClassGaussians.self, fromObject: o))
        o = try TestSupport.jsonObject(g)
        o["means"] = [0, 0]
        XCTAssertThrowsError(try TestSupport.decode(ClassGaussians.self, fromObject: o))
    }
}
