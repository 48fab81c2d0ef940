import Foundation
import Glibc
import XCTest
@testable import TTADDaemon

/// A real Prometheus tool against what ships: `promtool check rules` on the alert rules,
/// `promtool test rules` on recorded series that make them fire (collapse resets, stalled
/// adaptation, state not saved, drops), and `promtool check metrics` on the exposition scraped
/// from a running daemon. Skipped when promtool is not installed (Debian package `prometheus`,
/// which tools/setup.sh installs).
final class PrometheusRulesTests: XCTestCase {
    private let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// promtool's lint findings that are known and accepted. Its unit heuristic reads a `_bits`
    /// suffix as data size and wants bytes; this gauge is a Jensen–Shannon divergence, whose unit
    /// is the information bit (docs/operations.md).
    private let acceptedLint = [
        #"ttad_drift_class_divergence_bits use base unit "bytes" instead of "bits""#,
    ]

    private func promtool() throws -> String {
        let dirs = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        for d in dirs where FileManager.default.isExecutableFile(atPath: "\(d)/promtool") { return "\(d)/promtool" }
        throw XCTSkip("promtool not installed (Debian package `prometheus`; tools/setup.sh installs it)")
    }

    /// Runs promtool with `stdin` as its standard input: (exit status, stdout and stderr).
    private func run(_ args: [String], stdin: Data? = nil) throws -> (Int32, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try promtool())
        p.arguments = args
        p.currentDirectoryURL = root
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        let input = Pipe()
        if stdin != nil { p.standardInput = input }
        try p.run()
        if let stdin {
            input.fileHandleForWriting.write(stdin)
            try input.fileHandleForWriting.close()
        }
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return (p.terminationStatus, text)
    }

    func testAlertRulesAreValid() throws {
        let (rc, out) = try run(["check", "rules", "deploy/prometheus/alerts.yml"])
        XCTAssertEqual(rc, 0, out)
        XCTAssertTrue(out.contains("SUCCESS"), out)
    }

    func testAlertRulesFireOnRecordedSeries() throws {
        let (rc, out) = try run(["test", "rules", "deploy/prometheus/alerts_test.yml"])
        XCTAssertEqual(rc, 0, out)
        // The rules test covers the alerts this test is named for.
        let tests = try String(contentsOf: root.appendingPathComponent("deploy/prometheus/alerts_test.yml"), encoding: .utf8)
        for alert in ["TtadAdaptationResetting", "TtadAdaptationStalled", "TtadStateNotSaved", "TtadDroppingSamples"] {
            XCTAssertTrue(tests.contains("alertname: \(alert)"), "alerts_test.yml does not test \(alert)")
        }
    }

    func testScrapedExpositionPassesPromtoolCheckMetrics() throws {
        _ = try promtool()
        let exe = try ttadExecutable()
        let env = try TestDaemonEnvironment()
        let (pIn, pOut, pMetrics) = (try freeTCPPort(), try freeTCPPort(), try freeTCPPort())
        let config = try env.writeProcessConfig(ingest: pIn, publish: pOut, metrics: pMetrics)
        let notify = try NotifySocket()
        let proc = try RunningProcess(exe, ["run", "--config", config], environment: ["NOTIFY_SOCKET": notify.path])
        XCTAssertTrue(notify.receive(until: { $0.contains("READY=1") }).last?.contains("READY=1") ?? false, proc.stderr)

        // Predictions, a rejection and the latency histogram populated, not just zeros.
        let client = try TestClient(ingest: "tcp://127.0.0.1:\(pIn)", publish: "tcp://127.0.0.1:\(pOut)")
        try client.waitUntilConnected()
        for seq in 0..<3 {
            try client.sendEmbedding(stream: "p", seq: UInt64(seq), values: TestDaemonEnvironment.embedding(forClass: 2))
        }
        try client.send([Array("p".utf8), Array("{".utf8), []])
        XCTAssertEqual(try client.receive(count: 4) { $0.prediction != nil || $0.error != nil }.count, 4, proc.stderr)

        let (status, body) = try httpGet("http://127.0.0.1:\(pMetrics)/metrics")
        XCTAssertEqual(status, 200)
        kill(proc.process.processIdentifier, SIGTERM)
        XCTAssertTrue(proc.wait(timeout: 15), proc.stderr)

        let (rc, out) = try run(["check", "metrics"], stdin: Data(body.utf8))
        // 0: clean; 3: lint findings only (1 would be an exposition promtool cannot parse).
        XCTAssertTrue(rc == 0 || rc == 3, "promtool check metrics exited \(rc): \(out)")
        let findings = out.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let unexpected = findings.filter { !acceptedLint.contains($0) }
        XCTAssertTrue(unexpected.isEmpty, "promtool check metrics: \(unexpected)")
        XCTAssertTrue(body.contains("ttad_samples_processed_total"), "not the daemon's exposition")
    }
}
