import Foundation
import TTADModel
import XCTest
@testable import TTADPresets

/// The states of `scope = "stream"`: named by stream or group, at most `maxLiveStates` live,
/// the least recently used set aside and continued, at most `maxSavedStates` kept.
final class PresetStatesTests: XCTestCase {
    /// Counts what it learned; its checkpoint is the count.
    final class Counting: AdaptationPreset {
        var learned = 0
        var started = false
        var finished = false
        var version: Int { learned }
        var reportsAdaptation: Bool { false }
        func takeReport() -> AdaptationReport? { nil }
        func start() { started = true }
        func finish(timeout: Double) -> Bool { finished = true; return true }
        func checkpoint() -> AdaptationCheckpoint? {
            AdaptationCheckpoint(preset: PresetCheckpoint(preset: "counting", key: "", version: learned, state: Data()))
        }
        func restore(_ c: AdaptationCheckpoint) -> String? {
            guard let p = c.preset, p.preset == "counting" else { return "not a counting state" }
            learned = p.version
            return nil
        }
    }

    private func states(maxLive: Int = 2, maxSaved: Int = 8, groups: [String] = []) -> (PresetStates, () -> Int) {
        var s = StateScopeSection()
        s.scope = .stream
        s.maxLiveStates = maxLive
        s.maxSavedStates = maxSaved
        s.groups = groups
        var made = 0
        let states = PresetStates(section: s, first: Counting()) { made += 1; return Counting() }
        return (states, { made })
    }

    private func learn(_ states: PresetStates, _ stream: String, _ n: Int) throws {
        (try states.preset(forStream: stream).preset as! Counting).learned += n
    }

    func testStateNamesFollowTheScopeAndTheLongestGroup() {
        var s = StateScopeSection()
        XCTAssertEqual(s.stateName(forStream: "cam-1"), "global")
        s.scope = .stream
        s.groups = ["cam-", "cam-north-"]
        XCTAssertEqual(s.stateName(forStream: "cam-1"), "cam-")
        XCTAssertEqual(s.stateName(forStream: "cam-north-7"), "cam-north-")
        XCTAssertEqual(s.stateName(forStream: "yard"), "yard")
    }

    func testTheLeastRecentlyUsedIsSetAsideAndContinues() throws {
        let (states, made) = states(maxLive: 2)
        states.start()
        try learn(states, "a", 3)
        try learn(states, "b", 5)
        XCTAssertEqual(made(), 1, "the first state took the preset built at start")
        try learn(states, "a", 1)   // a is now the most recent: b goes when c comes
        try learn(states, "c", 7)
        XCTAssertEqual(states.liveStates.map(\.name), ["a", "c"])
        XCTAssertEqual(states.savedCount, 1)
        XCTAssertEqual(states.evictions, 1)
        let b = try states.preset(forStream: "b").preset as! Counting
        XCTAssertEqual(b.learned, 5, "b continued from where it was set aside")
        XCTAssertTrue(b.started, "a state activated after start is started")
        XCTAssertEqual(states.liveStates.map(\.name), ["c", "b"])
    }

    func testSavedStatesBeyondTheBoundAreForgotten() throws {
        let (states, _) = states(maxLive: 1, maxSaved: 2)
        for s in ["a", "b", "c", "d"] { try learn(states, s, 1) }
        XCTAssertEqual(states.savedCount, 2)
        XCTAssertEqual(states.forgotten, 1)
        XCTAssertEqual((try states.preset(forStream: "a").preset as! Counting).learned, 0, "a was forgotten: it starts over")
        XCTAssertEqual((try states.preset(forStream: "c").preset as! Counting).learned, 1)
    }

    func testACheckpointRestoresEveryStateAndTheMostRecentAreLive() throws {
        let (states, _) = states(maxLive: 2)
        for (s, n) in [("a", 1), ("b", 2), ("c", 3)] { try learn(states, s, n) }
        let saved = try JSONDecoder().decode(StatesCheckpoint.self, from: JSONEncoder().encode(states.checkpoint()))
        XCTAssertEqual(Set(saved.states.keys), ["a", "b", "c"])
        XCTAssertEqual(saved.version, 3)
        let (again, _) = self.states(maxLive: 2)
        XCTAssertTrue(try again.restore(saved).isEmpty)
        XCTAssertEqual(again.liveStates.map(\.name), ["b", "c"])
        XCTAssertEqual((try again.preset(forStream: "a").preset as! Counting).learned, 1)
    }

    func testAStateThatDoesNotFitIsReportedAndStartsFromTheSource() throws {
        let foreign = StatesCheckpoint(states: ["a": AdaptationCheckpoint(preset: PresetCheckpoint(preset: "other", key: "", version: 9, state: Data()))],
                                       recency: ["a"])
        let (states, _) = states()
        let refused = try states.restore(foreign)
        XCTAssertEqual(refused.map(\.name), ["a"])
        XCTAssertEqual(refused.first?.reason, "not a counting state")
        XCTAssertEqual((try states.preset(forStream: "a").preset as! Counting).learned, 0)
        var newer = foreign
        newer.format = 2
        XCTAssertTrue(try self.states().0.restore(newer).first?.reason.contains("newer") == true)
    }

    func testGlobalScopeKeepsOnePresetWhateverTheStream() throws {
        let first = Counting()
        let states = PresetStates(section: StateScopeSection(), first: first) { XCTFail("global scope builds no other preset"); return Counting() }
        XCTAssertTrue(try states.preset(forStream: "a").preset === first)
        XCTAssertTrue(try states.preset(forStream: "b").preset === first)
    }
}
