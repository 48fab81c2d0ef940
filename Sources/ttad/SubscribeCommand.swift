import ArgumentParser
import Foundation
import TTADZMQ

/// Prints what a daemon publishes as JSON lines: {"topic": ..., "message": {...}}.
struct SubscribeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "subscribe",
        abstract: "Print a daemon's predictions, events, drift and errors as JSON lines.")

    @Option(name: .shortAndLong, help: "The daemon's publish endpoint, e.g. tcp://127.0.0.1:7756.")
    var endpoint: String

    @Option(name: .shortAndLong, help: "Topic prefix to subscribe to (repeatable; default: everything).")
    var topic: [String] = []

    @Option(help: "Exit after this many messages (0 = never).")
    var count: Int = 0

    @Option(help: "Exit after this many seconds without a message (0 = never).")
    var idleTimeout: Double = 0

    func run() throws {
        let ctx = try ZMQContext()
        defer { ctx.terminate() }
        let sock = try ZMQSocket(context: ctx, type: .sub)
        defer { sock.close() }
        try sock.setReceiveHighWaterMark(0)
        for t in topic.isEmpty ? [""] : topic { try sock.subscribe(t) }
        try sock.connect(endpoint)
        if idleTimeout > 0 { try sock.setReceiveTimeout(milliseconds: Int32(idleTimeout * 1000)) }
        var n = 0
        let out = FileHandle.standardOutput
        while count == 0 || n < count {
            guard let frames = try sock.receiveMultipart() else { break }  // idle timeout
            guard frames.count >= 2 else { continue }
            let topicText = String(decoding: frames[0], as: UTF8.self)
            var line = Array("{\"topic\":".utf8)
            line += jsonString(topicText)
            line += Array(",\"message\":".utf8)
            line += frames[1]
            line += Array("}\n".utf8)
            out.write(Data(line))
            n += 1
        }
    }

    private func jsonString(_ s: String) -> [UInt8] {
        var o: [UInt8] = [UInt8(ascii: "\"")]
        for u in s.unicodeScalars {
            switch u {
            case "\"": o += Array("\\\"".utf8)
            case "\\": o += Array("\\\\".utf8)
            case _ where u.value < 0x20: o += Array(String(format: "\\u%04x", u.value).utf8)
            default: o += Array(String(u).utf8)
            }
        }
        o.append(UInt8(ascii: "\""))
        return o
    }
}
