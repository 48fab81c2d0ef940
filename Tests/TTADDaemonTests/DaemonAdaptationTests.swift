import Foundation
import Glibc
import TTADEngine
import TTADPresets
import TTADProtocol
import TTADState
import XCTest
@testable import TTADDaemon

/// The `ttad` preset in the running daemon (image mode, the `quick` fixture checkpoint): steps
/// change the prompt version predictions carry, a guard reset is published, counted and undoes
/// the adaptation, and the adapted state survives a clean restart and a SIGKILL (up to the last
/// checkpoint).
final class DaemonAdaptationTests: XCTestCase {
    static let classNames = ["cat", "dog", "car", "tree"]

    /// A 16×16 RGB image that differs with k (stripes of varying period and phase).
    static func image(_ k: Int) -> [UInt8] {
        var px = [UInt8](repeating: 0, count: 16 * 16 * 3)
        for y in 0..<16 { for x in 0..<16 { for c in 0..<3 {
            px[(y * 16 + x) * 3 + c] = UInt8((x * (k % 5 + 1) + y * (k % 3) + c * 40 + k * 17) % 256)
        } } }
        return px
    }

    /// Deterministic: one sample per batch, so each prediction's version says whether the steps
    /// after the previous samples ran (in live mode a whole burst shares one batch and version).
    static func adaptingConfig(_ env: TestDaemonEnvironment) {
        env.config.daemon.mode = .image
        env.config.daemon.deterministic = true
        env.config.classifier.classEmbeddings = ""
        env.config.classifier.logitScale = nil
        env.config.classifier.topK = 2
        env.config.model.folder = DaemonImageModeTests.modelFolder
        env.config.model.classNames = classNames
        env.config.adaptation.preset = .ttad
        env.config.adaptation.learningRate = 1e-2
        env.config.adaptation.updateEverySamples = 4
        env.config.adaptation.minBankItems = 2
        env.config.adaptation.bank.capacity = 8
        env.config.adaptation.bank.entropyFraction = 1     // the random quick model is never confident
        env.config.adaptation.guardSettings.cooldownSamples = 0
        env.config.adaptation.labelGate.warmupSamples = 0   // a few dozen samples of 4 random classes: no warm-up
    }

    private func send(_ client: TestClient, from: Int, count: Int) throws -> [PredictionRecord] {
        for k in from..<(from + count) {
            try client.send(client.encoder.encode(
                header: SampleHeader(id: "s\(k)", stream: "cam", seq: UInt64(k), encoding: .rawU8HWC, shape: [16, 16, 3]),
                payload: Self.image(k)))
        }
        return try client.receive(count: count, timeout: 60) { $0.prediction?.stream == "cam" }.compactMap(\.prediction)
    }

    func testStepsRaiseThePromptVersionAndARestartContinuesIt() throws {
        let env = try TestDaemonEnvironment()
        Self.adaptingConfig(env)
        try ConfigLoader.validate(env.config)
        var (daemon, client) = try env.startWithClient()
        let preds = try send(client, from: 0, count: 24)
        XCTAssertEqual(preds.count, 24)
        let versions = preds.map { $0.promptVersion ?? -1 }
        XCTAssertEqual(versions, versions.sorted(), "versions only grow without resets")
        XCTAssertGreaterThan(versions.last!, 0, "adaptation steps must have run: \(versions)")
        let m = daemon.metrics.exposition()
        let steps = try XCTUnwrap(metricValue(m, "ttad_adaptation_steps_total"))
        XCTAssertGreaterThan(steps, 0)
        XCTAssertGreaterThan(try XCTUnwrap(metricValue(m, "ttad_adaptation_bank_items")), 0)
        XCTAssertGreaterThan(try XCTUnwrap(metricValue(m, "ttad_adaptation_distance_from_source")), 0)
        let version = try XCTUnwrap(metricValue(m, "ttad_prompt_version"))

        daemon.stop(reason: "test restart")
        (daemon, client) = try env.startWithClient()
        defer { daemon.stop(reason: "test") }
        // Probes may add a step; a fresh start would be back near 0.
        XCTAssertGreaterThanOrEqual(metricValue(daemon.metrics.exposition(), "ttad_prompt_version") ?? -1, version,
                                    "the adapted state is restored")
        let after = try send(client, from: 24, count: 1)
        XCTAssertGreaterThanOrEqual(after.first?.promptVersion ?? -1, Int(version))
    }

    func testTDACacheChangesPredictionsAndSurvivesARestart() throws {
        let env = try TestDaemonEnvironment()
        Self.adaptingConfig(env)
        env.config.adaptation.preset = .tda
        var (daemon, client) = try env.startWithClient()
        let preds = try send(client, from: 0, count: 12)
        let versions = preds.map { $0.promptVersion ?? -1 }
        XCTAssertEqual(versions, versions.sorted())
        XCTAssertGreaterThan(versions.last!, 0, "the cache took samples: \(versions)")
        daemon.stop(reason: "test restart")
        (daemon, client) = try env.startWithClient()
        defer { daemon.stop(reason: "test") }
        XCTAssertGreaterThanOrEqual(try send(client, from: 12, count: 1).first?.promptVersion ?? -1, versions.last!)
    }

    func testAGuardResetIsPublishedCountedAndRestoresTheSource() throws {
        let env = try TestDaemonEnvironment()
        Self.adaptingConfig(env)
        env.config.adaptation.guardSettings.periodicResetSamples = 20
        let (daemon, client) = try env.startWithClient()
        defer { daemon.stop(reason: "test") }
        for k in 0..<30 {
            try client.send(client.encoder.encode(
                header: SampleHeader(id: "s\(k)", stream: "cam", seq: UInt64(k), encoding: .rawU8HWC, shape: [16, 16, 3]),
                payload: Self.image(k)))
        }
        let got = try client.receive(count: 31, timeout: 60) { $0.prediction?.stream == "cam" || $0.event?.kind == EventKind.reset }
        let reset = try XCTUnwrap(got.compactMap(\.event).first, "a periodic reset must be published")
        XCTAssertEqual(reset.detail.first { $0.key == "reason" }?.value, .string("periodic"))
        XCTAssertEqual(metricValue(daemon.metrics.exposition(), "ttad_adaptation_resets_total{reason=\"periodic\"}"), 1)
        XCTAssertEqual(metricValue(daemon.metrics.exposition(), "ttad_adaptation_resets_total{reason=\"non_finite\"}"), 0)
    }

    /// SIGKILL mid-stream: the restarted daemon continues from the last checkpoint — its sample
    /// count and the adapted parameters' version — and loses only what came after it.
    func testSIGKILLLosesOnlyTheWorkSinceTheLastCheckpoint() throws {
        let exe = try ttadExecutable()
        let env = try TestDaemonEnvironment()
        let (pIn, pOut) = (try freeTCPPort(), try freeTCPPort())
        let config = env.directory.appendingPathComponent("ttad.toml").path
        try """
        [daemon]
        mode = "image"
        deterministic = true
        state_directory = "state"
        [ingest]
        endpoints = ["tcp://127.0.0.1:\(pIn)"]
        [publish]
        endpoints = ["tcp://127.0.0.1:\(pOut)"]
        [classifier]
        top_k = 2
        [model]
        folder = "\(DaemonImageModeTests.modelFolder)"
        class_names = ["cat", "dog", "car", "tree"]
        [metrics]
        enabled = false
        [state]
        checkpoint_every_samples = 10
        [adaptation]
        preset = "ttad"
        learning_rate = 0.01
        update_every_samples = 4
        min_bank_items = 2
        [adaptation.bank]
        capacity = 8
        entropy_fraction = 1.0
        [adaptation.guard]
        cooldown_samples = 0
        [adaptation.label_gate]
        warmup_samples = 0
        """.write(toFile: config, atomically: true, encoding: .utf8)

        var proc = try RunningProcess(exe, ["run", "--config", config], environment: [:])
        var client = try TestClient(ingest: "tcp://127.0.0.1:\(pIn)", publish: "tcp://127.0.0.1:\(pOut)")
        client.probeWithImages = true
        try client.waitUntilConnected(timeout: 30)
        for k in 0..<35 {
            try client.send(client.encoder.encode(
                header: SampleHeader(id: "s\(k)", stream: "cam", seq: UInt64(k), encoding: .rawU8HWC, shape: [16, 16, 3]),
                payload: Self.image(k)))
        }
        let out = try client.receive(count: 35 + 3, timeout: 60) { $0.prediction?.stream == "cam" || $0.event?.kind == EventKind.checkpoint }
        let checkpoints = out.compactMap(\.event)
        XCTAssertGreaterThanOrEqual(checkpoints.count, 3, "\(checkpoints)")
        let last = try XCTUnwrap(checkpoints.last)
        guard case .int(let samples)? = last.detail.first(where: { $0.key == "samples_processed" })?.value,
              case .int(let version)? = last.detail.first(where: { $0.key == "prompt_version" })?.value else {
            return XCTFail("checkpoint event without samples_processed / prompt_version: \(last)")
        }
        XCTAssertGreaterThan(version, 0, "adaptation ran before the checkpoint")

        kill(proc.process.processIdentifier, SIGKILL)
        XCTAssertTrue(proc.wait(timeout: 15))
        XCTAssertEqual(proc.process.terminationReason, .uncaughtSignal)

        // What a restart will continue from: the last checkpoint, with the adapted state in it.
        do {
            var opts = StateStoreOptions()
            opts.exclusiveLock = true
            let cfg = try ConfigLoader.load(path: config)
            let (store, outcome) = try StateStore.open(directory: cfg.daemon.stateDirectory,
                                                       fingerprint: try FingerprintMaker.make(config: cfg),
                                                       logger: .init(label: "t"), options: opts)
            defer { try? store.close() }
            guard case .restored(let info?) = outcome else { return XCTFail("\(outcome)") }
            XCTAssertEqual(info.samplesProcessed, samples)
            XCTAssertEqual(info.promptVersion, version)
            let (_, checkpoint) = try XCTUnwrap(try store.latestCheckpointWithInfo())
            let section = try XCTUnwrap(checkpoint.sections[Checkpointer.adaptationSection])
            let state = try XCTUnwrap(try StateArchive.decode(AdaptationCheckpoint.self, from: section).ttad)
            XCTAssertEqual(Int64(state.version), version)
            XCTAssertGreaterThan(state.counters.steps, 0)
            XCTAssertEqual(checkpoint.promptSnapshot?.version, version)
        }

        proc = try RunningProcess(exe, ["run", "--config", config], environment: [:])
        defer { kill(proc.process.processIdentifier, SIGTERM); _ = proc.wait(timeout: 15) }
        client = try TestClient(ingest: "tcp://127.0.0.1:\(pIn)", publish: "tcp://127.0.0.1:\(pOut)")
        client.probeWithImages = true
        try client.waitUntilConnected(timeout: 30)
        try client.send(client.encoder.encode(
            header: SampleHeader(id: "after", stream: "cam3", seq: 0, encoding: .rawU8HWC, shape: [16, 16, 3]),
            payload: Self.image(99)))
        let first = try XCTUnwrap(try client.receive(count: 1, timeout: 30) { $0.prediction?.stream == "cam3" }.first?.prediction)
        // Probes may have added a step or two since; a fresh start would be back near 0.
        XCTAssertGreaterThanOrEqual(Int64(first.promptVersion ?? -1), version,
                                    "the restarted daemon continues from the checkpoint's adapted parameters")
    }
}
