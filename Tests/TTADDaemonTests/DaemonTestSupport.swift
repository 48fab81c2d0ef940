import Foundation
import Logging
import TTADEngine
import TTADProtocol
import TTADZMQ
import XCTest
@testable import TTADDaemon

/// A daemon on ephemeral loopback ports with a tiny classifier (4 classes on the axes of a
/// 8-d space, so the embedding e_i is class i) and its own state directory.
final class TestDaemonEnvironment {
    static let classNames = ["alpha", "beta", "gamma", "delta"]
    static let dimension = 8

    let directory: URL
    let embeddingsPath: String
    var config: DaemonConfig

    init(file: StaticString = #filePath) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("ttad-test-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        embeddingsPath = directory.appendingPathComponent("classes.safetensors").path
        try Self.writeClasses(to: embeddingsPath, scale: 1)
        var c = DaemonConfig()
        c.daemon.stateDirectory = directory.appendingPathComponent("state").path
        c.daemon.shutdownTimeoutSeconds = 10
        c.ingest.endpoints = ["tcp://127.0.0.1:*"]
        c.publish.endpoints = ["tcp://127.0.0.1:*"]
        c.classifier.classEmbeddings = embeddingsPath
        c.classifier.topK = 3
        c.classifier.logitScale = 10  // unsaturated probabilities, so entropy is informative
        c.metrics.enabled = false
        c.state.checkpointEverySeconds = 3600
        // Tests that count events see only the ones they cause; DaemonHeartbeatTests turn it on.
        c.publish.heartbeatSeconds = 0
        config = c
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    static func writeClasses(to path: String, scale: Float) throws {
        var values = [Float](repeating: 0, count: classNames.count * dimension)
        for i in 0..<classNames.count { values[i * dimension + i] = scale }
        let names = "[" + classNames.map { "\"\($0)\"" }.joined(separator: ",") + "]"
        try SafeTensorsWriter.write(path: path, tensors: [
            .init(name: "class_embeddings", shape: [classNames.count, dimension], values: values, dtype: .f32),
        ], metadata: ["class_names": names])
    }

    static func embedding(forClass i: Int, noise: Float = 0.1) -> [Float] {
        (0..<dimension).map { $0 == i ? 1 : noise * Float(($0 * 7 + i * 3) % 5) / 5 }
    }

    /// A started daemon and a client whose sockets are known to be connected. Stop the daemon
    /// when done (`defer { daemon.stop(reason: "test") }`).
    func startWithClient(inputType: ZMQSocketType = .push) throws -> (Daemon, TestClient) {
        let daemon = makeDaemon()
        try daemon.start()
        do {
            let client = try TestClient(ingest: daemon.endpoints.ingest[0], publish: daemon.endpoints.publish[0],
                                        inputType: inputType)
            if config.daemon.mode == .image { client.probeWithImages = true }
            try client.waitUntilConnected()
            return (daemon, client)
        } catch {
            daemon.stop(reason: "test setup failed")
            throw error
        }
    }

    func makeDaemon(logLevel: Logger.Level = .warning) -> Daemon {
        var logger = Logger(label: "ttad-test")
        logger.logLevel = logLevel
        return Daemon(config: config, logger: logger, notifier: SystemdNotifier(environment: [:]))
    }
}

/// A ZeroMQ client of the daemon: a PUSH (or PUB) for samples and a SUB for everything published.
final class TestClient {
    let context: ZMQContext
    let input: ZMQSocket
    let output: ZMQSocket
    let encoder = SampleEncoder()
    private var probeSeq: UInt64 = 0
    /// Probe with a small grey raw image instead of an embedding (image-mode daemons).
    var probeWithImages = false
    /// Unique per client, so a second client's probes are not a "restart" of the first's stream.
    let probeStream = "probe-\(UUID().uuidString.prefix(6))"

    init(ingest: String, publish: String, inputType: ZMQSocketType = .push,
         curve: (server: String, pub: String, sec: String)? = nil) throws {
        context = try ZMQContext()
        input = try ZMQSocket(context: context, type: inputType)
        output = try ZMQSocket(context: context, type: .sub)
        for s in [input, output] {
            try s.setLinger(milliseconds: 0)
            if let c = curve { try s.setCurveClient(serverPublicKey: c.server, publicKey: c.pub, secretKey: c.sec) }
        }
        try input.setSendTimeout(milliseconds: 5000)
        try output.setReceiveHighWaterMark(0)
        try output.subscribe("")
        try output.connect(publish)
        try input.connect(ingest)
    }

    deinit {
        input.close()
        output.close()
        context.terminate()
    }

    func send(_ frames: [[UInt8]]) throws {
        XCTAssertTrue(try input.send(frames))
    }

    func sendEmbedding(stream: String, seq: UInt64, values: [Float], label: SampleLabel? = nil) throws {
        try send(encoder.encodeEmbedding(id: "\(stream)-\(seq)", stream: stream, seq: seq, values: values, label: label))
    }

    /// Sends probe samples on stream "probe" until one comes back, which proves both directions
    /// are connected (PUB/SUB slow joiner). Drains everything received meanwhile.
    func waitUntilConnected(timeout: Double = 10) throws {
        let deadline = Date().addingTimeInterval(timeout)
        try output.setReceiveTimeout(milliseconds: 100)
        while Date() < deadline {
            if probeWithImages {
                let header = SampleHeader(id: "probe", stream: probeStream, seq: probeSeq, encoding: .rawU8HWC, shape: [4, 4, 1])
                try send(encoder.encode(header: header, payload: [UInt8](repeating: 128, count: 16)))
            } else {
                try sendEmbedding(stream: probeStream, seq: probeSeq, values: TestDaemonEnvironment.embedding(forClass: 0))
            }
            probeSeq += 1
            while let f = try output.receiveMultipart() {
                if String(decoding: f[0], as: UTF8.self) == "pred/\(probeStream)" {
                    drain()
                    return
                }
            }
        }
        XCTFail("daemon did not answer a probe within \(timeout) s")
    }

    var probesSent: UInt64 { probeSeq }

    func drain() {
        try? output.setReceiveTimeout(milliseconds: 200)
        while (try? output.receiveMultipart()) ?? nil != nil {}
    }

    /// Receives decoded outputs until `count` matching ones arrived (probe traffic ignored).
    func receive(count: Int, timeout: Double = 10, where keep: (OutputMessage) -> Bool = { _ in true }) throws -> [OutputMessage] {
        var out: [OutputMessage] = []
        let deadline = Date().addingTimeInterval(timeout)
        try output.setReceiveTimeout(milliseconds: 100)
        while out.count < count && Date() < deadline {
            guard let f = try output.receiveMultipart() else { continue }
            let m = try OutputDecoder().decode(frames: f)
            if case .prediction(let p) = m, p.stream.hasPrefix("probe-") { continue }
            if keep(m) { out.append(m) }
        }
        return out
    }
}

extension OutputMessage {
    var prediction: PredictionRecord? { if case .prediction(let p) = self { return p } else { return nil } }
    var error: ErrorRecord? { if case .error(let e) = self { return e } else { return nil } }
    var event: EventRecord? { if case .event(let e) = self { return e } else { return nil } }
}

/// The value of one Prometheus series in an exposition, e.g. `ttad_samples_rejected_total{reason="non_finite"}`.
func metricValue(_ exposition: [UInt8], _ series: String) -> Double? {
    let text = String(decoding: exposition, as: UTF8.self)
    for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
        return Double(line.dropFirst(series.count + 1))
    }
    return nil
}
