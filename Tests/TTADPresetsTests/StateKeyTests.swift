import XCTest
@testable import TTADPresets

/// State checkpointed before the presets moved out of TTADDaemon carries keys that name the old
/// module and the old preset enum; an upgraded daemon must still continue from it, and a real
/// settings change must still start over.
final class StateKeyTests: XCTestCase {
    /// The `ttad` preset's key for the default settings as the daemon before TTADPresets wrote it
    /// (Swift's description of `TTADDaemon.AdaptationSection`: the outer type unqualified, the
    /// nested ones and the preset enum's case qualified), for model folder "/m" and classes
    /// ["a", "b"].
    static let legacy = """
    AdaptationSection(preset: TTADDaemon.AdaptationPreset.ttad, learningRate: 0.01, anchorWeight: 0.3, \
    updateEverySamples: 16, minBankItems: 16, workerCPUBudget: 0.5, bank: TTADDaemon.AdaptationBankSection(capacity: 64, \
    maxBytes: 16777216, entropyFraction: 0.4, requireFrozenAgreement: true), guardSettings: \
    TTADDaemon.AdaptationGuardSection(entropyFloor: nil, window: 256, collapsedClassCount: 2, topShareMargin: 0.1, \
    disagreementBound: 0.5, cooldownSamples: 500, periodicResetSamples: 0), labelGate: \
    TTADDaemon.AdaptationLabelGateSection(window: 2048, threshold: 0.15, reopenBelow: 0.1), promptTuning: \
    TTADDaemon.PromptTuningSection(views: 64, keepFraction: 0.1, learningRate: 0.005, slots: 10), rotta: \
    TTADDaemon.RottaSection(learningRate: 0.001, teacherRate: 0.001, updateEverySamples: 64, capacity: 64, \
    timelinessWeight: 1.0, uncertaintyWeight: 1.0), stamp: TTADDaemon.StampSection(learningRate: 0.1, alpha: 0.25, \
    rho: 0.05, views: 16, updateEverySamples: 64, capacity: 64, cosinePeriod: 150), seed: 0) model=/m classes=["a", "b"]
    """

    private func current(_ change: (inout AdaptationSection) -> Void = { _ in }) -> String {
        var s = AdaptationSection()
        s.preset = .ttad
        change(&s)
        return "\(s) model=/m classes=\(["a", "b"])"
    }

    func testAKeyFromBeforeTheMoveMatchesTheSameSettings() {
        XCTAssertTrue(StateKey.matches(Self.legacy, current()), "current key: \(current())")
    }

    /// The folder is not compared: the state store's fingerprint hashes the model files, and a
    /// state imported on a box that keeps the model elsewhere must continue.
    func testTheModelFolderIsNotPartOfTheComparison() {
        XCTAssertTrue(StateKey.matches(Self.legacy, current().replacingOccurrences(of: "model=/m", with: "model=/srv/models/clip b")))
    }

    func testChangedSettingsOrClassesDoNotMatch() {
        XCTAssertFalse(StateKey.matches(Self.legacy, current { $0.learningRate = 0.02 }))
        XCTAssertFalse(StateKey.matches(Self.legacy, current { $0.calibrationRate = 0 }), "keys added since count when not at their defaults")
        XCTAssertFalse(StateKey.matches(Self.legacy, current { $0.labelGate.warmupSamples = 64 }))
        XCTAssertFalse(StateKey.matches(Self.legacy, current { $0.preset = .tda }))
        XCTAssertFalse(StateKey.matches(Self.legacy, current().replacingOccurrences(of: #""b"]"#, with: #""c"]"#)))
    }
}
