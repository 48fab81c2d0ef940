import Foundation
import TTADProtocol
import TTADZMQ

/// A client's pair of sockets to a running daemon: PUSH to its ingest endpoint, SUB to its
/// publish endpoint, returned only once a probe has come back, so nothing sent afterwards is lost
/// to the PUB/SUB slow joiner.
///
/// The probe is a deliberately malformed message on stream `ttad-probe` (a header that is not
/// JSON): the daemon answers it on `error` in either mode, counts it under `bad_json`, and it
/// never reaches the model, so it cannot change what adaptation sees.
final class DaemonConnection {
    static let probeStream = "ttad-probe"

    let context: ZMQContext
    let push: ZMQSocket
    let sub: ZMQSocket

    /// `topics` are SUB prefixes; `error` is always subscribed (the probe's answer comes there).
    init(ingest: String, publish: String, topics: [String], sendHighWaterMark: Int32 = 1000) throws {
        context = try ZMQContext()
        push = try ZMQSocket(context: context, type: .push)
        sub = try ZMQSocket(context: context, type: .sub)
        try push.setLinger(milliseconds: 0)
        try push.setSendHighWaterMark(sendHighWaterMark)
        try sub.setLinger(milliseconds: 0)
        try sub.setReceiveHighWaterMark(0)
        for t in Set(topics + [OutputTopic.error]) { try sub.subscribe(t) }
        try sub.connect(publish)
        try push.connect(ingest)

        let decoder = OutputDecoder()
        try sub.setReceiveTimeout(milliseconds: 100)
        var answered = false
        for _ in 0..<200 where !answered {
            _ = try push.send([Array(Self.probeStream.utf8), Array("probe".utf8), []])
            while let f = try sub.receiveMultipart() {
                if case .error(let e)? = try? decoder.decode(frames: f), e.stream == Self.probeStream { answered = true }
            }
        }
        guard answered else {
            sub.close(); push.close(); context.terminate()
            throw DaemonConnectionError(message: "no answer from the daemon at \(ingest) / \(publish) within 20 s")
        }
        // Probes sent before the subscription was up may still be answered: drain them.
        try sub.setReceiveTimeout(milliseconds: 50)
        while try sub.receiveMultipart() != nil {}
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
