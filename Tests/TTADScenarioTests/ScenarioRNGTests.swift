import XCTest
@testable import TTADScenario

final class ScenarioRNGTests: XCTestCase {
    func testMatchesSplitMix64() {
        // Reference values of SplitMix64 seeded with 0 (as TTADEngine's SplitMix64).
        var g = ScenarioRNG(seed: 0)
        XCTAssertEqual(g.next(), 0xE220_A839_7B1D_CDAF)
        XCTAssertEqual(g.next(), 0x6E78_9E6A_A1B9_65F4)
    }

    func testDistributionMoments() {
        var g = ScenarioRNG(seed: 3)
        let n = 20_000
        let normals = (0..<n).map { _ in g.gaussian() }
        let m = normals.reduce(0, +) / Double(n)
        let v = normals.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(n)
        XCTAssertEqual(m, 0, accuracy: 0.03)
        XCTAssertEqual(v, 1, accuracy: 0.04)
        for lambda in [0.5, 7.0, 50.0, 400.0] {  // both Knuth and the normal approximation
            let p = (0..<n).map { _ in Double(g.poisson(lambda)) }
            let pm = p.reduce(0, +) / Double(n)
            let pv = p.map { ($0 - pm) * ($0 - pm) }.reduce(0, +) / Double(n)
            XCTAssertEqual(pm, lambda, accuracy: 0.05 * lambda + 0.03)
            XCTAssertEqual(pv, lambda, accuracy: 0.08 * lambda + 0.05)
        }
        for shape in [0.1, 1.0, 4.0] {
            let x = (0..<n).map { _ in g.gamma(shape) }
            XCTAssertEqual(x.reduce(0, +) / Double(n), shape, accuracy: 0.06 * shape + 0.01)
        }
        let d = g.dirichlet(0.1, count: 8)
        XCTAssertEqual(d.reduce(0, +), 1, accuracy: 1e-9)
        XCTAssertTrue(d.allSatisfy { $0 >= 0 })
    }

    func testDeriveSeparatesStreams() {
        XCTAssertNotEqual(ScenarioRNG.derive(1, 0, 0), ScenarioRNG.derive(1, 0, 1))
        XCTAssertNotEqual(ScenarioRNG.derive(1, 1, 0), ScenarioRNG.derive(1, 0, 1))
        XCTAssertEqual(ScenarioRNG.derive(9, 3, 4), ScenarioRNG.derive(9, 3, 4))
    }
}
