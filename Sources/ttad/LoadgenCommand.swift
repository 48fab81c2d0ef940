import ArgumentParser
import Foundation
import TTADProtocol
import TTADEngine
import TTADZMQ

/// Load generator for the throughput benchmark (tools/bench_embedding.sh): pushes embeddings as
/// fast as the daemon takes them (PUSH back-pressure), counts the predictions that come back,
/// and samples the daemon's resident memory to show whether it grows.
struct LoadgenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loadgen",
        abstract: "Benchmark client: send embeddings, count predictions, report samples/s and daemon memory.")

    @Option(help: "The daemon's ingest endpoint.")
    var ingest: String = "tcp://127.0.0.1:7755"

    @Option(help: "The daemon's publish endpoint.")
    var publish: String = "tcp://127.0.0.1:7756"

    @Option(help: "Embedding dimension.")
    var dim: Int = 512

    @Option(help: "Samples to send.")
    var count: Int = 1_000_000

    @Option(help: "PID of the daemon, to sample its VmRSS/VmHWM from /proc.")
    var pid: Int32?

    @Option(help: "Distinct embeddings cycled through (pre-encoded payloads).")
    var variety: Int = 256

    func run() throws {
        var rng = SplitMix64(seed: 42)
        let payloads: [[UInt8]] = (0..<variety).map { _ in
            SampleEncoder.embeddingPayload((0..<dim).map { _ in rng.gaussian() })
        }
        let encoder = SampleEncoder()
        let connection = try DaemonConnection(ingest: ingest, publish: publish, topics: ["pred/bench", "error"],
                                              sendHighWaterMark: 10_000)
        let push = connection.push
        let sub = connection.sub

        let counter = ReceiveCounter(socket: sub, target: count)
        let receiver = Thread { counter.run() }
        receiver.start()
        var memory: [(Int, Int, Int)] = []   // (sent, VmRSS kB, VmHWM kB)
        let start = DispatchTime.now().uptimeNanoseconds
        var header = SampleHeader(id: "", stream: "bench", seq: 0, encoding: .f32Embedding, shape: [dim])
        let sampleEvery = max(count / 20, 1)
        for i in 0..<count {
            header.seq = UInt64(i)
            header.id = "b\(i)"
            _ = try push.send(encoder.encode(header: header, payload: payloads[i % variety]))
            if let pid, i % sampleEvery == 0, let m = Self.memory(pid: pid) { memory.append((i, m.0, m.1)) }
        }
        counter.waitUntilDone(timeout: 60)
        let seconds = Double(counter.lastArrivalNs - start) / 1e9
        print(String(format: "sent %d, predictions %d, errors %d in %.2f s: %.0f samples/s",
                     count, counter.predictions, counter.errors, seconds, Double(counter.predictions) / seconds))
        if let pid, let m = Self.memory(pid: pid) {
            memory.append((count, m.0, m.1))
            let early = memory.first { $0.0 >= count / 10 } ?? memory[0]
            print("daemon memory: VmRSS at 10% \(early.1 / 1024) MiB, at end \(m.0 / 1024) MiB (growth \((m.0 - early.1)) kB), peak VmHWM \(m.1 / 1024) MiB")
            for (sent, rss, _) in memory { print("  after \(sent) samples: VmRSS \(rss) kB") }
        }
    }

    static func memory(pid: Int32) -> (Int, Int)? {
        guard let s = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        func field(_ name: String) -> Int? {
            s.split(separator: "\n").first { $0.hasPrefix(name + ":") }
                .flatMap { Int($0.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") }
        }
        guard let rss = field("VmRSS"), let hwm = field("VmHWM") else { return nil }
        return (rss, hwm)
    }
}

/// Counts outputs on its own thread (the SUB socket is used only there after start).
final class ReceiveCounter: @unchecked Sendable {
    private let socket: ZMQSocket
    private let target: Int
    private let done = DispatchSemaphore(value: 0)
    private(set) var predictions = 0
    private(set) var errors = 0
    private(set) var lastArrivalNs: UInt64 = DispatchTime.now().uptimeNanoseconds

    init(socket: ZMQSocket, target: Int) {
        self.socket = socket
        self.target = target
    }

    func run() {
        try? socket.setReceiveTimeout(milliseconds: 2000)
        while predictions + errors < target {
            guard let f = try? socket.receiveMultipart() else { break }
            if f.first?.starts(with: Array("pred/".utf8)) == true { predictions += 1 } else { errors += 1 }
            lastArrivalNs = DispatchTime.now().uptimeNanoseconds
        }
        done.signal()
    }

    func waitUntilDone(timeout: Double) { _ = done.wait(timeout: .now() + timeout) }
}
