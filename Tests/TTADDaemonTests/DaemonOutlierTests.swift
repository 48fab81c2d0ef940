import Foundation
import TTADProtocol
import XCTest
@testable import TTADDaemon

/// The outlier flag: a threshold calibrated on the stream's first samples (nothing flagged before),
/// then far-from-every-class samples flagged and near ones not; the threshold survives a restart.
final class DaemonOutlierTests: XCTestCase {
    /// Near class i with a little noise that varies with k, so the calibration sees a spread.
    private static func near(_ i: Int, _ k: Int) -> [Float] {
        (0..<TestDaemonEnvironment.dimension).map { $0 == i ? 1 : 0.05 * Float((k * 7 + $0 * 3) % 5) }
    }
    /// Orthogonal to every class embedding (classes sit on axes 0…3): max cosine 0, score 1.
    private static let far: [Float] = [0, 0, 0, 0, 1, 1, 1, 1]

    private func predictions(_ client: TestClient, stream: String, count: Int) throws -> [PredictionRecord] {
        try client.receive(count: count) { $0.prediction?.stream == stream }.compactMap(\.prediction)
    }

    func testCalibratedThresholdFlagsFarSamplesAndSurvivesARestart() throws {
        let env = try TestDaemonEnvironment()
        env.config.classifier.outlierCalibrationSamples = 40
        env.config.classifier.outlierQuantile = 0.9
        var (daemon, client) = try env.startWithClient()
        let probes = Int(client.probesSent)
        // Calibration: the probes plus in-distribution samples, one of them far: not flagged yet.
        var seq: UInt64 = 0
        for k in 0..<(40 - probes) {
            try client.sendEmbedding(stream: "cam", seq: seq, values: k == 5 ? Self.far : Self.near(k % 4, k)); seq += 1
        }
        let calibrating = try predictions(client, stream: "cam", count: 40 - probes)
        XCTAssertEqual(calibrating.count, 40 - probes)
        XCTAssertFalse(calibrating.contains { $0.outlier }, "nothing is flagged while calibrating")
        let threshold = try XCTUnwrap(metricValue(daemon.metrics.exposition(), "ttad_outlier_threshold"))
        XCTAssertTrue(threshold.isFinite && threshold > 0 && threshold < 1, "\(threshold)")

        // Calibrated: far samples flagged, near ones not.
        for k in 0..<20 {
            try client.sendEmbedding(stream: "cam", seq: seq, values: k % 2 == 0 ? Self.far : Self.near(k % 4, 0)); seq += 1
        }
        let judged = try predictions(client, stream: "cam", count: 20)
        XCTAssertEqual(judged.map(\.outlier), (0..<20).map { $0 % 2 == 0 })
        XCTAssertEqual(metricValue(daemon.metrics.exposition(), "ttad_outliers_flagged_total"), 10)

        // Restart: the threshold is restored, not calibrated again, so a far sample is flagged at once.
        daemon.stop(reason: "test restart")
        (daemon, client) = try env.startWithClient()
        defer { daemon.stop(reason: "test") }
        XCTAssertEqual(metricValue(daemon.metrics.exposition(), "ttad_outlier_threshold") ?? .nan, threshold, accuracy: 1e-6)
        try client.sendEmbedding(stream: "cam", seq: seq, values: Self.far)
        XCTAssertEqual(try predictions(client, stream: "cam", count: 1).first?.outlier, true)
    }

    func testFixedThresholdAndNoThreshold() throws {
        for fixed in [0.5, nil] as [Double?] {
            let env = try TestDaemonEnvironment()
            env.config.classifier.outlierThreshold = fixed
            let (daemon, client) = try env.startWithClient()
            defer { daemon.stop(reason: "test") }
            try client.sendEmbedding(stream: "cam", seq: 0, values: Self.far)
            try client.sendEmbedding(stream: "cam", seq: 1, values: Self.near(2, 0))
            let got = try predictions(client, stream: "cam", count: 2)
            XCTAssertEqual(got.map(\.outlier), [fixed != nil, false])
            XCTAssertEqual(got.first?.outlierScore ?? 0, 1, accuracy: 1e-6)
        }
    }
}
