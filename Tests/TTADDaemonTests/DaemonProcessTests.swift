import Foundation
import Glibc
import TTADProtocol
import TTADState
import XCTest
@testable import TTADDaemon

/// The real `ttad` binary: systemd notifications, the metrics port, SIGTERM with a final
/// checkpoint and exit 0, and `check-config`.
final class DaemonProcessTests: XCTestCase {
    private func writeConfig(_ env: TestDaemonEnvironment, ingest: Int, publish: Int, metrics: Int) throws -> String {
        let text = """
        [daemon]
        state_directory = "state"
        shutdown_timeout_s = 10
        [ingest]
        endpoints = ["tcp://127.0.0.1:\(ingest)"]
        [publish]
        endpoints = ["tcp://127.0.0.1:\(publish)"]
        [classifier]
        class_embeddings = "classes.safetensors"
        logit_scale = 10
        [metrics]
        port = \(metrics)
        """
        let path = env.directory.appendingPathComponent("ttad.toml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func testRunNotifiesServesMetricsAndExitsCleanlyOnSIGTERM() throws {
        let exe = try ttadExecutable()
        let env = try TestDaemonEnvironment()
        let (pIn, pOut, pMetrics) = (try freeTCPPort(), try freeTCPPort(), try freeTCPPort())
        let config = try writeConfig(env, ingest: pIn, publish: pOut, metrics: pMetrics)
        let notify = try NotifySocket()
        let proc = try RunningProcess(exe, ["run", "--config", config],
                                      environment: ["NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "1000000"])

        let beforeReady = notify.receive(until: { $0.contains("READY=1") })
        XCTAssertTrue(beforeReady.last?.contains("READY=1") ?? false, "no READY=1; got \(beforeReady); stderr: \(proc.stderr)")
        XCTAssertTrue(beforeReady.last?.contains("STATUS=processing") ?? false, "\(beforeReady)")

        let (readyStatus, _) = try httpGet("http://127.0.0.1:\(pMetrics)/readyz")
        XCTAssertEqual(readyStatus, 200)
        let (healthStatus, healthBody) = try httpGet("http://127.0.0.1:\(pMetrics)/healthz")
        XCTAssertEqual(healthStatus, 200, healthBody)

        let client = try TestClient(ingest: "tcp://127.0.0.1:\(pIn)", publish: "tcp://127.0.0.1:\(pOut)")
        try client.waitUntilConnected()
        for seq in 0..<5 {
            try client.sendEmbedding(stream: "p", seq: UInt64(seq), values: TestDaemonEnvironment.embedding(forClass: 3))
        }
        try client.send([Array("p".utf8), Array("{".utf8), []])
        XCTAssertEqual(try client.receive(count: 6) { $0.prediction != nil || $0.error != nil }.count, 6)

        let (metricsStatus, body) = try httpGet("http://127.0.0.1:\(pMetrics)/metrics")
        XCTAssertEqual(metricsStatus, 200)
        let m = Array(body.utf8)
        XCTAssertEqual(metricValue(m, "ttad_samples_processed_total"), Double(5 + client.probesSent))
        XCTAssertEqual(metricValue(m, "ttad_samples_rejected_total{reason=\"bad_json\"}"), 1)
        XCTAssertEqual(metricValue(m, "ttad_samples_rejected_total{reason=\"non_finite\"}"), 0, "every reason exists from the start")
        XCTAssertEqual(metricValue(m, "ttad_ready"), 1)
        XCTAssertNotNil(metricValue(m, "ttad_sample_latency_seconds_count"))
        XCTAssertTrue(body.contains("ttad_build_info{"), body)
        XCTAssertTrue(body.contains("# HELP ttad_samples_processed_total"), body)

        // The processing loop pings the watchdog (every WATCHDOG_USEC/2) while idle.
        let pings = notify.receive(until: { $0 == "WATCHDOG=1" })
        XCTAssertEqual(pings.last, "WATCHDOG=1")

        kill(proc.process.processIdentifier, SIGTERM)
        XCTAssertTrue(proc.wait(timeout: 15), "did not exit after SIGTERM; stderr: \(proc.stderr)")
        XCTAssertEqual(proc.process.terminationStatus, 0, proc.stderr)
        XCTAssertEqual(proc.process.terminationReason, .exit)
        let afterStop = notify.receive(until: { $0.contains("STOPPING=1") })
        XCTAssertTrue(afterStop.contains { $0.contains("STOPPING=1") }, "\(afterStop)")

        var opts = StateStoreOptions()
        opts.exclusiveLock = true
        var cfg = try ConfigLoader.load(path: config)
        cfg.metrics.enabled = false
        let (store, outcome) = try StateStore.open(directory: cfg.daemon.stateDirectory,
                                                   fingerprint: try FingerprintMaker.make(config: cfg),
                                                   logger: .init(label: "t"), options: opts)
        defer { try? store.close() }
        guard case .restored(let info?) = outcome else { return XCTFail("\(outcome)") }
        XCTAssertEqual(info.reason, "shutdown")
        XCTAssertEqual(info.samplesProcessed, Int64(5 + client.probesSent))
    }

    func testSecondDaemonOnTheSameStateDirectoryFailsFast() throws {
        let exe = try ttadExecutable()
        let env = try TestDaemonEnvironment()
        let config = try writeConfig(env, ingest: try freeTCPPort(), publish: try freeTCPPort(), metrics: try freeTCPPort())
        let notify = try NotifySocket()
        let first = try RunningProcess(exe, ["run", "--config", config], environment: ["NOTIFY_SOCKET": notify.path])
        XCTAssertTrue(notify.receive(until: { $0.contains("READY=1") }).last?.contains("READY=1") ?? false, first.stderr)
        // The same state directory in image mode: the model loads before the store is opened, so
        // only a lock check ahead of everything keeps the second daemon's metrics port from
        // coming up (and logging that it listens) before it fails.
        let imageConfig = env.directory.appendingPathComponent("image.toml").path
        try """
        [daemon]
        mode = "image"
        state_directory = "state"
        [classifier]
        top_k = 2
        [model]
        folder = "\(DaemonImageModeTests.modelFolder)"
        class_names = ["cat", "dog", "car", "tree"]
        """.write(toFile: imageConfig, atomically: true, encoding: .utf8)
        let second = try RunningProcess(exe, ["run", "--config", imageConfig, "--ingest", "tcp://127.0.0.1:\(try freeTCPPort())",
                                              "--publish", "tcp://127.0.0.1:\(try freeTCPPort())", "--metrics", "127.0.0.1:0"],
                                        environment: [:])
        XCTAssertTrue(second.wait(timeout: 15))
        XCTAssertEqual(second.process.terminationStatus, 1)
        XCTAssertTrue(second.stderr.contains("is held by another process (pid \(first.process.processIdentifier))"), second.stderr)
        XCTAssertFalse(second.stderr.contains("metrics port listening"), second.stderr)
        kill(first.process.processIdentifier, SIGTERM)
        XCTAssertTrue(first.wait(timeout: 15))
        XCTAssertEqual(first.process.terminationStatus, 0, first.stderr)
    }

    func testCheckConfig() throws {
        let exe = try ttadExecutable()
        let env = try TestDaemonEnvironment()
        let good = try writeConfig(env, ingest: 1, publish: 2, metrics: 3)
        let ok = try RunningProcess(exe, ["check-config", "--config", good], environment: [:])
        XCTAssertTrue(ok.wait(timeout: 10))
        XCTAssertEqual(ok.process.terminationStatus, 0, ok.stderr)

        let bad = env.directory.appendingPathComponent("bad.toml").path
        try "[ingest]\nqueue_capacity = -1\n".write(toFile: bad, atomically: true, encoding: .utf8)
        let fail = try RunningProcess(exe, ["check-config", "--config", bad], environment: [:])
        XCTAssertTrue(fail.wait(timeout: 10))
        XCTAssertEqual(fail.process.terminationStatus, 78)
        XCTAssertTrue(fail.stderr.contains("ingest.queue_capacity"), fail.stderr)
    }
}
