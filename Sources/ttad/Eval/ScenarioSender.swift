import Foundation
import TTADProtocol
import TTADScenario
import TTADZMQ

/// Publishes a scenario over a connected PUSH socket as a camera would: one encoded image per
/// sample (or, with `--as-embeddings`, that image's embedding as an accelerator would compute it), id `<domain>|<position>`,
/// seq = position (a camera group: see `StreamPlan`), the label in the header (for evaluation
/// only). Waits while the daemon applies back-pressure, so nothing is lost.
struct ScenarioSender {
    var options: ScenarioOptions
    /// Samples per second; 0 = as fast as the daemon takes them.
    var rate: Double = 0
    /// Give up when the daemon accepts nothing for this long.
    var sendTimeout: Double = 60
    var endpoint: String
    var showProgress = true
    /// When set, at most `window` samples are in flight: before sending sample k the sender
    /// waits until `answered()` reaches k − window. `ttad eval` uses it so the daemon's ingest
    /// queue never fills and the run does not lean on transport back-pressure.
    var window: (limit: Int, answered: @Sendable () -> Int)? = nil
    /// Samples before this position were sent by an earlier run (`ttad eval --resume`): skipped
    /// without being rendered, so the rest of the stream is exactly what an uninterrupted run sends.
    var startPosition = 0

    struct Outcome {
        var sent: Int
        var total: Int
        var seconds: Double
        var stalls: Int
        var interrupted: Bool
    }

    /// `sock` must be connected, with a short send timeout so Ctrl-C is noticed while blocked.
    func send(set: FashionMNISTSet, scenario: Scenario, over sock: ZMQSocket) throws -> Outcome {
        try send(set: set, plan: .single(scenario, stream: options.stream, severityInId: options.severityInId), over: sock)
    }

    func send(set: FashionMNISTSet, plan: StreamPlan, over sock: ZMQSocket) throws -> Outcome {
        let total = min(plan.count, options.limit ?? Int.max)
        let jpeg = options.encoding == "jpeg" ? try JPEGEncoder() : nil
        let encoder = SampleEncoder()
        let embedder = try options.asEmbeddings.map { try ScenarioEmbedder(folder: $0) }
        var progress = ProgressLine(total: total, enabled: showProgress && isatty(2) != 0)
        let start = Date()
        var sent = 0
        var stalls = 0
        var iterator = plan.makeIterator()
        while sent < min(startPosition, total), iterator.next() != nil { sent += 1 }
        let skipped = sent
        var header = SampleHeader(id: "", stream: options.stream, seq: 0, encoding: jpeg == nil ? .rawU8HWC : .jpeg)
        loop: while sent < total, !StreamInterrupt.isRequested, let planned = iterator.next() {
            let sample = planned.sample
            let image = try sample.render(from: set)
            header.stream = planned.stream
            header.id = planned.id
            header.seq = planned.seq
            header.ts = Date().timeIntervalSince1970
            header.shape = SampleShape([image.height, image.width, 3])
            header.label = .index(sample.label)
            let payload = try jpeg?.encode(image) ?? image.pixels
            let frames: [[UInt8]]
            if let embedder {
                // What the box's accelerator would publish for this image.
                let values = try embedder.embed(payload: payload, encoding: header.encoding, shape: header.shape)
                var h = header
                h.encoding = .f32Embedding
                h.shape = SampleShape([values.count])
                frames = encoder.encode(header: h, payload: SampleEncoder.embeddingPayload(values))
            } else {
                frames = encoder.encode(header: header, payload: payload)
            }
            if let window {
                while sent - window.answered() >= window.limit, !StreamInterrupt.isRequested {
                    Thread.sleep(forTimeInterval: 0.002)
                }
            }
            let waitStart = Date()
            var warned = false
            while !(try sock.send(frames)) {
                if StreamInterrupt.isRequested { break loop }
                let waited = Date().timeIntervalSince(waitStart)
                if waited >= sendTimeout {
                    progress.finish()
                    throw StreamClientError("the daemon at \(endpoint) accepted nothing for \(Int(sendTimeout)) s (sent \(sent) samples)")
                }
                if !warned && waited >= 5 {
                    warned = true
                    stalls += 1
                    if progress.enabled { progress.finish() }
                    FileHandle.standardError.write(Data("waiting for the daemon at \(endpoint) (seq \(sample.position))…\n".utf8))
                }
            }
            sent += 1
            progress.update(sent, note: sample.severity > 0 ? "\(sample.domain) s\(sample.severity)" : sample.domain)
            if rate > 0 {
                let wait = start.addingTimeInterval(Double(sent - skipped) / rate).timeIntervalSinceNow
                if wait > 0 { Thread.sleep(forTimeInterval: wait) }
            }
        }
        progress.update(sent, force: true)
        progress.finish()
        return Outcome(sent: sent, total: total, seconds: Date().timeIntervalSince(start), stalls: stalls,
                       interrupted: StreamInterrupt.isRequested)
    }
}

/// Runs a send loop on its own thread while the caller collects outputs; `wait` rethrows its error.
final class BackgroundSend: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var failure: Error?   // written by the thread before `done` is signalled, read after

    init(_ work: @escaping @Sendable () throws -> Void) {
        let t = Thread { [self] in
            do { try work() } catch { failure = error }
            done.signal()
        }
        t.name = "ttad-scenario-send"
        t.start()
    }

    func wait() throws {
        done.wait()
        if let failure { throw failure }
    }
}
