import Foundation
import TTADPresets
import TTADProtocol
import XCTest
@testable import TTADDaemon

/// Live mode's adaptation worker in the running daemon (`ttad`, `rotta`, `stamp`): steps happen off the processing thread
/// and their affines reach later predictions; the worker's state is in the shutdown checkpoint;
/// a worker that cannot keep up drops observations (counted) and never holds up a prediction.
final class DaemonLiveAdaptationTests: XCTestCase {
    private static func liveConfig(_ env: TestDaemonEnvironment) {
        DaemonAdaptationTests.adaptingConfig(env)
        env.config.daemon.deterministic = false
        env.config.adaptation.workerCPUBudget = 1
    }

    private func send(_ client: TestClient, from: Int, count: Int, stream: String = "cam") throws {
        for k in from..<(from + count) {
            try client.send(client.encoder.encode(
                header: SampleHeader(id: "s\(k)", stream: stream, seq: UInt64(k), encoding: .rawU8HWC, shape: [16, 16, 3]),
                payload: DaemonAdaptationTests.image(k)))
        }
    }

    /// Polls the daemon's metrics until `name` reaches `atLeast` or `timeout` passes.
    private func waitForMetric(_ daemon: Daemon, _ name: String, atLeast: Double, timeout: Double) -> Double? {
        let deadline = Date(timeIntervalSinceNow: timeout)
        var last: Double?
        repeat {
            last = metricValue(daemon.metrics.exposition(), name)
            if let v = last, v >= atLeast { return v }
            Thread.sleep(forTimeInterval: 0.05)
        } while Date() < deadline
        return last
    }

    func testWorkerStepsReachLaterPredictionsAndSurviveARestart() throws {
        try workerStepsReachLaterPredictionsAndSurviveARestart(.ttad)
    }

    /// RoTTA's bank, student steps and teacher EMA run on the worker too; its teacher predicts.
    /// STAMP's memory and SAM steps likewise.
    func testRottaLearnsOnTheWorkerAndItsTeacherPredicts() throws {
        try workerStepsReachLaterPredictionsAndSurviveARestart(.rotta) { env in
            env.config.adaptation.rotta.updateEverySamples = 4
            env.config.adaptation.rotta.capacity = 8
        }
    }

    func testStampLearnsOnTheWorkerAndPredictsWithItsAffines() throws {
        try workerStepsReachLaterPredictionsAndSurviveARestart(.stamp) { env in
            env.config.adaptation.stamp.updateEverySamples = 4
            env.config.adaptation.stamp.capacity = 8
            env.config.adaptation.stamp.views = 3
            env.config.adaptation.stamp.alpha = 1     // the random quick model is never confident
        }
    }

    private func workerStepsReachLaterPredictionsAndSurviveARestart(_ preset: PresetName,
                                                                    _ configure: (TestDaemonEnvironment) -> Void = { _ in }) throws {
        let env = try TestDaemonEnvironment()
        Self.liveConfig(env)
        env.config.adaptation.preset = preset
        env.config.adaptation.labelGate.warmupSamples = 0   // `ttad` steps within the short stream
        configure(env)
        try ConfigLoader.validate(env.config)
        var (daemon, client) = try env.startWithClient()
        try send(client, from: 0, count: 24)
        let first = try client.receive(count: 24, timeout: 60) { $0.prediction?.stream == "cam" }.compactMap(\.prediction)
        XCTAssertEqual(first.count, 24)
        let steps = try XCTUnwrap(waitForMetric(daemon, "ttad_adaptation_steps_total", atLeast: 1, timeout: 30))
        XCTAssertGreaterThanOrEqual(steps, 1, "the worker must have stepped")
        // The next prediction is made with the affines the worker published.
        try send(client, from: 24, count: 1)
        let next = try client.receive(count: 1, timeout: 60) { $0.prediction?.stream == "cam" }.compactMap(\.prediction)
        let version = try XCTUnwrap(next.first?.promptVersion)
        XCTAssertGreaterThan(version, 0)
        let versions = (first + next).map { $0.promptVersion ?? -1 }
        XCTAssertEqual(versions, versions.sorted(), "versions only grow without resets: \(versions)")

        daemon.stop(reason: "test restart")
        (daemon, client) = try env.startWithClient()
        defer { daemon.stop(reason: "test") }
        try send(client, from: 25, count: 1)
        let after = try client.receive(count: 1, timeout: 60) { $0.prediction?.stream == "cam" }.compactMap(\.prediction)
        XCTAssertGreaterThanOrEqual(after.first?.promptVersion ?? -1, version, "the worker's state was checkpointed and restored")
    }

    /// `scope = "stream"` in live mode: each stream's state has its own worker, both step, their
    /// affines reach their own stream's predictions, and both come back after a restart.
    func testEachStreamsStateLearnsOnItsOwnWorker() throws {
        let env = try TestDaemonEnvironment()
        Self.liveConfig(env)
        env.config.adaptation.preset = .ttad
        env.config.adaptationStates.scope = .stream
        try ConfigLoader.validate(env.config)
        var (daemon, client) = try env.startWithClient()
        for k in stride(from: 0, to: 24, by: 4) {
            try send(client, from: k, count: 4, stream: "cam-a")
            try send(client, from: k, count: 4, stream: "cam-b")
        }
        XCTAssertEqual(try client.receive(count: 48, timeout: 60) { $0.prediction?.stream.hasPrefix("cam-") == true }.count, 48)
        for s in ["cam-a", "cam-b"] {
            XCTAssertGreaterThanOrEqual(waitForMetric(daemon, "ttad_adaptation_state_steps_total{state=\"\(s)\"}", atLeast: 1, timeout: 30) ?? 0, 1,
                                        "\(s)'s worker stepped")
        }
        var versions: [String: Int] = [:]
        for s in ["cam-a", "cam-b"] {
            try send(client, from: 24, count: 1, stream: s)
            let p = try client.receive(count: 1, timeout: 60) { $0.prediction?.stream == s }.compactMap(\.prediction)
            versions[s] = try XCTUnwrap(p.first?.promptVersion)
            XCTAssertGreaterThan(versions[s]!, 0, "\(s) is predicted with its worker's affines")
        }
        XCTAssertGreaterThanOrEqual(metricValue(daemon.metrics.exposition(), "ttad_adaptation_states_live") ?? 0, 2)
        daemon.stop(reason: "test restart")
        (daemon, client) = try env.startWithClient()
        defer { daemon.stop(reason: "test") }
        XCTAssertNil(daemon.adaptationNotRestored)
        for s in ["cam-a", "cam-b"] {
            try send(client, from: 25, count: 1, stream: s)
            let p = try client.receive(count: 1, timeout: 60) { $0.prediction?.stream == s }.compactMap(\.prediction)
            XCTAssertGreaterThanOrEqual(p.first?.promptVersion ?? -1, versions[s]!, "\(s)'s state came back")
        }
    }

    func testAWorkerThatFallsBehindDropsObservationsNotPredictions() throws {
        let env = try TestDaemonEnvironment()
        Self.liveConfig(env)
        // The worker sleeps 999× its busy time: after its first batch it is asleep while the rest arrive.
        env.config.adaptation.workerCPUBudget = 0.001
        env.config.classifier.maxBatch = 1      // one job per sample: more jobs than the 256-job queue holds
        let (daemon, client) = try env.startWithClient()
        defer { daemon.stop(reason: "test") }
        try send(client, from: 0, count: 400)
        let preds = try client.receive(count: 400, timeout: 60) { $0.prediction?.stream == "cam" }.compactMap(\.prediction)
        XCTAssertEqual(preds.count, 400, "every sample is predicted whatever the worker does")
        let dropped = try XCTUnwrap(waitForMetric(daemon, "ttad_adaptation_dropped_samples_total", atLeast: 1, timeout: 30))
        XCTAssertGreaterThan(dropped, 0)
        // The backlog is visible while the worker sleeps: samples waiting, and for how long.
        XCTAssertGreaterThanOrEqual(waitForMetric(daemon, "ttad_adaptation_queued_samples", atLeast: 1, timeout: 30) ?? 0, 1)
        XCTAssertGreaterThanOrEqual(waitForMetric(daemon, "ttad_adaptation_lag_seconds", atLeast: 0.5, timeout: 30) ?? 0, 0.5)
        // Every predicted sample (the connection probes too) is accounted for: observed,
        // skipped, or still waiting.
        var accounted = 0.0, processed = 0.0
        let deadline = Date().addingTimeInterval(20)
        repeat {
            let m = daemon.metrics.exposition()
            accounted = (metricValue(m, "ttad_adaptation_observed_samples_total") ?? 0)
                + (metricValue(m, "ttad_adaptation_dropped_samples_total") ?? 0)
                + (metricValue(m, "ttad_adaptation_queued_samples") ?? 0)
            processed = metricValue(m, "ttad_samples_processed_total") ?? -1
            if accounted == processed { break }
            Thread.sleep(forTimeInterval: 0.1)
        } while Date() < deadline
        XCTAssertGreaterThanOrEqual(processed, 400)
        XCTAssertEqual(accounted, processed, "observed + dropped + queued = predicted")
    }
}
