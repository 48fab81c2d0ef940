import XCTest
@testable import TTADScenario

/// The camera group: every camera's own stream comes through whole and in order, interleaved by
/// the seed, with the documented lineup of domains.
final class CamerasTests: XCTestCase {
    func testEveryCameraStreamComesThroughInOrder() throws {
        let s = try CameraScenario.standard(pool: ScenarioTests.pool(), samplesPerStep: 20, seed: 3)
        XCTAssertEqual(s.count, 5 * 3 * 20)
        let all = Array(s)
        XCTAssertEqual(all.count, s.count)
        XCTAssertEqual(all.map(\.position), Array(0..<s.count))
        for (c, camera) in s.cameras.enumerated() {
            let mine = all.filter { $0.camera == c }.map(\.sample)
            XCTAssertEqual(mine, Array(camera.scenario), "\(camera.name): its own scenario, in its own order")
        }
        // Interleaved, not one camera after the other.
        XCTAssertGreaterThan(Set(all.prefix(30).map(\.camera)).count, 2)
    }

    func testTheLineupHasCleanCamerasAndOneReturningToACorruption() throws {
        let s = try CameraScenario.standard(pool: ScenarioTests.pool(), samplesPerStep: 4, severity: 3, seed: 0)
        let domains = s.cameras.map { c in c.scenario.steps.map(\.domain) }
        XCTAssertEqual(s.cameras.map(\.name), ["cam-a", "cam-b", "cam-c", "cam-d", "cam-e"])
        XCTAssertEqual(domains[0], ["clean", "clean", "clean"])
        XCTAssertEqual(domains[1], ["clean", "clean", "clean"])
        XCTAssertEqual(domains[2], ["fog", "contrast", "fog"])
        XCTAssertTrue(s.cameras[2].scenario.steps.allSatisfy { $0.severity == 3 })
    }

    func testTheInterleavingFollowsTheSeed() throws {
        let p = ScenarioTests.pool()
        let a = try CameraScenario.standard(pool: p, samplesPerStep: 10, seed: 1)
        XCTAssertEqual(Array(a), Array(try CameraScenario.standard(pool: p, samplesPerStep: 10, seed: 1)))
        XCTAssertNotEqual(Array(a).map(\.camera), Array(try CameraScenario.standard(pool: p, samplesPerStep: 10, seed: 2)).map(\.camera))
    }
}
