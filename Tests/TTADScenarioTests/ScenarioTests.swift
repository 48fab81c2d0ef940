import XCTest
@testable import TTADScenario

final class ScenarioTests: XCTestCase {
    /// A pool shaped like the Fashion-MNIST test split, scaled down: `perClass` images of each
    /// of the ten classes, in a scrambled dataset order.
    static func pool(perClass: Int = 50) -> ScenarioPool {
        var labels = [UInt8]()
        for i in 0..<(perClass * 10) { labels.append(UInt8((i * 7 + i / 10) % 10)) }
        return ScenarioPool(labels: labels)
    }

    func testPoolSplitsKnownAndOutliers() {
        let p = Self.pool()
        XCTAssertEqual(p.knownIndices.count, 400)
        XCTAssertEqual(p.outlierIndices.count, 100)
        XCTAssertTrue(p.knownLabels.allSatisfy { $0 < 8 })
        XCTAssertEqual(Set(p.outlierLabels), [8, 9])
    }

    func testDeterministicAndSeedDependent() throws {
        let p = Self.pool()
        let a = try Scenario.continual(pool: p, samplesPerStep: 60, seed: 11).labelCorrelated(gamma: 0.1).withOutliers(ratio: 0.2)
        XCTAssertEqual(Array(a), Array(a))
        let b = try Scenario.continual(pool: p, samplesPerStep: 60, seed: 11).labelCorrelated(gamma: 0.1).withOutliers(ratio: 0.2)
        XCTAssertEqual(Array(a), Array(b))
        let c = try Scenario.continual(pool: p, samplesPerStep: 60, seed: 12).labelCorrelated(gamma: 0.1).withOutliers(ratio: 0.2)
        XCTAssertNotEqual(Array(a).map(\.imageIndex), Array(c).map(\.imageIndex))
    }

    func testCleanIsOnePassOverKnownImages() throws {
        let p = Self.pool()
        let s = Array(try Scenario.clean(pool: p, seed: 1))
        XCTAssertEqual(s.count, 400)
        XCTAssertEqual(Set(s.map(\.imageIndex)), Set(p.knownIndices))
        XCTAssertTrue(s.allSatisfy { $0.domain == "clean" && $0.corruption == nil && $0.severity == 0 && !$0.isOutlier })
        XCTAssertEqual(s.map(\.position), Array(0..<400))
    }

    func testSingleCorruption() throws {
        let s = Array(try Scenario.single(.fog, severity: 3, pool: Self.pool(), samplesPerStep: 1000, seed: 1))
        XCTAssertEqual(s.count, 1000)
        XCTAssertTrue(s.allSatisfy { $0.corruption == .fog && $0.severity == 3 && $0.domain == "fog" })
        // Longer than the pool: cycles through fresh passes, every known image used at least twice.
        var seen = [Int: Int]()
        for x in s { seen[x.imageIndex, default: 0] += 1 }
        XCTAssertEqual(seen.count, 400)
        XCTAssertTrue(seen.values.allSatisfy { $0 >= 2 })
    }

    func testContinualDomainOrder() throws {
        let s = Array(try Scenario.continual(pool: Self.pool(), samplesPerStep: 30, seed: 2))
        XCTAssertEqual(s.count, 300)
        for (k, c) in Corruption.allCases.enumerated() {
            XCTAssertTrue(s[(k * 30)..<((k + 1) * 30)].allSatisfy { $0.corruption == c && $0.severity == 5 }, "\(c)")
        }
    }

    func testGradualRampsSeverity() throws {
        let s = Array(try Scenario.gradual([.contrast, .pixelate], pool: Self.pool(), samplesPerStep: 5, seed: 3))
        XCTAssertEqual(s.count, 2 * 9 * 5)
        let perStep = stride(from: 0, to: s.count, by: 5).map { s[$0] }
        XCTAssertEqual(perStep.map(\.severity), [1, 2, 3, 4, 5, 4, 3, 2, 1, 1, 2, 3, 4, 5, 4, 3, 2, 1])
        XCTAssertEqual(perStep.map(\.domain), [String](repeating: "contrast", count: 9) + [String](repeating: "pixelate", count: 9))
    }

    /// Fraction of consecutive pairs with the same label: 1/8 for an i.i.d. stream over 8 classes.
    static func sameLabelRate(_ s: [ScenarioSample]) -> Double {
        Double(zip(s, s.dropFirst()).filter { $0.label == $1.label }.count) / Double(s.count - 1)
    }

    func testDirichletOrderIsLessIID() throws {
        let p = Self.pool(perClass: 100)
        let iid = Array(try Scenario.clean(pool: p, seed: 4))
        let correlated = Array(try Scenario.clean(pool: p, seed: 4).labelCorrelated(gamma: 0.1))
        let mild = Array(try Scenario.clean(pool: p, seed: 4).labelCorrelated(gamma: 10))
        XCTAssertLessThan(Self.sameLabelRate(iid), 0.2)
        XCTAssertGreaterThan(Self.sameLabelRate(correlated), 0.8)
        // Larger gamma is closer to i.i.d. than small gamma, still more correlated than shuffled.
        XCTAssertLessThan(Self.sameLabelRate(mild), Self.sameLabelRate(correlated))
        XCTAssertGreaterThan(Self.sameLabelRate(mild), Self.sameLabelRate(iid))
        // A Dirichlet pass is still a permutation of the known pool: nothing lost or repeated.
        XCTAssertEqual(correlated.map(\.imageIndex).sorted(), p.knownIndices.sorted())
    }

    func testOutlierRatio() throws {
        let p = Self.pool()
        let s = Array(try Scenario.continual(pool: p, samplesPerStep: 2000, seed: 5).withOutliers(ratio: 0.2))
        let outliers = s.filter(\.isOutlier)
        XCTAssertEqual(Double(outliers.count) / Double(s.count), 0.2, accuracy: 0.01)
        XCTAssertTrue(outliers.allSatisfy { $0.label == 8 || $0.label == 9 })
        XCTAssertTrue(s.filter { !$0.isOutlier }.allSatisfy { $0.label < 8 })
        // Outliers keep their position's domain and corruption: they are corrupted like the rest.
        XCTAssertTrue(s[0..<2000].allSatisfy { $0.corruption == .gaussianNoise })
        XCTAssertFalse(try Scenario.clean(pool: p, seed: 5).contains { $0.isOutlier })
    }

    func testLongCyclesToAMillion() throws {
        let p = Self.pool()
        let s = try Scenario.continual(pool: p, samplesPerStep: 400, seed: 6).long()
        XCTAssertEqual(s.count, 1_000_000)
        var n = 0, last: ScenarioSample? = nil
        var firstCycle = [Int](), secondCycle = [Int]()
        for x in s {
            if n < 4000 { firstCycle.append(x.imageIndex) } else if n < 8000 { secondCycle.append(x.imageIndex) }
            n += 1
            last = x
        }
        XCTAssertEqual(n, 1_000_000)
        XCTAssertEqual(last?.position, 999_999)
        XCTAssertEqual(last?.corruption, .fog)
        XCTAssertNotEqual(firstCycle, secondCycle)  // each cycle reorders
        XCTAssertEqual(try Scenario.clean(pool: p, seed: 1).long(minimumSamples: 1001).count, 1200)
    }

    func testInvalidScenariosRejected() throws {
        let p = Self.pool()
        XCTAssertThrowsError(try ScenarioStep(.fog, severity: 0))
        XCTAssertThrowsError(try ScenarioStep(.fog, severity: 6))
        XCTAssertThrowsError(try ScenarioStep(nil, severity: 3))
        XCTAssertThrowsError(try Scenario.single(.contrast, severity: 0, pool: p, seed: 1))
        XCTAssertThrowsError(try Scenario.clean(pool: p, seed: 1).labelCorrelated(gamma: 0))
        XCTAssertThrowsError(try Scenario.clean(pool: p, seed: 1).withOutliers(ratio: 1))
        XCTAssertThrowsError(try Scenario.clean(pool: ScenarioPool(labels: [0, 1]), seed: 1).withOutliers(ratio: 0.1))
        XCTAssertThrowsError(try Scenario.clean(pool: ScenarioPool(labels: [8, 9]), seed: 1))
        XCTAssertThrowsError(try Scenario.clean(pool: p, samplesPerStep: 0, seed: 1))
    }

    func testRenderAppliesTheSampleCorruption() throws {
        let grey = (0..<(2 * 28 * 28)).map { UInt8(($0 * 13) % 256) }
        let set = FashionMNISTSet(rows: 28, columns: 28, pixels: grey, labels: [0, 1])
        let pool = ScenarioPool(labels: set.labels)
        let clean = try Scenario.clean(pool: pool, seed: 1).first { _ in true }!
        XCTAssertEqual(try clean.render(from: set), set.rgb(clean.imageIndex))
        let noisy = Array(try Scenario.single(.gaussianNoise, severity: 4, pool: pool, seed: 1))
        let r = try noisy[1].render(from: set)
        XCTAssertEqual(r, try Corruption.gaussianNoise.apply(to: set.rgb(noisy[1].imageIndex), severity: 4, seed: noisy[1].corruptionSeed))
        XCTAssertNotEqual(noisy[0].corruptionSeed, noisy[1].corruptionSeed)
        XCTAssertEqual(try noisy[0].render(from: set, workingSize: 56).width, 56)
    }
}
