import TTADProtocol
import XCTest

final class OutputEncoderTests: XCTestCase {
    let decoder = OutputDecoder()

    func sampleRecord() -> PredictionRecord {
        PredictionRecord(id: "cam1-000123", stream: "cam1", seq: 123, ts: 1732240000.123456,
                         top: [TopClass(className: "coat", index: 4, p: 0.91), TopClass(className: "shirt", index: 6, p: 0.05)],
                         entropy: 0.4213, outlier: false, outlierScore: 0.173, promptVersion: 3,
                         latencySeconds: 0.000734, label: .index(4))
    }

    func testPredictionExactText() {
        var enc = OutputEncoder()
        enc.encodePrediction(sampleRecord())
        XCTAssertEqual(String(decoding: enc.topic, as: UTF8.self), "pred/cam1")
        XCTAssertEqual(String(decoding: enc.body, as: UTF8.self),
                       #"{"v":1,"id":"cam1-000123","stream":"cam1","seq":123,"ts":1732240000.123456,"top":[{"class":"coat","index":4,"p":0.91},{"class":"shirt","index":6,"p":0.05}],"entropy":0.4213,"outlier":false,"outlier_score":0.173,"prompt_version":3,"latency_s":0.000734,"label":4}"#)
    }

    func testPredictionRoundTrip() throws {
        var enc = OutputEncoder()
        var rec = sampleRecord()
        rec.label = .name("é\"x\"")
        rec.latencySeconds = 0.0123456789
        enc.encodePrediction(rec)
        guard case .prediction(let back) = try decoder.decode(topic: enc.topic, body: enc.body) else { return XCTFail() }
        var expected = rec
        expected.latencySeconds = 0.012346 // microsecond resolution
        XCTAssertEqual(back, expected)
    }

    func testPredictionOptionalFields() throws {
        var enc = OutputEncoder()
        let rec = PredictionRecord(id: "a", stream: "s", seq: 0, top: [], entropy: .nan, outlier: true)
        enc.encodePrediction(rec)
        let json = try decoder.decodeJSON(body: enc.body)
        XCTAssertEqual(json["ts"], .null, "ts is always present")
        XCTAssertEqual(json["entropy"], .null, "non-finite numbers are null")
        for absent in ["outlier_score", "prompt_version", "latency_s", "label"] {
            XCTAssertNil(json[absent], absent)
        }
        guard case .prediction(let back) = try decoder.decode(topic: enc.topic, body: enc.body) else { return XCTFail() }
        XCTAssertNil(back.ts)
        XCTAssertTrue(back.entropy.isNaN)
        XCTAssertTrue(back.outlier)
        XCTAssertEqual(back.top, [])
    }

    func testEncoderReuseAndCapacity() {
        var enc = OutputEncoder()
        enc.encodePrediction(sampleRecord())
        let first = enc.body
        enc.encodeError(Rejection(reason: .zeroNorm, detail: "embedding is all zeros"), tsS: 1)
        XCTAssertEqual(String(decoding: enc.topic, as: UTF8.self), "error")
        XCTAssertNotEqual(first, enc.body, "copy-on-write: the earlier body is unaffected")
        enc.encodePrediction(sampleRecord())
        XCTAssertEqual(first, enc.body)
        let sent = enc.withFrames { t, b in (t.count, b.count) }
        XCTAssertEqual(sent.0, 9)
        XCTAssertEqual(sent.1, first.count)
    }

    func testErrorFromRejection() throws {
        var enc = OutputEncoder()
        let rej = Rejection(reason: .nonFinite, detail: "embedding value [3] is nan", sampleID: "id\n1", stream: "cam1", seq: 77)
        enc.encodeError(rej, tsS: 1732240001.5)
        XCTAssertEqual(String(decoding: enc.body, as: UTF8.self),
                       #"{"v":1,"reason":"non_finite","detail":"embedding value [3] is nan","id":"id\n1","stream":"cam1","seq":77,"ts_s":1732240001.5}"#)
        guard case .error(let e) = try decoder.decode(topic: enc.topic, body: enc.body) else { return XCTFail() }
        XCTAssertEqual(e, ErrorRecord(rej, tsS: 1732240001.5))
        XCTAssertEqual(e.rejectReason, .nonFinite)

        enc.encodeError(Rejection(reason: .badJSON, detail: "x"), tsS: 2)
        let json = try decoder.decodeJSON(body: enc.body)
        XCTAssertNil(json["id"])
        XCTAssertNil(json["stream"])
        XCTAssertNil(json["seq"])
    }

    func testEventRoundTrip() throws {
        var enc = OutputEncoder()
        let ev = EventRecord(kind: EventKind.checkpoint, tsS: 10.25, detail: [JSONMember("path", "/var/lib/ttad/ckpt"), JSONMember("n", 3)])
        enc.encodeEvent(ev)
        XCTAssertEqual(String(decoding: enc.body, as: UTF8.self),
                       #"{"v":1,"kind":"checkpoint","ts_s":10.25,"detail":{"path":"/var/lib/ttad/ckpt","n":3}}"#)
        XCTAssertEqual(try decoder.decode(topic: enc.topic, body: enc.body), .event(ev))

        enc.encodeEvent(.gap(stream: "cam1", lastSeq: 10, seq: 14, tsS: 1))
        guard case .event(let gap) = try decoder.decode(topic: enc.topic, body: enc.body) else { return XCTFail() }
        XCTAssertEqual(gap.kind, "gap")
        XCTAssertEqual(JSONValue.object(gap.detail)["missing"], .int(3))

        enc.encodeEvent(EventRecord(kind: EventKind.started, tsS: 0))
        XCTAssertTrue(String(decoding: enc.body, as: UTF8.self).hasSuffix(#""detail":{}}"#))
    }

    func testDriftRoundTrip() throws {
        var enc = OutputEncoder()
        let d = DriftRecord(tsS: 99.5, window: 512, stats: [NamedValue("mean_entropy", 0.8), NamedValue("outlier_rate", 0.02)],
                            alarms: ["entropy_shift"])
        enc.encodeDrift(d)
        XCTAssertEqual(String(decoding: enc.topic, as: UTF8.self), "drift")
        XCTAssertEqual(String(decoding: enc.body, as: UTF8.self),
                       #"{"v":1,"ts_s":99.5,"window":512,"stats":{"mean_entropy":0.8,"outlier_rate":0.02},"alarms":["entropy_shift"]}"#)
        XCTAssertEqual(try decoder.decode(topic: enc.topic, body: enc.body), .drift(d))

        enc.encodeDrift(DriftRecord(tsS: 1, window: 0, stats: [NamedValue("x", .nan)]))
        guard case .drift(let back) = try decoder.decode(topic: enc.topic, body: enc.body) else { return XCTFail() }
        XCTAssertTrue(back.stats[0].value.isNaN)
        XCTAssertEqual(back.alarms, [])
        XCTAssertNil(back.state)

        // scope = "stream": the record names its state.
        let s = DriftRecord(tsS: 2, window: 8, alarms: [], state: "cam-7")
        enc.encodeDrift(s)
        XCTAssertEqual(String(decoding: enc.body, as: UTF8.self), #"{"v":1,"ts_s":2.0,"window":8,"stats":{},"alarms":[],"state":"cam-7"}"#)
        XCTAssertEqual(try decoder.decode(topic: enc.topic, body: enc.body), .drift(s))
    }
}
