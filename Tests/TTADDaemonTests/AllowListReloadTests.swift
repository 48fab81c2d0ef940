import Foundation
import Glibc
import TTADZMQ
import XCTest
@testable import TTADDaemon

/// SIGHUP reloads the CURVE allow-list: a key added to the directory is admitted from its next
/// connection, a removed one refused, a broken directory keeps the list in effect; the real
/// process survives SIGHUP (whose default action would end it) with or without CURVE.
final class AllowListReloadTests: XCTestCase {
    /// A CURVE daemon environment whose allow-list directory starts with `cam1` only.
    private struct CurveSetup {
        let env: TestDaemonEnvironment
        let server: ZMQCertificate
        let clients: URL
        let cam1: ZMQCertificate
        let cam2: ZMQCertificate

        init() throws {
            env = try TestDaemonEnvironment()
            let dir = env.directory.appendingPathComponent("curve")
            clients = dir.appendingPathComponent("clients")
            try FileManager.default.createDirectory(at: clients, withIntermediateDirectories: true)
            server = try ZMQCertificate.generate()
            try server.save(publicPath: dir.appendingPathComponent("server").path,
                            secretPath: dir.appendingPathComponent("server_secret").path)
            cam1 = try ZMQCertificate.generate()
            cam2 = try ZMQCertificate.generate()
            try allow(cam1, as: "cam1")
            env.config.curve.enabled = true
            env.config.curve.serverSecretKeyFile = dir.appendingPathComponent("server_secret").path
            env.config.curve.allowedClientsDirectory = clients.path
        }

        func allow(_ cert: ZMQCertificate, as name: String) throws {
            try ZMQCertificate(publicKey: cert.publicKey, secretKey: nil)
                .save(publicPath: clients.appendingPathComponent(name).path, secretPath: nil)
        }

        /// Whether a fresh connection with `cert` gets a sample in and its prediction back within
        /// `within` seconds (long enough for a loaded machine when success is expected; a refusal
        /// is only ever shown by waiting).
        func connects(_ cert: ZMQCertificate, daemon: Daemon, stream: String, within: Double) throws -> Bool {
            let client = try TestClient(ingest: daemon.endpoints.ingest[0], publish: daemon.endpoints.publish[0],
                                        curve: (server.publicKey, cert.publicKey, cert.secretKey!))
            try client.input.setSendTimeout(milliseconds: 200)
            // Repeated: the SUB side may join after the first prediction went out.
            let deadline = Date().addingTimeInterval(within)
            var seq: UInt64 = 0
            while Date() < deadline {
                _ = try? client.input.send(SampleEncoderFrames.embedding(stream: stream, seq: seq))
                seq += 1
                if !(try client.receive(count: 1, timeout: 0.2) { $0.prediction?.stream == stream }).isEmpty { return true }
            }
            return false
        }
        func admitted(_ cert: ZMQCertificate, daemon: Daemon, stream: String) throws -> Bool {
            try connects(cert, daemon: daemon, stream: stream, within: 15)
        }
        func refused(_ cert: ZMQCertificate, daemon: Daemon, stream: String) throws -> Bool {
            try !connects(cert, daemon: daemon, stream: stream, within: 1.5)
        }
    }

    func testReloadAdmitsAddedKeysRefusesRemovedOnesAndKeepsTheListOnAnError() throws {
        try XCTSkipUnless(ZMQContext.has("curve"), "libzmq without CURVE")
        let s = try CurveSetup()
        let daemon = s.env.makeDaemon(logLevel: .critical)
        try daemon.start()
        defer { daemon.stop(reason: "test") }
        let m = { daemon.metrics.exposition() }
        XCTAssertEqual(metricValue(m(), "ttad_curve_allowed_clients"), 1)
        XCTAssertTrue(try s.admitted(s.cam1, daemon: daemon, stream: "a1"))
        XCTAssertTrue(try s.refused(s.cam2, daemon: daemon, stream: "b1"), "cam2 is not listed yet")

        try s.allow(s.cam2, as: "cam2")
        XCTAssertEqual(daemon.reloadAllowList(), .replaced(clients: 2))
        XCTAssertTrue(try s.admitted(s.cam2, daemon: daemon, stream: "b2"), "cam2 is listed now")

        try FileManager.default.removeItem(at: s.clients.appendingPathComponent("cam1"))
        XCTAssertEqual(daemon.reloadAllowList(), .replaced(clients: 1))
        XCTAssertTrue(try s.refused(s.cam1, daemon: daemon, stream: "a2"), "cam1 was removed")

        // A file that is neither a certificate nor a key list: the reload fails, cam2 stays in.
        try "not a key\n".write(to: s.clients.appendingPathComponent("typo"), atomically: true, encoding: .utf8)
        guard case .failed(let why) = daemon.reloadAllowList() else { return XCTFail("a bad file must fail the reload") }
        XCTAssertTrue(why.contains("typo"), why)
        XCTAssertTrue(try s.admitted(s.cam2, daemon: daemon, stream: "b3"), "the previous list stays in effect")
        XCTAssertEqual(metricValue(m(), "ttad_curve_allowed_clients"), 1)
        XCTAssertEqual(metricValue(m(), "ttad_curve_allow_list_reloads_total{result=\"ok\"}"), 2)
        XCTAssertEqual(metricValue(m(), "ttad_curve_allow_list_reloads_total{result=\"failed\"}"), 1)
    }

    func testReloadWithoutCurveDoesNothing() throws {
        let env = try TestDaemonEnvironment()
        let (daemon, _) = try env.startWithClient()
        defer { daemon.stop(reason: "test") }
        XCTAssertEqual(daemon.reloadAllowList(), .curveDisabled)
    }

    /// The real `ttad run`: SIGHUP reloads (logged, counted) and the process keeps serving.
    func testSIGHUPReloadsTheAllowListOfTheRunningProcess() throws {
        try XCTSkipUnless(ZMQContext.has("curve"), "libzmq without CURVE")
        let exe = try ttadExecutable()
        let s = try CurveSetup()
        let (pIn, pOut, pMetrics) = (try freeTCPPort(), try freeTCPPort(), try freeTCPPort())
        let path = try s.env.writeProcessConfig(ingest: pIn, publish: pOut, metrics: pMetrics, extra: """
            [curve]
            enabled = true
            server_secret_key_file = "curve/server_secret"
            allowed_clients_directory = "curve/clients"
            """)
        let notify = try NotifySocket()
        let proc = try RunningProcess(exe, ["run", "--config", path], environment: ["NOTIFY_SOCKET": notify.path])
        XCTAssertTrue(notify.receive(until: { $0.contains("READY=1") }).last?.contains("READY=1") ?? false, proc.stderr)
        let metricsURL = "http://127.0.0.1:\(pMetrics)/metrics"

        try s.allow(s.cam2, as: "cam2")
        kill(proc.process.processIdentifier, SIGHUP)
        var reloads: Double?
        let deadline = Date().addingTimeInterval(10)
        repeat {
            Thread.sleep(forTimeInterval: 0.05)
            reloads = metricValue(Array(try httpGet(metricsURL).1.utf8), "ttad_curve_allow_list_reloads_total{result=\"ok\"}")
        } while reloads != 1 && Date() < deadline
        XCTAssertEqual(reloads, 1, proc.stderr)
        XCTAssertTrue(proc.process.isRunning, "SIGHUP ended the process: \(proc.stderr)")
        XCTAssertTrue(proc.stderr.contains("CURVE allow-list reloaded"), proc.stderr)

        let client = try TestClient(ingest: "tcp://127.0.0.1:\(pIn)", publish: "tcp://127.0.0.1:\(pOut)",
                                    curve: (s.server.publicKey, s.cam2.publicKey, s.cam2.secretKey!))
        try client.waitUntilConnected()
        kill(proc.process.processIdentifier, SIGTERM)
        XCTAssertTrue(proc.wait(timeout: 15), proc.stderr)
        XCTAssertEqual(proc.process.terminationStatus, 0, proc.stderr)
    }
}
