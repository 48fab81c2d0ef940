import Foundation
import XCTest
@testable import TTADDaemon

/// A client in another language, written from docs/protocol.md alone, talks to the daemon.
final class PythonClientTests: XCTestCase {
    private func run(_ args: [String], timeout: Double = 120) throws -> (Int32, String) {
        try runCommand("/usr/bin/env", args)
    }

    /// pyzmq is installed on demand, as the contract's example client needs it.
    private func ensurePyzmq() throws {
        guard (try? run(["python3", "--version"]))?.0 == 0 else { throw XCTSkip("python3 is not installed") }
        if try run(["python3", "-c", "import zmq"]).0 == 0 { return }
        var (rc, log) = try run(["python3", "-m", "pip", "install", "--quiet", "pyzmq"], timeout: 300)
        if rc != 0 {
            (rc, log) = try run(["python3", "-m", "pip", "install", "--quiet", "--break-system-packages", "pyzmq"], timeout: 300)
        }
        XCTAssertEqual(rc, 0, "pip install pyzmq failed: \(log)")
    }

    func testPythonClientFromTheProtocolDocument() throws {
        try ensurePyzmq()
        let env = try TestDaemonEnvironment()
        let daemon = env.makeDaemon()
        try daemon.start()
        defer { daemon.stop(reason: "test") }
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Python/protocol_client.py").path
        let (rc, output) = try run(["python3", script, daemon.endpoints.ingest[0], daemon.endpoints.publish[0],
                                    "\(TestDaemonEnvironment.dimension)", "\(TestDaemonEnvironment.classNames.count)"])
        XCTAssertEqual(rc, 0, output)
        XCTAssertTrue(output.contains("ok: 11 predictions, 1 error(s)"), output)
    }
}
