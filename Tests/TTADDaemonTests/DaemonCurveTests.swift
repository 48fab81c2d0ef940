import Foundation
import TTADProtocol
import TTADZMQ
import XCTest
@testable import TTADDaemon

/// CURVE with an allow-list: a client whose key is listed gets through, an unknown key does not.
final class DaemonCurveTests: XCTestCase {
    func testAllowedClientGetsThroughAndUnknownKeyDoesNot() throws {
        try XCTSkipUnless(ZMQContext.has("curve"), "libzmq without CURVE")
        let env = try TestDaemonEnvironment()
        let curveDir = env.directory.appendingPathComponent("curve")
        let clientsDir = curveDir.appendingPathComponent("clients")
        try FileManager.default.createDirectory(at: clientsDir, withIntermediateDirectories: true)
        let server = try ZMQCertificate.generate()
        try server.save(publicPath: curveDir.appendingPathComponent("server").path,
                        secretPath: curveDir.appendingPathComponent("server_secret").path)
        let allowed = try ZMQCertificate.generate()
        try ZMQCertificate(publicKey: allowed.publicKey, secretKey: nil)
            .save(publicPath: clientsDir.appendingPathComponent("cam1").path, secretPath: nil)
        let stranger = try ZMQCertificate.generate()

        env.config.curve.enabled = true
        env.config.curve.serverSecretKeyFile = curveDir.appendingPathComponent("server_secret").path
        env.config.curve.allowedClientsDirectory = clientsDir.path
        let daemon = env.makeDaemon()
        try daemon.start()
        defer { daemon.stop(reason: "test") }

        let good = try TestClient(ingest: daemon.endpoints.ingest[0], publish: daemon.endpoints.publish[0],
                                  curve: (server.publicKey, allowed.publicKey, allowed.secretKey!))
        try good.waitUntilConnected()
        try good.sendEmbedding(stream: "cam1", seq: 0, values: TestDaemonEnvironment.embedding(forClass: 2))
        XCTAssertEqual(try good.receive(count: 1).first?.prediction?.top.first?.className, "gamma")

        let bad = try TestClient(ingest: daemon.endpoints.ingest[0], publish: daemon.endpoints.publish[0],
                                 curve: (server.publicKey, stranger.publicKey, stranger.secretKey!))
        try bad.input.setSendTimeout(milliseconds: 300)
        // PUSH cannot deliver without a completed handshake: the send times out or is dropped.
        _ = try? bad.input.send(SampleEncoderFrames.embedding(stream: "intruder", seq: 0))
        let seenByBad = try bad.receive(count: 1, timeout: 1.5)
        XCTAssertTrue(seenByBad.isEmpty, "an unknown key must not receive outputs")
        let seenByGood = try good.receive(count: 1, timeout: 1.0) { $0.prediction?.stream == "intruder" }
        XCTAssertTrue(seenByGood.isEmpty, "an unknown key must not get samples in")
        let m = daemon.metrics.exposition()
        XCTAssertGreaterThanOrEqual(metricValue(m, "ttad_curve_auth_total{result=\"denied\"}") ?? 0, 1)
        XCTAssertGreaterThanOrEqual(metricValue(m, "ttad_curve_auth_total{result=\"allowed\"}") ?? 0, 2)
        XCTAssertGreaterThanOrEqual(metricValue(m, "ttad_curve_handshake_failures_total{socket=\"ingest\",reason=\"authentication\"}") ?? 0, 1)
    }

    func testPlainClientIsRefusedByACurveDaemon() throws {
        try XCTSkipUnless(ZMQContext.has("curve"), "libzmq without CURVE")
        let env = try TestDaemonEnvironment()
        let dir = env.directory.appendingPathComponent("curve")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("clients"), withIntermediateDirectories: true)
        let server = try ZMQCertificate.generate()
        try server.save(publicPath: dir.appendingPathComponent("server").path, secretPath: dir.appendingPathComponent("server_secret").path)
        env.config.curve.enabled = true
        env.config.curve.serverSecretKeyFile = dir.appendingPathComponent("server_secret").path
        env.config.curve.allowedClientsDirectory = dir.appendingPathComponent("clients").path
        let daemon = env.makeDaemon()
        try daemon.start()
        defer { daemon.stop(reason: "test") }
        let plain = try TestClient(ingest: daemon.endpoints.ingest[0], publish: daemon.endpoints.publish[0])
        try plain.input.setSendTimeout(milliseconds: 300)
        _ = try? plain.input.send(SampleEncoderFrames.embedding(stream: "plain", seq: 0))
        XCTAssertTrue(try plain.receive(count: 1, timeout: 1.0).isEmpty)
        Thread.sleep(forTimeInterval: 0.2)
        XCTAssertEqual(metricValue(daemon.metrics.exposition(), "ttad_samples_received_total"), 0)
        // The greeting fails before ZAP is asked: only the sockets' monitors see such a client.
        // Both ends see the mismatch; when the client hangs up before the daemon has read its
        // greeting, the daemon's side is a dropped connection (no_detail), not a mismatch.
        func failures(_ socket: String) -> Double {
            let m = daemon.metrics.exposition()
            return ["mechanism_mismatch", "no_detail"].reduce(0) {
                $0 + (metricValue(m, "ttad_curve_handshake_failures_total{socket=\"\(socket)\",reason=\"\($1)\"}") ?? 0)
            }
        }
        for socket in ["ingest", "publish"] {
            let deadline = Date().addingTimeInterval(5)
            while failures(socket) < 1 && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
            XCTAssertGreaterThanOrEqual(failures(socket), 1, "the plain client's handshake on \(socket)")
        }
        let m = daemon.metrics.exposition()
        for socket in ["ingest", "publish"] {
            XCTAssertEqual(metricValue(m, "ttad_curve_handshake_failures_total{socket=\"\(socket)\",reason=\"protocol_error\"}"), 0)
        }
        XCTAssertEqual(metricValue(daemon.metrics.exposition(), "ttad_curve_auth_total{result=\"denied\"}"), 0,
                       "a plain client never reaches the ZAP handler")
    }
}

enum SampleEncoderFrames {
    static func embedding(stream: String, seq: UInt64) -> [[UInt8]] {
        SampleEncoder().encodeEmbedding(id: "\(stream)-\(seq)", stream: stream, seq: seq,
                                                   values: TestDaemonEnvironment.embedding(forClass: 0))
    }
}
