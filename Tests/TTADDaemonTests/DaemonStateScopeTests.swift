import Foundation
import TTADEngine
import TTADPresets
import TTADProtocol
import TTADState
import XCTest
@testable import TTADDaemon

/// `adaptation.scope = "stream"` through the running daemon, with the test-only majority-vote
/// preset (it predicts the majority class of what its state learned, so whose samples a state
/// learned from shows in every prediction): each stream adapts on its own, states survive a
/// restart and an eviction, groups share a state, and a checkpoint of the other scope is not
/// taken over.
final class DaemonStateScopeTests: XCTestCase {
    override class func setUp() {
        PresetRegistry.register(MajorityVotePreset.descriptor)
    }

    private func environment(scope: AdaptationScope, maxLive: Int = 4, groups: [String] = []) throws -> TestDaemonEnvironment {
        let env = try TestDaemonEnvironment()
        env.config.daemon.deterministic = true
        env.config.adaptation.preset = MajorityVotePreset.name
        env.config.adaptationStates.scope = scope
        env.config.adaptationStates.maxLiveStates = maxLive
        env.config.adaptationStates.groups = groups
        try ConfigLoader.validate(env.config)
        return env
    }

    /// Sends `classes` on `stream` from `seq` on and returns the predictions, in order.
    private func send(_ client: TestClient, stream: String, from seq: Int, classes: [Int]) throws -> [PredictionRecord] {
        for (k, c) in classes.enumerated() {
            try client.sendEmbedding(stream: stream, seq: UInt64(seq + k), values: TestDaemonEnvironment.embedding(forClass: c))
        }
        return try client.receive(count: classes.count, timeout: 30) { $0.prediction?.stream == stream }.compactMap(\.prediction)
            .sorted { $0.seq < $1.seq }
    }

    private func predicted(_ p: [PredictionRecord]) -> [Int] { p.map { $0.top.first?.index ?? -1 } }

    func testEachStreamAdaptsOnItsOwnAndGlobalScopeMixesThem() throws {
        for scope in AdaptationScope.allCases {
            let env = try environment(scope: scope)
            let (daemon, client) = try env.startWithClient()
            defer { daemon.stop(reason: "test") }
            // Stream "fog" sees class 2 only, then "clear" sees classes 1 and 3.
            _ = try send(client, stream: "fog", from: 0, classes: Array(repeating: 2, count: 12))
            let clear = try send(client, stream: "clear", from: 0, classes: [1, 3, 1, 3])
            switch scope {
            case .global:
                // One state, which learned the connection probes (class 0) first and then fog's
                // samples (as it predicted them): clear continues it and gets its majority.
                XCTAssertEqual(predicted(clear), [0, 0, 0, 0])
                XCTAssertGreaterThanOrEqual(clear.first?.promptVersion ?? -1, 12 + Int(client.probesSent))
            case .stream:
                XCTAssertEqual(clear.first?.promptVersion, 0, "clear's state starts from the source")
                XCTAssertEqual(predicted(clear).first, 1, "clear's first sample: zero-shot")
                XCTAssertFalse(predicted(clear).contains(2), "fog's samples never reach clear's state: \(predicted(clear))")
                XCTAssertEqual(clear.map { $0.promptVersion ?? -1 }, [0, 1, 2, 3], "clear's version counts clear's samples only")
            }
        }
    }

    func testEveryStreamsStateSurvivesARestart() throws {
        let env = try environment(scope: .stream)
        var (daemon, client) = try env.startWithClient()
        let a = try send(client, stream: "a", from: 0, classes: Array(repeating: 1, count: 6))
        let b = try send(client, stream: "b", from: 0, classes: Array(repeating: 3, count: 4))
        XCTAssertEqual(a.last?.promptVersion, 5)
        XCTAssertEqual(b.last?.promptVersion, 3)
        daemon.stop(reason: "test restart")
        (daemon, client) = try env.startWithClient()
        defer { daemon.stop(reason: "test") }
        XCTAssertNil(daemon.adaptationNotRestored)
        // A class-0 sample on each: each state answers with its own majority, at its own version.
        let a2 = try send(client, stream: "a", from: 6, classes: [0])
        let b2 = try send(client, stream: "b", from: 4, classes: [0])
        XCTAssertEqual(predicted(a2), [1])
        XCTAssertEqual(a2.first?.promptVersion, 6)
        XCTAssertEqual(predicted(b2), [3])
        XCTAssertEqual(b2.first?.promptVersion, 4)
    }

    func testAnEvictedStateContinuesWhenItsStreamReturns() throws {
        // Two live states: the connection probe's stream, and one camera at a time.
        let env = try environment(scope: .stream, maxLive: 2)
        let (daemon, client) = try env.startWithClient()
        defer { daemon.stop(reason: "test") }
        _ = try send(client, stream: "a", from: 0, classes: Array(repeating: 1, count: 5))
        _ = try send(client, stream: "b", from: 0, classes: Array(repeating: 2, count: 5))
        _ = try send(client, stream: "c", from: 0, classes: Array(repeating: 3, count: 5))
        let back = try send(client, stream: "a", from: 5, classes: [0, 0])
        XCTAssertEqual(predicted(back), [1, 1], "a's counts came back from where it was set aside")
        XCTAssertEqual(back.map { $0.promptVersion ?? -1 }, [5, 6])
        let text = daemon.metrics.exposition()
        XCTAssertEqual(metricValue(text, "ttad_adaptation_states_live"), 2)
        XCTAssertGreaterThanOrEqual(metricValue(text, "ttad_adaptation_state_evictions_total") ?? 0, 3)
        XCTAssertGreaterThanOrEqual(metricValue(text, "ttad_adaptation_states_saved") ?? 0, 2)
    }

    func testStreamsOfAGroupShareOneState() throws {
        let env = try environment(scope: .stream, groups: ["dock-"])
        let (daemon, client) = try env.startWithClient()
        defer { daemon.stop(reason: "test") }
        _ = try send(client, stream: "dock-1", from: 0, classes: Array(repeating: 2, count: 5))
        let other = try send(client, stream: "dock-2", from: 0, classes: [1, 1])
        XCTAssertEqual(predicted(other), [2, 2], "dock-2 is predicted by the group's state")
        XCTAssertEqual(other.map { $0.promptVersion ?? -1 }, [5, 6])
        let alone = try send(client, stream: "yard", from: 0, classes: [1])
        XCTAssertEqual(alone.first?.promptVersion, 0)
    }

    func testACheckpointOfTheOtherScopeIsNotTakenOver() throws {
        let env = try environment(scope: .global)
        var (daemon, client) = try env.startWithClient()
        _ = try send(client, stream: "a", from: 0, classes: Array(repeating: 1, count: 4))
        daemon.stop(reason: "test restart")
        env.config.adaptationStates.scope = .stream
        (daemon, client) = try env.startWithClient()
        defer { daemon.stop(reason: "test") }
        XCTAssertTrue(daemon.adaptationNotRestored?.contains("one global state") == true, "\(String(describing: daemon.adaptationNotRestored))")
        XCTAssertEqual(try send(client, stream: "a", from: 4, classes: [0]).first?.promptVersion, 0)
    }

    /// SIGKILL of the real process with several streams' states: the last checkpoint holds every
    /// state, and the restarted process continues each from it.
    func testSIGKILLKeepsEveryStreamsStateUpToTheLastCheckpoint() throws {
        let exe = try ttadExecutable()
        let env = try TestDaemonEnvironment()
        let (pIn, pOut) = (try freeTCPPort(), try freeTCPPort())
        let config = env.directory.appendingPathComponent("ttad.toml").path
        try """
        [daemon]
        mode = "embedding"
        deterministic = true
        state_directory = "state"
        [ingest]
        endpoints = ["tcp://127.0.0.1:\(pIn)"]
        [publish]
        endpoints = ["tcp://127.0.0.1:\(pOut)"]
        [classifier]
        class_embeddings = "\(env.embeddingsPath)"
        logit_scale = 10
        [metrics]
        enabled = false
        [state]
        checkpoint_every_samples = 10
        [adaptation]
        preset = "tda"
        scope = "stream"
        """.write(toFile: config, atomically: true, encoding: .utf8)

        var proc = try RunningProcess(exe, ["run", "--config", config], environment: [:])
        var client = try TestClient(ingest: "tcp://127.0.0.1:\(pIn)", publish: "tcp://127.0.0.1:\(pOut)")
        try client.waitUntilConnected(timeout: 30)
        for k in 0..<30 {
            for s in ["cam-a", "cam-b"] {
                try client.sendEmbedding(stream: s, seq: UInt64(k), values: TestDaemonEnvironment.embedding(forClass: (k + (s == "cam-a" ? 0 : 1)) % 4))
            }
        }
        let out = try client.receive(count: 60 + 6, timeout: 60) { $0.prediction?.stream.hasPrefix("cam-") == true || $0.event?.kind == EventKind.checkpoint }
        XCTAssertGreaterThanOrEqual(out.compactMap(\.event).count, 6)
        kill(proc.process.processIdentifier, SIGKILL)
        XCTAssertTrue(proc.wait(timeout: 15))

        let cfg = try ConfigLoader.load(path: config)
        var versions: [String: Int] = [:]
        do {
            let (store, _) = try StateStore.open(directory: cfg.daemon.stateDirectory, fingerprint: try FingerprintMaker.make(config: cfg),
                                                 logger: .init(label: "t"))
            defer { try? store.close() }
            let (_, checkpoint) = try XCTUnwrap(try store.latestCheckpointWithInfo())
            XCTAssertNil(checkpoint.sections[Checkpointer.adaptationSection], "stream scope writes no global state")
            let section = try XCTUnwrap(checkpoint.sections[Checkpointer.adaptationStatesSection])
            let states = try StateArchive.decode(StatesCheckpoint.self, from: section)
            for s in ["cam-a", "cam-b"] {
                versions[s] = try XCTUnwrap(states.states[s]?.version, "\(s) is in the checkpoint: \(states.states.keys.sorted())")
                XCTAssertGreaterThan(versions[s]!, 0)
            }
        }

        proc = try RunningProcess(exe, ["run", "--config", config], environment: [:])
        defer { kill(proc.process.processIdentifier, SIGTERM); _ = proc.wait(timeout: 15) }
        client = try TestClient(ingest: "tcp://127.0.0.1:\(pIn)", publish: "tcp://127.0.0.1:\(pOut)")
        try client.waitUntilConnected(timeout: 30)
        for s in ["cam-a", "cam-b"] {
            try client.sendEmbedding(stream: s, seq: 100, values: TestDaemonEnvironment.embedding(forClass: 2))
            let p = try XCTUnwrap(try client.receive(count: 1, timeout: 30) { $0.prediction?.stream == s }.first?.prediction)
            XCTAssertGreaterThanOrEqual(p.promptVersion ?? -1, versions[s]!, "\(s) continues from the checkpoint")
        }
    }
}
