import Foundation
import TTADPresets
import TTADProtocol
import XCTest
@testable import TTADDaemon

/// Presets through the running daemon in embedding mode: a preset registered by the tests alone
/// is configured, predicts, learns and is restored like a built-in one; `tda` adapts on
/// embedding rows; an image-only preset in embedding mode is a configuration error.
final class DaemonPresetRegistryTests: XCTestCase {
    override class func setUp() {
        PresetRegistry.register(MajorityVotePreset.descriptor)
    }

    private func send(_ client: TestClient, from: Int, count: Int, classOf: (Int) -> Int) throws -> [PredictionRecord] {
        for k in from..<(from + count) {
            try client.sendEmbedding(stream: "cam", seq: UInt64(k), values: TestDaemonEnvironment.embedding(forClass: classOf(k)))
        }
        return try client.receive(count: count, timeout: 30) { $0.prediction?.stream == "cam" }.compactMap(\.prediction)
            .sorted { $0.seq < $1.seq }
    }

    func testARegisteredPresetPredictsLearnsAndIsRestored() throws {
        let env = try TestDaemonEnvironment()
        env.config.daemon.deterministic = true
        env.config.adaptation.preset = MajorityVotePreset.name
        try ConfigLoader.validate(env.config)
        var (daemon, client) = try env.startWithClient()
        // The connection probes (class 0) are the first samples it learns from; then samples of
        // classes 1–3, which the zero-shot classifier gets right, are all called class 0.
        let probes = Int(client.probesSent)
        XCTAssertGreaterThan(probes, 0)
        let first = try send(client, from: 0, count: 8) { 1 + $0 % 3 }
        XCTAssertEqual(first.map { $0.promptVersion ?? -1 }, Array(probes..<(probes + 8)), "one learned sample per version")
        XCTAssertEqual(first.map { $0.top.first?.index ?? -1 }, Array(repeating: 0, count: 8), "the majority of what it learned")
        XCTAssertGreaterThan(first[7].top.first?.p ?? 0, 0.99)
        daemon.stop(reason: "test restart")
        (daemon, client) = try env.startWithClient()
        defer { daemon.stop(reason: "test") }
        let after = try send(client, from: 8, count: 1) { _ in 2 }
        XCTAssertGreaterThanOrEqual(after.first?.promptVersion ?? -1, probes + 8, "the counts came back from the checkpoint")
        XCTAssertEqual(after.first?.top.first?.index, 0)
    }

    func testTDAAdaptsOnEmbeddingRowsAndSurvivesARestart() throws {
        let env = try TestDaemonEnvironment()
        env.config.daemon.deterministic = true
        env.config.adaptation.preset = .tda
        try ConfigLoader.validate(env.config)
        var (daemon, client) = try env.startWithClient()
        let preds = try send(client, from: 0, count: 12) { $0 % 3 }
        let versions = preds.map { $0.promptVersion ?? -1 }
        XCTAssertEqual(versions, versions.sorted())
        XCTAssertGreaterThan(versions.last!, 0, "the cache took samples: \(versions)")
        XCTAssertEqual(preds.map { $0.top.first?.index ?? -1 }, (0..<12).map { $0 % 3 }, "clear embeddings stay correctly classified")
        daemon.stop(reason: "test restart")
        (daemon, client) = try env.startWithClient()
        defer { daemon.stop(reason: "test") }
        XCTAssertGreaterThanOrEqual(try send(client, from: 12, count: 1) { _ in 0 }.first?.promptVersion ?? -1, versions.last!)
    }

    func testDOTAAdaptsOnEmbeddingRowsAndSurvivesARestart() throws { try adaptsAndSurvivesARestart(.dota) }

    func testDPEAdaptsOnEmbeddingRowsAndSurvivesARestart() throws { try adaptsAndSurvivesARestart(.dpe) }

    /// The embedding-mode presets that keep statistics: versions grow as they take samples, clear
    /// embeddings stay right, and a restart continues from the checkpointed state.
    private func adaptsAndSurvivesARestart(_ preset: PresetName) throws {
        let env = try TestDaemonEnvironment()
        env.config.daemon.deterministic = true
        env.config.adaptation.preset = preset
        try ConfigLoader.validate(env.config)
        var (daemon, client) = try env.startWithClient()
        let preds = try send(client, from: 0, count: 12) { $0 % 3 }
        let versions = preds.map { $0.promptVersion ?? -1 }
        XCTAssertEqual(versions, versions.sorted())
        XCTAssertGreaterThan(versions.last!, versions.first!, "\(preset) took samples: \(versions)")
        XCTAssertEqual(preds.map { $0.top.first?.index ?? -1 }, (0..<12).map { $0 % 3 }, "clear embeddings stay correctly classified")
        daemon.stop(reason: "test restart")
        (daemon, client) = try env.startWithClient()
        defer { daemon.stop(reason: "test") }
        XCTAssertGreaterThanOrEqual(try send(client, from: 12, count: 1) { _ in 0 }.first?.promptVersion ?? -1, versions.last!,
                                    "the statistics came back from the checkpoint")
        XCTAssertNil(daemon.adaptationNotRestored)
    }

    func testAnImagePresetInEmbeddingModeIsAConfigError() throws {
        let env = try TestDaemonEnvironment()
        env.config.adaptation.preset = .rotta
        XCTAssertThrowsError(try ConfigLoader.validate(env.config)) { e in
            XCTAssertEqual((e as? ConfigError)?.key, "adaptation.preset")
            XCTAssertTrue("\(e)".contains("frozen, tda"), "\(e)")
        }
    }
}
