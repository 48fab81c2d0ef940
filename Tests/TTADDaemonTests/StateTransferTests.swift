import Foundation
import Logging
import TTADEngine
import TTADPresets
import TTADProtocol
import XCTest
@testable import TTADDaemon

/// `ttad state export` / `import`: a fresh state directory that imports a daemon's export
/// predicts the next samples exactly as that daemon does; a file for another model, preset or
/// scope, or an import over existing state, is refused with the mismatch named.
final class StateTransferTests: XCTestCase {
    private let logger = Logger(label: "ttad-test")

    override class func setUp() {
        PresetRegistry.register(MajorityVotePreset.descriptor)
    }

    private func environment(preset: PresetName, scope: AdaptationScope) throws -> TestDaemonEnvironment {
        let env = try TestDaemonEnvironment()
        env.config.daemon.deterministic = true
        env.config.adaptation.preset = preset
        env.config.adaptationStates.scope = scope
        try ConfigLoader.validate(env.config)
        return env
    }

    private func send(_ client: TestClient, stream: String, from seq: Int, classes: [Int]) throws -> [PredictionRecord] {
        for (k, c) in classes.enumerated() {
            try client.sendEmbedding(stream: stream, seq: UInt64(seq + k), values: TestDaemonEnvironment.embedding(forClass: c, noise: 0.3))
        }
        return try client.receive(count: classes.count, timeout: 30) { $0.prediction?.stream == stream }.compactMap(\.prediction)
            .sorted { $0.seq < $1.seq }
    }

    private func exported(_ env: TestDaemonEnvironment, adapt: (TestClient) throws -> Void) throws -> String {
        let (daemon, client) = try env.startWithClient()
        try adapt(client)
        daemon.stop(reason: "test")
        let file = env.directory.appendingPathComponent("export.safetensors").path
        try StateTransfer.export(directory: env.config.daemon.stateDirectory, to: file, logger: logger)
        return file
    }

    func testAnImportedStatePredictsLikeTheExportingDaemon() throws {
        // Per-stream scope keeps the connection probes (their own stream) out of "cam"'s state,
        // so both daemons hold exactly the state the export was made from.
        let env = try environment(preset: .tda, scope: .stream)
        let history = (0..<24).map { ($0 * 5) % 4 }
        let file = try exported(env) { client in _ = try self.send(client, stream: "cam", from: 0, classes: history) }
        let meta = try SafeTensorsFile(path: file).metadata
        XCTAssertEqual(meta["preset"], "tda")
        XCTAssertEqual(meta["scope"], "stream")
        XCTAssertEqual(meta["format"], "ttad-adapted-state")
        XCTAssertNotNil(meta["model_sha256"])

        let next = [2, 0, 3, 1, 1, 2]
        var (daemon, client) = try env.startWithClient()
        let original = try send(client, stream: "cam", from: history.count, classes: next)
        daemon.stop(reason: "test")
        XCTAssertGreaterThan(original.first?.promptVersion ?? 0, 0, "the exported state had adapted")

        env.config.daemon.stateDirectory = env.directory.appendingPathComponent("imported").path
        let s = try StateTransfer.importState(from: file, config: env.config, logger: logger)
        XCTAssertEqual(s.preset, "tda")
        (daemon, client) = try env.startWithClient()
        defer { daemon.stop(reason: "test") }
        XCTAssertNil(daemon.adaptationNotRestored)
        let imported = try send(client, stream: "cam", from: history.count, classes: next)
        XCTAssertEqual(imported.map { $0.promptVersion ?? -1 }, original.map { $0.promptVersion ?? -1 })
        XCTAssertEqual(imported.map { $0.top.map(\.index) }, original.map { $0.top.map(\.index) })
        XCTAssertEqual(imported.map { $0.top.map(\.p) }, original.map { $0.top.map(\.p) }, "bit for bit")
    }

    func testAFileForAnotherPresetScopeOrModelIsRefusedWithTheReason() throws {
        let env = try environment(preset: .tda, scope: .global)
        let file = try exported(env) { client in _ = try self.send(client, stream: "cam", from: 0, classes: [0, 1, 2, 3, 0, 1]) }
        env.config.daemon.stateDirectory = env.directory.appendingPathComponent("other").path

        func refusal(_ change: (inout DaemonConfig) throws -> Void) throws -> String {
            var c = env.config
            try change(&c)
            do {
                try StateTransfer.importState(from: file, config: c, logger: logger)
                XCTFail("imported")
                return ""
            } catch let e as StateTransfer.Failure { return e.description }
        }
        XCTAssertTrue(try refusal { $0.adaptation.preset = MajorityVotePreset.name }.contains("belongs to preset \"tda\""))
        XCTAssertTrue(try refusal { $0.adaptationStates.scope = .stream }.contains("adaptation.scope = \"global\""))
        XCTAssertTrue(try refusal { c in
            let other = env.directory.appendingPathComponent("other-classes.safetensors").path
            try TestDaemonEnvironment.writeClasses(to: other, scale: 2)
            c.classifier.classEmbeddings = other
        }.contains("another model"))
        XCTAssertTrue(try refusal { $0.classifier.logitScale = 20 }.contains("other classes, prompt template, logit scale"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: env.config.daemon.stateDirectory + "/ttad.sqlite"),
                       "a refused import leaves nothing behind")

        // Into a directory that already holds state: refused, the state untouched.
        var own = env.config
        own.daemon.stateDirectory = env.directory.appendingPathComponent("state").path
        XCTAssertThrowsError(try StateTransfer.importState(from: file, config: own, logger: logger)) { e in
            XCTAssertTrue("\(e)".contains("already holds state"), "\(e)")
        }
    }

    func testANewBoxWithTheSameModelElsewhereContinues() throws {
        let env = try environment(preset: .tda, scope: .global)
        let file = try exported(env) { client in _ = try self.send(client, stream: "cam", from: 0, classes: [0, 1, 2, 3, 0, 1]) }
        let elsewhere = env.directory.appendingPathComponent("box2/classes.safetensors").path
        try FileManager.default.createDirectory(atPath: (elsewhere as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: env.embeddingsPath, toPath: elsewhere)
        env.config.classifier.classEmbeddings = elsewhere
        env.config.daemon.stateDirectory = env.directory.appendingPathComponent("box2/state").path
        try StateTransfer.importState(from: file, config: env.config, logger: logger)
        let daemon = env.makeDaemon()
        try daemon.start()
        defer { daemon.stop(reason: "test") }
        XCTAssertNil(daemon.adaptationNotRestored)
        XCTAssertGreaterThan(daemon.restoredCheckpoint?.promptVersion ?? 0, 0)
    }

    func testNotAnExportIsRefused() throws {
        let env = try environment(preset: .tda, scope: .global)
        XCTAssertThrowsError(try StateTransfer.importState(from: env.embeddingsPath, config: env.config, logger: logger)) { e in
            XCTAssertTrue("\(e)".contains("not a ttad state export"), "\(e)")
        }
        XCTAssertThrowsError(try StateTransfer.export(directory: env.directory.appendingPathComponent("none").path,
                                                      to: env.directory.appendingPathComponent("x").path, logger: logger))
    }
}
