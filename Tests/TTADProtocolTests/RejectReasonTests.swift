import TTADProtocol
import XCTest

/// Table-driven: every `RejectReason` is produced by a crafted message, except the ones
/// documented as produced outside `SampleDecoder`.
final class RejectReasonTests: XCTestCase {
    struct Case {
        let reason: RejectReason
        let name: String
        let frames: [[UInt8]]
        var limits = ProtocolLimits()
    }

    static let dim = 4
    static let goodPayload = SampleEncoder.embeddingPayload([1, 2, 3, 4])

    static func msg(_ header: String, topic: String = "cam1", payload: [UInt8] = goodPayload) -> [[UInt8]] {
        [bytes(topic), bytes(header), payload]
    }

    static func emb(_ fields: String, dim: Int = 4, payload: [UInt8] = goodPayload) -> [[UInt8]] {
        msg(embeddingHeader(fields, dim: dim), payload: payload)
    }

    static let base = #"{"v":1,"id":"a","stream":"cam1","seq":1,"#

    static let cases: [Case] = [
        Case(reason: .frameCount, name: "2 frames", frames: [bytes("cam1"), bytes(embeddingHeader(""))]),
        Case(reason: .frameCount, name: "4 frames", frames: emb("") + [[1]]),
        Case(reason: .frameCount, name: "0 frames", frames: []),
        Case(reason: .badTopic, name: "space", frames: [bytes("cam 1"), bytes(embeddingHeader("")), goodPayload]),
        Case(reason: .badTopic, name: "empty", frames: [[], bytes(embeddingHeader("")), goodPayload]),
        Case(reason: .badTopic, name: "slash", frames: [bytes("pred/cam1"), bytes(embeddingHeader("")), goodPayload]),
        Case(reason: .badTopic, name: "65 bytes", frames: [Array(repeating: 0x61, count: 65), bytes(embeddingHeader("")), goodPayload]),
        Case(reason: .headerTooLarge, name: "limit 32", frames: emb(""), limits: ProtocolLimits(maxHeaderBytes: 32)),
        Case(reason: .badJSON, name: "truncated", frames: msg("{\"v\":1")),
        Case(reason: .badJSON, name: "array", frames: msg("[1]")),
        Case(reason: .badJSON, name: "empty", frames: msg("")),
        Case(reason: .badJSON, name: "not utf8", frames: [bytes("cam1"), [0x7B, 0x22, 0xFF, 0x22, 0x3A, 0x31, 0x7D], goodPayload]),
        Case(reason: .badJSON, name: "duplicate key", frames: emb(#","seq":2"#)),
        Case(reason: .badJSON, name: "trailing garbage", frames: msg(embeddingHeader("") + "x")),
        Case(reason: .badJSON, name: "NaN", frames: emb(#","ts":NaN"#)),
        Case(reason: .badJSON, name: "too deep", frames: emb(#","x":[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]"#)),
        Case(reason: .missingField, name: "no id", frames: msg(#"{"v":1,"stream":"cam1","seq":1,"encoding":"f32-embedding","shape":[4]}"#)),
        Case(reason: .missingField, name: "no v", frames: msg(#"{"id":"a","stream":"cam1","seq":1,"encoding":"f32-embedding","shape":[4]}"#)),
        Case(reason: .missingField, name: "null seq", frames: msg(#"{"v":1,"id":"a","stream":"cam1","seq":null,"encoding":"f32-embedding","shape":[4]}"#)),
        Case(reason: .missingField, name: "no shape for embedding", frames: msg(base + #""encoding":"f32-embedding"}"#)),
        Case(reason: .missingField, name: "no shape for raw", frames: msg(base + #""encoding":"raw-u8-hwc"}"#)),
        Case(reason: .wrongType, name: "seq string", frames: msg(#"{"v":1,"id":"a","stream":"cam1","seq":"1","encoding":"f32-embedding","shape":[4]}"#)),
        Case(reason: .wrongType, name: "seq float", frames: msg(#"{"v":1,"id":"a","stream":"cam1","seq":1.0,"encoding":"f32-embedding","shape":[4]}"#)),
        Case(reason: .wrongType, name: "v string", frames: msg(#"{"v":"1","id":"a","stream":"cam1","seq":1,"encoding":"f32-embedding","shape":[4]}"#)),
        Case(reason: .wrongType, name: "id number", frames: msg(#"{"v":1,"id":5,"stream":"cam1","seq":1,"encoding":"f32-embedding","shape":[4]}"#)),
        Case(reason: .wrongType, name: "ts string", frames: emb(#","ts":"now""#)),
        Case(reason: .wrongType, name: "label bool", frames: emb(#","label":true"#)),
        Case(reason: .wrongType, name: "shape string", frames: msg(base + #""encoding":"f32-embedding","shape":"4"}"#)),
        Case(reason: .wrongType, name: "shape element float", frames: msg(base + #""encoding":"f32-embedding","shape":[4.0]}"#)),
        Case(reason: .wrongType, name: "encoding number", frames: msg(base + #""encoding":1,"shape":[4]}"#)),
        Case(reason: .badValue, name: "negative seq", frames: msg(#"{"v":1,"id":"a","stream":"cam1","seq":-1,"encoding":"f32-embedding","shape":[4]}"#)),
        Case(reason: .badValue, name: "seq 2^53", frames: msg(#"{"v":1,"id":"a","stream":"cam1","seq":9007199254740992,"encoding":"f32-embedding","shape":[4]}"#)),
        Case(reason: .badValue, name: "empty id", frames: msg(#"{"v":1,"id":"","stream":"cam1","seq":1,"encoding":"f32-embedding","shape":[4]}"#)),
        Case(reason: .badValue, name: "id 129 bytes", frames: msg(#"{"v":1,"id":"\#(String(repeating: "x", count: 129))","stream":"cam1","seq":1,"encoding":"f32-embedding","shape":[4]}"#)),
        Case(reason: .badValue, name: "negative ts", frames: emb(#","ts":-1"#)),
        Case(reason: .badValue, name: "negative label", frames: emb(#","label":-1"#)),
        Case(reason: .badValue, name: "empty label", frames: emb(#","label":"""#)),
        Case(reason: .unsupportedVersion, name: "v2", frames: msg(#"{"v":2,"id":"a","stream":"cam1","seq":1,"encoding":"f32-embedding","shape":[4]}"#)),
        Case(reason: .unsupportedVersion, name: "v0 otherwise broken", frames: msg(#"{"v":0}"#)),
        Case(reason: .unknownEncoding, name: "webp", frames: msg(base + #""encoding":"webp"}"#)),
        Case(reason: .unknownEncoding, name: "case matters", frames: msg(base + #""encoding":"JPEG"}"#)),
        Case(reason: .streamMismatch, name: "cam2", frames: msg(#"{"v":1,"id":"a","stream":"cam2","seq":1,"encoding":"f32-embedding","shape":[4]}"#)),
        Case(reason: .wrongShape, name: "rank 2 embedding", frames: msg(base + #""encoding":"f32-embedding","shape":[2,2]}"#)),
        Case(reason: .wrongShape, name: "zero dim", frames: msg(base + #""encoding":"f32-embedding","shape":[0]}"#)),
        Case(reason: .wrongShape, name: "empty shape", frames: msg(base + #""encoding":"f32-embedding","shape":[]}"#)),
        Case(reason: .wrongShape, name: "rank 4", frames: msg(base + #""encoding":"raw-u8-hwc","shape":[1,1,1,1]}"#)),
        Case(reason: .wrongShape, name: "C=4", frames: msg(base + #""encoding":"raw-u8-hwc","shape":[1,1,4]}"#, payload: [0, 0, 0, 0])),
        Case(reason: .wrongShape, name: "side > limit", frames: msg(base + #""encoding":"raw-u8-hwc","shape":[8193,1,1]}"#)),
        Case(reason: .wrongShape, name: "dim > limit", frames: emb("", dim: 65537)),
        Case(reason: .wrongShape, name: "expected dim", frames: emb(""), limits: ProtocolLimits(expectedEmbeddingDim: 512)),
        Case(reason: .wrongShape, name: "jpeg rank 2", frames: msg(base + #""encoding":"jpeg","shape":[2,2]}"#, payload: jpegMagic)),
        Case(reason: .payloadTooLarge, name: "limit 8", frames: emb(""), limits: ProtocolLimits(maxPayloadBytes: 8)),
        Case(reason: .payloadLength, name: "short embedding", frames: emb("", payload: Array(goodPayload.dropLast()))),
        Case(reason: .payloadLength, name: "raw size", frames: msg(base + #""encoding":"raw-u8-hwc","shape":[2,2,3]}"#, payload: [UInt8](repeating: 0, count: 11))),
        Case(reason: .nonFinite, name: "NaN", frames: emb("", payload: SampleEncoder.embeddingPayload([1, .nan, 0, 0]))),
        Case(reason: .nonFinite, name: "inf", frames: emb("", payload: SampleEncoder.embeddingPayload([1, 0, 0, -.infinity]))),
        Case(reason: .zeroNorm, name: "zeros", frames: emb("", payload: SampleEncoder.embeddingPayload([0, -0.0, 0, 0]))),
        Case(reason: .corruptImage, name: "jpeg magic", frames: msg(base + #""encoding":"jpeg"}"#, payload: [0xFF, 0xD8, 0x00, 0x01])),
        Case(reason: .corruptImage, name: "png magic", frames: msg(base + #""encoding":"png"}"#, payload: Array(pngMagic.dropLast()))),
        Case(reason: .corruptImage, name: "empty jpeg", frames: msg(base + #""encoding":"jpeg"}"#, payload: [])),
    ]

    func testEveryCaseProducesItsReason() {
        for c in Self.cases {
            let r = SampleDecoder(limits: c.limits).decode(frames: c.frames)
            guard case .failure(let rej) = r else {
                XCTFail("\(c.reason.rawValue)/\(c.name): accepted")
                continue
            }
            XCTAssertEqual(rej.reason, c.reason, "\(c.reason.rawValue)/\(c.name): \(rej)")
            XCTAssertFalse(rej.detail.isEmpty)
        }
    }

    func testAllReasonsCovered() {
        let covered = Set(Self.cases.map(\.reason))
        let expected = Set(RejectReason.allCases).subtracting(RejectReason.producedOutsideDecoder)
        XCTAssertEqual(covered, expected, "missing: \(expected.subtracting(covered).map(\.rawValue))")
        XCTAssertEqual(RejectReason.producedOutsideDecoder, [.unsupportedEncoding])
    }

    func testRawValuesAreStableSnakeCase() {
        XCTAssertEqual(RejectReason.allCases.map(\.rawValue), [
            "frame_count", "bad_topic", "header_too_large", "bad_json", "missing_field",
            "wrong_type", "bad_value", "unsupported_version", "unknown_encoding", "stream_mismatch", "wrong_shape",
            "payload_too_large", "payload_length", "non_finite", "zero_norm", "corrupt_image", "unsupported_encoding",
        ])
    }

    func testContextIsFilledWhenParseable() {
        // Field error after id/seq parsed.
        let r1 = SampleDecoder().decode(frames: Self.msg(#"{"v":1,"id":"abc","stream":"cam1","seq":9,"encoding":"webp"}"#)).failureValue
        XCTAssertEqual(r1?.sampleID, "abc")
        XCTAssertEqual(r1?.stream, "cam1")
        XCTAssertEqual(r1?.seq, 9)
        // Version error still reports context.
        let r2 = SampleDecoder().decode(frames: Self.msg(#"{"v":3,"id":"abc","seq":4}"#)).failureValue
        XCTAssertEqual(r2?.reason, .unsupportedVersion)
        XCTAssertEqual(r2?.sampleID, "abc")
        XCTAssertEqual(r2?.seq, 4)
        // Bad topic: stream from the header when it is a valid stream id.
        let r3 = SampleDecoder().decode(frames: [bytes("bad topic"), bytes(embeddingHeader("")), Self.goodPayload]).failureValue
        XCTAssertEqual(r3?.reason, .badTopic)
        XCTAssertEqual(r3?.stream, "cam1")
        XCTAssertEqual(r3?.sampleID, "a")
        // Frame count: context from frames 0 and 1.
        let r4 = SampleDecoder().decode(frames: [bytes("cam1"), bytes(embeddingHeader(""))]).failureValue
        XCTAssertEqual(r4?.reason, .frameCount)
        XCTAssertEqual(r4?.stream, "cam1")
        XCTAssertEqual(r4?.seq, 1)
        // Payload errors carry the full context.
        let r5 = SampleDecoder().decode(frames: Self.emb("", payload: [])).failureValue
        XCTAssertEqual(r5?.reason, .payloadLength)
        XCTAssertEqual(r5?.sampleID, "a")
        XCTAssertEqual(r5?.seq, 1)
        // bad_json: nothing parseable but the topic.
        let r6 = SampleDecoder().decode(frames: Self.msg("{")).failureValue
        XCTAssertEqual(r6?.stream, "cam1")
        XCTAssertNil(r6?.sampleID)
        // Invalid id is not echoed.
        let r7 = SampleDecoder().decode(frames: Self.msg(#"{"v":1,"id":"","stream":"cam1","seq":1}"#)).failureValue
        XCTAssertEqual(r7?.reason, .badValue)
        XCTAssertNil(r7?.sampleID)
    }

    func testDetailNamesTheField() {
        let r = SampleDecoder().decode(frames: Self.msg(#"{"v":1,"id":"a","stream":"cam1","seq":"x","encoding":"png"}"#)).failureValue
        XCTAssertTrue(r?.detail.contains("seq") ?? false, r?.detail ?? "")
    }
}
