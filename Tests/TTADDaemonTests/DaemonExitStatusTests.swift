import Foundation
import Glibc
import TTADState
import XCTest
@testable import TTADDaemon

/// The exit statuses docs/operations.md promises: 78 (EX_CONFIG) with the error alone for a bad
/// configuration, 0 for a clean stop, 74 (EX_IOERR) when SIGTERM's final checkpoint cannot be
/// written — with the daemon saying so on /metrics while it runs.
final class DaemonExitStatusTests: XCTestCase {
    /// `startedFirst`: the error is found once the daemon opens the files, among its start-up and
    /// shutdown log lines; the error is then one line of its own.
    private func assertConfigExit(_ args: [String], names key: String, startedFirst: Bool = false,
                                  file: StaticString = #filePath, line: UInt = #line) throws {
        let (status, output) = try runCommand(try ttadExecutable().path, args)
        XCTAssertEqual(status, 78, output, file: file, line: line)
        XCTAssertFalse(output.contains("Usage:"), output, file: file, line: line)
        let lines = output.trimmingCharacters(in: .whitespacesAndNewlines).components(separatedBy: "\n")
        XCTAssertTrue(lines.contains { $0.hasPrefix("config: \(key): ") }, output, file: file, line: line)
        if !startedFirst {
            XCTAssertEqual(lines.count, 1, "more than the error: \(output)", file: file, line: line)
        }
    }

    func testConfigErrorsExit78WithTheErrorAlone() throws {
        let env = try TestDaemonEnvironment()
        let bad = env.directory.appendingPathComponent("bad.toml").path
        try "[ingest]\nqueue_capacity = -1\n".write(toFile: bad, atomically: true, encoding: .utf8)
        try assertConfigExit(["check-config", "--config", bad], names: "ingest.queue_capacity")
        try assertConfigExit(["run", "--config", bad], names: "ingest.queue_capacity")

        // A connection cap the process's descriptor limit cannot afford.
        let greedy = try env.writeProcessConfig(ingest: try freeTCPPort(), publish: try freeTCPPort(), metrics: try freeTCPPort(),
                                extra: "max_connections = 65")
        let (status, output) = try runCommand("/usr/bin/prlimit", ["--nofile=256:256", try ttadExecutable().path, "run", "--config", greedy])
        XCTAssertEqual(status, 78, output)
        XCTAssertTrue(output.contains("config: metrics.max_connections: 65 would let HTTP clients hold more than a quarter"), output)

        // Valid TOML naming files that are not there: found only when the daemon opens them.
        let noKeys = try env.writeProcessConfig(ingest: try freeTCPPort(), publish: try freeTCPPort(), metrics: try freeTCPPort(),
                                extra: "[curve]\nenabled = true\nserver_secret_key_file = \"nope\"\nallowed_clients_directory = \"nope\"")
        try assertConfigExit(["check-config", "--config", noKeys], names: "curve.server_secret_key_file")
        try assertConfigExit(["run", "--config", noKeys], names: "curve.server_secret_key_file", startedFirst: true)
        let missing = try env.writeProcessConfig(ingest: try freeTCPPort(), publish: try freeTCPPort(), metrics: try freeTCPPort())
        try FileManager.default.removeItem(atPath: env.embeddingsPath)
        try assertConfigExit(["check-config", "--config", missing], names: "classifier.class_embeddings")
        try assertConfigExit(["run", "--config", missing], names: "classifier.class_embeddings", startedFirst: true)
    }

    /// The disk "fills" under a running daemon: a file-size limit of 0 makes every SQLite write
    /// fail (EFBIG, with SIGXFSZ ignored by the daemon). Predictions go on, the failing gauge
    /// says state is not being saved, SIGTERM exits 74, and the last good checkpoint survives.
    func testCheckpointsFailingAreShownAndSIGTERMExits74() throws {
        let exe = try ttadExecutable()
        let env = try TestDaemonEnvironment()
        let (pIn, pOut, pMetrics) = (try freeTCPPort(), try freeTCPPort(), try freeTCPPort())
        let path = try env.writeProcessConfig(ingest: pIn, publish: pOut, metrics: pMetrics,
                              extra: "[state]\ncheckpoint_every_samples = 1")
        let notify = try NotifySocket()
        let proc = try RunningProcess(exe, ["run", "--config", path], environment: ["NOTIFY_SOCKET": notify.path])
        XCTAssertTrue(notify.receive(until: { $0.contains("READY=1") }).last?.contains("READY=1") ?? false, proc.stderr)
        let pid = proc.process.processIdentifier
        let metricsURL = "http://127.0.0.1:\(pMetrics)/metrics"

        let client = try TestClient(ingest: "tcp://127.0.0.1:\(pIn)", publish: "tcp://127.0.0.1:\(pOut)")
        try client.waitUntilConnected()
        try client.sendEmbedding(stream: "d", seq: 0, values: TestDaemonEnvironment.embedding(forClass: 2))
        XCTAssertEqual(try client.receive(count: 1) { $0.prediction != nil }.count, 1)
        let before = Array(try httpGet(metricsURL).1.utf8)
        XCTAssertEqual(metricValue(before, "ttad_checkpoint_failing"), 0)
        XCTAssertGreaterThan(metricValue(before, "ttad_checkpoints_total") ?? 0, 0)
        XCTAssertEqual(try httpGet("http://127.0.0.1:\(pMetrics)/healthz").1, "ok\n")
        let processedBefore = try XCTUnwrap(metricValue(before, "ttad_samples_processed_total"))

        let (rc, out) = try runCommand("/usr/bin/prlimit", ["--pid", "\(pid)", "--fsize=0:0"])
        XCTAssertEqual(rc, 0, out)
        for seq in 1...3 {
            try client.sendEmbedding(stream: "d", seq: UInt64(seq), values: TestDaemonEnvironment.embedding(forClass: 2))
        }
        XCTAssertEqual(try client.receive(count: 3) { $0.prediction != nil }.count, 3, "predictions stopped with the disk")
        // The checkpoint after a batch follows its predictions: wait for the failure to land.
        var during = Array(try httpGet(metricsURL).1.utf8)
        let deadline = Date().addingTimeInterval(10)
        while metricValue(during, "ttad_checkpoint_failing") != 1 && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.05)
            during = Array(try httpGet(metricsURL).1.utf8)
        }
        XCTAssertEqual(metricValue(during, "ttad_checkpoint_failing"), 1, proc.stderr)
        XCTAssertGreaterThan(metricValue(during, "ttad_checkpoint_failures_total") ?? 0, 0)
        XCTAssertTrue(proc.process.isRunning, proc.stderr)
        let (healthStatus, healthBody) = try httpGet("http://127.0.0.1:\(pMetrics)/healthz")
        XCTAssertEqual(healthStatus, 200, "still predicting, so still healthy")
        XCTAssertTrue(healthBody.contains("state not saved"), healthBody)

        kill(pid, SIGTERM)
        XCTAssertTrue(proc.wait(timeout: 15), "did not exit after SIGTERM; stderr: \(proc.stderr)")
        XCTAssertEqual(proc.process.terminationReason, .exit, proc.stderr)
        XCTAssertEqual(proc.process.terminationStatus, 74, proc.stderr)
        XCTAssertTrue(proc.stderr.contains("final checkpoint could not be written"), proc.stderr)

        // Nothing lost beyond the last checkpoint that succeeded: it is intact and is the latest.
        var cfg = try ConfigLoader.load(path: path)
        cfg.metrics.enabled = false
        let (store, outcome) = try StateStore.open(directory: cfg.daemon.stateDirectory,
                                                   fingerprint: try FingerprintMaker.make(config: cfg),
                                                   logger: .init(label: "t"), options: StateStoreOptions())
        defer { try? store.close() }
        guard case .restored(let info?) = outcome else { return XCTFail("\(outcome)") }
        XCTAssertNotEqual(info.reason, "shutdown")
        XCTAssertLessThanOrEqual(Double(info.samplesProcessed), processedBefore)
        XCTAssertGreaterThan(info.samplesProcessed, 0)
    }
}
