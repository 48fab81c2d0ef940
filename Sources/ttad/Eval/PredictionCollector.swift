import Foundation
import Synchronization
import TTADEvaluation
import TTADProtocol
import TTADZMQ

/// Receives a daemon's outputs on a SUB socket (subscribed to `pred/…` and `error`) and keeps what
/// `ttad eval` scores: one `EvalPrediction` per prediction, the reason of every error.
final class PredictionCollector {
    private let sock: ZMQSocket
    private let stream: String?
    private let streamPrefix: Bool
    private let knownClasses: Int
    private let decoder = OutputDecoder()
    private let clock = ContinuousClock()
    private let t0: ContinuousClock.Instant

    private(set) var predictions: [EvalPrediction] = []
    private(set) var errorReasons: [String] = []
    private(set) var undecodable = 0
    private(set) var timedOut = false
    /// Where each prediction is also written as it arrives (`--predictions-file`).
    var file: PredictionsFile?
    private var correct = 0, known = 0

    var received: Int { predictions.count + errorReasons.count }
    /// `received`, readable from other threads (the sender's in-flight window).
    let answered = SharedCount()

    /// `stream`: keep only outputs of this stream (others, like a connection probe, are ignored),
    /// or with `streamPrefix` of the streams `<stream>-…` (a camera group's).
    init(socket: ZMQSocket, stream: String?, knownClasses: Int, expected: Int, streamPrefix: Bool = false) {
        sock = socket
        self.stream = stream
        self.streamPrefix = streamPrefix
        self.knownClasses = knownClasses
        predictions.reserveCapacity(min(expected, 2_000_000))
        t0 = clock.now
    }

    private func keeps(_ s: String) -> Bool {
        guard let stream else { return true }
        return streamPrefix ? s.hasPrefix(stream + "-") : s == stream
    }

    /// Takes the predictions of an earlier part of the run (`ttad eval --resume`) as received.
    func preload(_ earlier: [EvalPrediction]) {
        for p in earlier {
            predictions.append(p)
            if let label = p.label, label < knownClasses {
                known += 1
                if p.predicted == label { correct += 1 }
            }
        }
        answered.value.store(received, ordering: .releasing)
    }

    /// Seconds since the collector was made (the start of the run).
    var elapsedSeconds: Double { seconds() }

    private func seconds() -> Double {
        let d = (clock.now - t0).components
        return Double(d.seconds) + Double(d.attoseconds) * 1e-18
    }

    /// Collects until `count` outputs arrived, Ctrl-C, or a silence longer than `timeout`
    /// (`startTimeout` before the first output). The socket needs a short receive timeout.
    func collect(count: Int, timeout: Double, startTimeout: Double, progress: inout ProgressLine) throws {
        var lastMessage = seconds()
        while received < count, !StreamInterrupt.isRequested {
            guard let frames = try sock.receiveMultipart() else {
                let limit = received == 0 ? startTimeout : timeout
                if seconds() - lastMessage >= limit { timedOut = true; break }
                continue
            }
            let now = seconds()
            lastMessage = now
            let message: OutputMessage
            do { message = try decoder.decode(frames: frames) } catch { undecodable += 1; continue }
            switch message {
            case .prediction(let p):
                if !keeps(p.stream) { continue }
                var label: Int? = nil
                if case .index(let i)? = p.label { label = i }
                let top1 = p.top.first?.index
                let prediction = EvalPrediction(
                    id: p.id, label: label, predicted: top1, entropy: Double(p.entropy), confidence: p.top.first.map { Double($0.p) },
                    outlier: p.outlier,
                    outlierScore: p.outlierScore.map(Double.init), latencySeconds: p.latencySeconds, arrivalSeconds: now)
                predictions.append(prediction)
                try file?.append(prediction)
                if let label, label < knownClasses {
                    known += 1
                    if top1 == label { correct += 1 }
                }
            case .error(let e):
                if let s = e.stream, !keeps(s) { continue }
                errorReasons.append(e.reason)
            default:
                continue
            }
            answered.value.store(received, ordering: .releasing)
            let acc = known > 0 ? String(format: "acc %.1f%%", 100 * Double(correct) / Double(known)) : ""
            progress.update(received, note: errorReasons.isEmpty ? acc : "\(acc) errors \(errorReasons.count)")
        }
        progress.update(received, force: true)
        progress.finish()
    }
}

/// A count one thread writes and others read.
final class SharedCount: Sendable {
    let value = Atomic<Int>(0)
}
