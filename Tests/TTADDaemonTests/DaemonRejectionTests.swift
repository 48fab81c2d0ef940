import Foundation
import TTADProtocol
import TTADZMQ
import XCTest
@testable import TTADDaemon

/// Bad input of every kind gets an `error` message and a counter, and never stops valid samples.
final class DaemonRejectionTests: XCTestCase {
    private static func header(_ json: String) -> [UInt8] { Array(json.utf8) }
    private static func floats(_ v: [Float]) -> [UInt8] { SampleEncoder.embeddingPayload(v) }
    private static let good = TestDaemonEnvironment.embedding(forClass: 1)
    private static func h(_ id: String, seq: Int, enc: String = "f32-embedding", shape: String = "[8]", extra: String = "") -> [UInt8] {
        header(#"{"v":1,"id":"\#(id)","stream":"s","seq":\#(seq),"encoding":"\#(enc)","shape":\#(shape)\#(extra)}"#)
    }

    /// (reason, frames, the id the error must carry if the header got that far)
    private static var badMessages: [(RejectReason, [[UInt8]], String?)] {
        let s = Array("s".utf8)
        var nan = good; nan[3] = .nan
        var inf = good; inf[0] = .infinity
        return [
            (.frameCount, [s, h("fc", seq: 100)], "fc"),
            (.frameCount, [s, h("fc4", seq: 101), floats(good), [1]], "fc4"),
            (.badTopic, [Array("bad topic".utf8), h("bt", seq: 102), floats(good)], nil),
            (.headerTooLarge, [s, [UInt8](repeating: 0x20, count: 5000), floats(good)], nil),
            (.badJSON, [s, header(#"{"v":1,"id":"bj""#), floats(good)], nil),
            (.badJSON, [s, [0xFF, 0xFE, 0x00], floats(good)], nil),
            (.missingField, [s, header(#"{"v":1,"id":"mf","stream":"s","seq":103,"shape":[8]}"#), floats(good)], "mf"),
            (.wrongType, [s, header(#"{"v":1,"id":"wt","stream":"s","seq":"104","encoding":"f32-embedding","shape":[8]}"#), floats(good)], "wt"),
            (.badValue, [s, header(#"{"v":1,"id":"","stream":"s","seq":105,"encoding":"f32-embedding","shape":[8]}"#), floats(good)], nil),
            (.unsupportedVersion, [s, header(#"{"v":2,"id":"uv","stream":"s","seq":106}"#), floats(good)], "uv"),
            (.unknownEncoding, [s, h("ue", seq: 107, enc: "webp"), floats(good)], "ue"),
            (.streamMismatch, [Array("t".utf8), h("sm", seq: 108), floats(good)], "sm"),
            (.wrongShape, [s, h("ws", seq: 109, shape: "[16]"), floats(good + good)], "ws"),
            (.wrongShape, [s, h("ws2", seq: 110, shape: "[8,1]"), floats(good)], "ws2"),
            (.payloadTooLarge, [s, h("pl", seq: 111), [UInt8](repeating: 0, count: 70_000)], "pl"),
            (.payloadLength, [s, h("plen", seq: 112), Array(floats(good).dropLast())], "plen"),
            (.payloadLength, [s, h("trunc", seq: 113), []], "trunc"),
            (.nonFinite, [s, h("nan", seq: 114), floats(nan)], "nan"),
            (.nonFinite, [s, h("inf", seq: 115), floats(inf)], "inf"),
            (.zeroNorm, [s, h("zero", seq: 116), floats([Float](repeating: 0, count: 8))], "zero"),
            (.corruptImage, [s, h("ci", seq: 117, enc: "jpeg", shape: "[2,2,3]"), [0x89, 0x50, 0x4E, 0x47]], "ci"),
            (.unsupportedEncoding, [s, h("raw", seq: 118, enc: "raw-u8-hwc", shape: "[2,2,3]"), [UInt8](repeating: 9, count: 12)], "raw"),
            (.unsupportedEncoding, [s, h("jpg", seq: 119, enc: "jpeg", shape: "[2,2,3]"), [0xFF, 0xD8, 0xFF, 0xE0]], "jpg"),
        ]
    }

    func testEveryRejectionIsPublishedAndCountedWhileValidSamplesFlow() throws {
        let env = try TestDaemonEnvironment()
        env.config.protocolLimits.maxPayloadBytes = 65_536
        let (daemon, client) = try env.startWithClient()
        defer { daemon.stop(reason: "test") }

        let bad = Self.badMessages
        // Every reason code the daemon can produce is exercised here.
        XCTAssertEqual(Set(bad.map(\.0)), Set(RejectReason.allCases))
        for (i, (_, frames, _)) in bad.enumerated() {
            try client.sendEmbedding(stream: "ok", seq: UInt64(i), values: Self.good)
            try client.send(frames)
        }
        try client.sendEmbedding(stream: "ok", seq: UInt64(bad.count), values: Self.good)

        let out = try client.receive(count: 2 * bad.count + 1, timeout: 10) { $0.prediction != nil || $0.error != nil }
        let preds = out.compactMap(\.prediction)
        let errors = out.compactMap(\.error)
        XCTAssertEqual(preds.map(\.seq), Array(0...UInt64(bad.count)), "every valid sample is predicted, in order")
        XCTAssertEqual(errors.count, bad.count)
        for (e, (reason, _, id)) in zip(errors, bad) {
            XCTAssertEqual(e.reason, reason.rawValue, e.detail)
            XCTAssertFalse(e.detail.isEmpty)
            if let id { XCTAssertEqual(e.id, id, "\(reason)") }
        }
        let m = daemon.metrics.exposition()
        for reason in RejectReason.allCases {
            let expected = bad.filter { $0.0 == reason }.count
            XCTAssertEqual(metricValue(m, "ttad_samples_rejected_total{reason=\"\(reason.rawValue)\"}"), Double(expected), reason.rawValue)
        }
    }

    func testMessagesAboveMaxMessageSizeCutTheSenderButNotTheDaemon() throws {
        let env = try TestDaemonEnvironment()
        env.config.ingest.maxMessageBytes = 16_384
        env.config.protocolLimits.maxHeaderBytes = 4096
        let daemon = env.makeDaemon()
        try daemon.start()
        defer { daemon.stop(reason: "test") }
        let bully = try TestClient(ingest: daemon.endpoints.ingest[0], publish: daemon.endpoints.publish[0])
        try bully.waitUntilConnected()
        try bully.send([Array("s".utf8), Self.h("huge", seq: 0), [UInt8](repeating: 1, count: 100_000)])

        let client = try TestClient(ingest: daemon.endpoints.ingest[0], publish: daemon.endpoints.publish[0])
        try client.waitUntilConnected()
        try client.sendEmbedding(stream: "after", seq: 0, values: Self.good)
        let out = try client.receive(count: 1) { $0.prediction?.stream == "after" || $0.error != nil }
        XCTAssertEqual(out.first?.prediction?.stream, "after", "the daemon keeps serving other clients")
        XCTAssertNil(out.first?.error)
    }
}
