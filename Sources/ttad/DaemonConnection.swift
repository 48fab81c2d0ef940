import Foundation
import TTADProtocol
import TTADZMQ

/// A client's pair of sockets to a running daemon: PUSH to its ingest endpoint, SUB to its
/// publish endpoint, returned only once a probe sample has come back, so nothing sent afterwards
/// is lost to the PUB/SUB slow joiner.
final class DaemonConnection {
    let context: ZMQContext
    let push: ZMQSocket
    let sub: ZMQSocket

    /// `topics` are SUB prefixes; `pred/ttad-probe` is added for the probe and drained after.
    init(ingest: String, publish: String, topics: [String], dimension: Int, sendHighWaterMark: Int32 = 1000) throws {
        context = try ZMQContext()
        push = try ZMQSocket(context: context, type: .push)
        sub = try ZMQSocket(context: context, type: .sub)
        try push.setLinger(milliseconds: 0)
        try push.setSendHighWaterMark(sendHighWaterMark)
        try sub.setLinger(milliseconds: 0)
        try sub.setReceiveHighWaterMark(0)
        for t in topics + ["pred/ttad-probe"] { try sub.subscribe(t) }
        try sub.connect(publish)
        try push.connect(ingest)

        let encoder = SampleEncoder()
        let probe = [Float](repeating: 1, count: dimension)
        try sub.setReceiveTimeout(milliseconds: 100)
        var answered = false
        for attempt in 0..<200 where !answered {
            _ = try push.send(encoder.encodeEmbedding(id: "probe-\(attempt)", stream: "ttad-probe", seq: UInt64(attempt), values: probe))
            while let f = try sub.receiveMultipart() {
                if f.first == Array("pred/ttad-probe".utf8) { answered = true }
            }
        }
        guard answered else {
            sub.close(); push.close(); context.terminate()
            throw DaemonConnectionError(message: "no answer from the daemon at \(ingest) / \(publish) within 20 s")
        }
        try sub.unsubscribe("pred/ttad-probe")
    }

    deinit {
        push.close()
        sub.close()
        context.terminate()
    }
}

struct DaemonConnectionError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
