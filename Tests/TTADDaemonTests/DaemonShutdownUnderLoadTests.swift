import Foundation
import Glibc
import TTADProtocol
import XCTest
@testable import TTADDaemon

/// SIGTERM while the processing loop is inside a batch far longer than the shutdown budget (a
/// flooded daemon running `tpt`, whose per-sample step is the prediction): the real binary must
/// end within the budget, with the documented status (74: the state since the last periodic
/// checkpoint is not saved) and log line, never by a signal — the
/// busy thread's state is neither read for a final checkpoint nor freed under it.
final class DaemonShutdownUnderLoadTests: XCTestCase {
    func testSIGTERMDuringALongBatchExitsWithinTheBudgetWithoutACrash() throws {
        let exe = try ttadExecutable()
        let env = try TestDaemonEnvironment()
        let (pIn, pOut) = (try freeTCPPort(), try freeTCPPort())
        let config = env.directory.appendingPathComponent("ttad.toml").path
        try """
        [daemon]
        mode = "image"
        state_directory = "state"
        shutdown_timeout_s = 0.2
        [ingest]
        endpoints = ["tcp://127.0.0.1:\(pIn)"]
        [publish]
        endpoints = ["tcp://127.0.0.1:\(pOut)"]
        [classifier]
        top_k = 2
        max_batch = 64
        [model]
        folder = "\(DaemonImageModeTests.modelFolder)"
        class_names = ["cat", "dog", "car", "tree"]
        [metrics]
        enabled = false
        [adaptation]
        preset = "tpt"
        [adaptation.tpt]
        views = 256
        """.write(toFile: config, atomically: true, encoding: .utf8)

        let proc = try RunningProcess(exe, ["run", "--config", config], environment: [:])
        let client = try TestClient(ingest: "tcp://127.0.0.1:\(pIn)", publish: "tcp://127.0.0.1:\(pOut)")
        client.probeWithImages = true
        try client.waitUntilConnected(timeout: 60)
        // Probes sent while the first one was being answered are still queued; with 64 more the
        // loop's next batch is full (max_batch = 64), and at 256 views per sample it lasts far
        // beyond budget + grace (0.2 s × 0.7 + 2 s).
        for k in 1...64 {
            try client.send(client.encoder.encode(
                header: SampleHeader(id: "s\(k)", stream: "cam", seq: UInt64(k), encoding: .rawU8HWC, shape: [16, 16, 3]),
                payload: DaemonAdaptationTests.image(k)))
        }
        Thread.sleep(forTimeInterval: 0.5)
        let sent = Date()
        kill(proc.process.processIdentifier, SIGTERM)
        XCTAssertTrue(proc.wait(timeout: 10), "still running 10 s after SIGTERM with a 0.2 s budget")
        let took = Date().timeIntervalSince(sent)
        XCTAssertEqual(proc.process.terminationReason, .exit, "ended by a signal: \(proc.stderr.suffix(2000))")
        XCTAssertEqual(proc.process.terminationStatus, 74, "EX_IOERR: the final checkpoint was skipped")
        XCTAssertLessThan(took, 8, "exit took \(took) s")
        XCTAssertTrue(proc.stderr.contains("final checkpoint skipped"), proc.stderr.suffix(2000).description)
        print("exit \(proc.process.terminationStatus) \(took) s after SIGTERM")
    }
}
