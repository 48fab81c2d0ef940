import Foundation
import TTADPresets
import TTADProtocol
import XCTest
@testable import TTADDaemon

/// The `tpt`, `dynaprompt`, `rotta` and `stamp` presets in the running daemon (deterministic,
/// the `quick` fixture checkpoint, a few views so debug builds stay quick): every sample is
/// predicted, TPT keeps nothing between samples, the others adapt (the prompt version grows, the
/// steps are counted) and continue from their checkpoint after a restart.
final class DaemonSamplePresetTests: XCTestCase {
    private func configure(_ env: TestDaemonEnvironment, _ preset: PresetName) {
        DaemonAdaptationTests.adaptingConfig(env)
        env.config.adaptation.preset = preset
        env.config.adaptation.promptTuning.views = 4
        env.config.adaptation.promptTuning.keepFraction = 0.5
        env.config.adaptation.promptTuning.slots = 3
        env.config.adaptation.rotta.updateEverySamples = 4
        env.config.adaptation.rotta.capacity = 8
        env.config.adaptation.stamp.updateEverySamples = 4
        env.config.adaptation.stamp.capacity = 8
        env.config.adaptation.stamp.views = 3
        env.config.adaptation.stamp.alpha = 1     // the random quick model is never confident
    }

    private func send(_ client: TestClient, stream: String, from: Int, count: Int) throws -> [PredictionRecord] {
        for k in from..<(from + count) {
            try client.send(client.encoder.encode(
                header: SampleHeader(id: "s\(k)", stream: stream, seq: UInt64(k), encoding: .rawU8HWC, shape: [16, 16, 3]),
                payload: DaemonAdaptationTests.image(k)))
        }
        return try client.receive(count: count, timeout: 120) { $0.prediction?.stream == stream }.compactMap(\.prediction)
    }

    private func probabilities(_ preset: PresetName, count: Int) throws -> (preds: [PredictionRecord], metrics: [UInt8]) {
        let env = try TestDaemonEnvironment()
        configure(env, preset)
        try ConfigLoader.validate(env.config)
        let (daemon, client) = try env.startWithClient()
        defer { daemon.stop(reason: "test") }
        let preds = try send(client, stream: "cam", from: 0, count: count)
        return (preds.sorted { $0.seq < $1.seq }, daemon.metrics.exposition())
    }

    func testTPTStepsOnEverySampleAndKeepsNothing() throws {
        let (tpt, metrics) = try probabilities(.tpt, count: 6)
        let (frozen, _) = try probabilities(.frozen, count: 6)
        XCTAssertEqual(tpt.count, 6)
        XCTAssertEqual(tpt.map { $0.promptVersion ?? -1 }, Array(repeating: 0, count: 6), "episodic: the kept prompt never changes")
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(metricValue(metrics, "ttad_adaptation_steps_total")), 6)
        let moved = zip(tpt, frozen).filter { $0.0.entropy != $0.1.entropy }.count
        XCTAssertEqual(moved, 6, "each prediction is made after its own step, so none is the frozen one")
    }

    func testBankPresetsAndDynaPromptAdaptAndARestartContinues() throws {
        for preset in [PresetName.stamp, .rotta, .dynaprompt] {
            let env = try TestDaemonEnvironment()
            configure(env, preset)
            var (daemon, client) = try env.startWithClient()
            let preds = try send(client, stream: "cam", from: 0, count: 12).sorted { $0.seq < $1.seq }
            XCTAssertEqual(preds.count, 12, "\(preset)")
            let versions = preds.map { $0.promptVersion ?? -1 }
            XCTAssertEqual(versions, versions.sorted(), "\(preset): versions only grow")
            XCTAssertGreaterThan(versions.last!, 0, "\(preset) adapted: \(versions)")
            XCTAssertGreaterThan(try XCTUnwrap(metricValue(daemon.metrics.exposition(), "ttad_adaptation_steps_total")), 0, "\(preset)")
            let version = try XCTUnwrap(metricValue(daemon.metrics.exposition(), "ttad_prompt_version"))
            daemon.stop(reason: "test restart")
            (daemon, client) = try env.startWithClient()
            XCTAssertGreaterThanOrEqual(metricValue(daemon.metrics.exposition(), "ttad_prompt_version") ?? -1, version,
                                        "\(preset): the adapted state is restored")
            let after = try send(client, stream: "cam2", from: 12, count: 1)
            XCTAssertGreaterThanOrEqual(after.first?.promptVersion ?? -1, Int(version), "\(preset)")
            daemon.stop(reason: "test")
        }
    }

    func testAPresetThatCannotBeBuiltIsAConfigErrorNamingThePreset() throws {
        let env = try TestDaemonEnvironment()
        configure(env, .tpt)
        env.config.model.promptTemplate = "{}"
        XCTAssertThrowsError(try PredictorFactory.make(config: env.config)) { error in
            XCTAssertEqual((error as? ConfigError)?.key, "adaptation.preset", "\(error)")
        }
    }
}
