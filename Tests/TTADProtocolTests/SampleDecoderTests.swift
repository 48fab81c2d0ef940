import TTADProtocol
import XCTest

final class SampleDecoderTests: XCTestCase {
    let decoder = SampleDecoder()

    func testValidEmbedding() throws {
        let frames = validEmbeddingFrames(dim: 8)
        let s = try decoder.decode(frames: frames).get()
        XCTAssertEqual(s.header.v, 1)
        XCTAssertEqual(s.header.id, "s-7")
        XCTAssertEqual(s.header.stream, "cam1")
        XCTAssertEqual(s.header.seq, 7)
        XCTAssertEqual(s.header.ts, 1732240000.25)
        XCTAssertEqual(s.header.encoding, .f32Embedding)
        XCTAssertEqual(s.header.shape, [8])
        XCTAssertEqual(s.header.embeddingDimension, 8)
        XCTAssertEqual(s.header.label, .index(3))
        XCTAssertEqual(s.payload, frames[2])
    }

    func testUnknownFieldsAreIgnored() throws {
        let extra = #","future":{"nested":[1,{"a":null}],"x":"y"},"camera_gain":2.5,"\u0069dx":1"#
        let s = try decoder.decode(frames: validEmbeddingFrames(extraHeader: extra)).get()
        XCTAssertEqual(s.header.id, "s-7")
    }

    func testEscapedKeysAndValues() throws {
        let h = #"{"\u0076":1,"id":"\u00e9\ud83d\ude00","stre\u0061m":"cam1","seq":0,"encoding":"f32\u002dembedding","shape":[1]}"#
        let s = try decoder.decode(frames: [bytes("cam1"), bytes(h), SampleEncoder.embeddingPayload([2])]).get()
        XCTAssertEqual(s.header.id, "é😀")
        XCTAssertEqual(s.header.encoding, .f32Embedding)
        XCTAssertEqual(s.header.seq, 0)
    }

    func testWhitespaceAndFieldOrder() throws {
        let h = "\n{ \"shape\" : [ 2 ] ,\t\"encoding\":\"f32-embedding\", \"seq\":5,\"stream\":\"cam1\",\"id\":\"x\",\"v\":1 }\r\n"
        XCTAssertEqual(try decoder.decode(frames: [bytes("cam1"), bytes(h), SampleEncoder.embeddingPayload([1, 2])]).get().header.seq, 5)
    }

    func testNullOptionalFieldsAreAbsent() throws {
        let h = #"{"v":1,"id":"a","stream":"cam1","seq":1,"ts":null,"encoding":"png","shape":null,"label":null}"#
        let s = try decoder.decode(frames: [bytes("cam1"), bytes(h), pngMagic + [1, 2, 3]]).get()
        XCTAssertNil(s.header.ts)
        XCTAssertNil(s.header.shape)
        XCTAssertNil(s.header.label)
    }

    func testLabels() throws {
        XCTAssertEqual(try decoder.decode(frames: RejectReasonTests.emb(#","label":"coat""#)).get().header.label, .name("coat"))
        XCTAssertEqual(try decoder.decode(frames: RejectReasonTests.emb(#","label":0"#)).get().header.label, .index(0))
        XCTAssertEqual(try decoder.decode(frames: RejectReasonTests.emb(#","label":9007199254740991"#)).get().header.label,
                       .index(9_007_199_254_740_991))
    }

    func testSeqBounds() throws {
        let max = #"{"v":1,"id":"a","stream":"cam1","seq":9007199254740991,"encoding":"jpeg"}"#
        XCTAssertEqual(try decoder.decode(frames: [bytes("cam1"), bytes(max), jpegMagic]).get().header.seq, (1 << 53) - 1)
        let huge = #"{"v":1,"id":"a","stream":"cam1","seq":99999999999999999999999,"encoding":"jpeg"}"#
        XCTAssertEqual(decoder.decode(frames: [bytes("cam1"), bytes(huge), jpegMagic]).failureValue?.reason, .badValue)
    }

    func testTopicCharacters() {
        for ok in ["a", "A.b_c-9", String(repeating: "z", count: 64)] {
            XCTAssertTrue(WireProtocol.isValidStreamID(ok), ok)
        }
        for bad in ["", "a b", "a/b", "é", "a:b", String(repeating: "z", count: 65), "a\u{0}"] {
            XCTAssertFalse(WireProtocol.isValidStreamID(bad), bad)
        }
    }

    func testValidatePayloadContentsFlag() {
        let frames = RejectReasonTests.emb("", payload: SampleEncoder.embeddingPayload([.nan, 1, 1, 1]))
        XCTAssertEqual(decoder.decode(topic: frames[0], header: frames[1], payload: frames[2]).failureValue?.reason, .nonFinite)
        XCTAssertNotNil(decoder.decode(topic: frames[0], header: frames[1], payload: frames[2], validatePayloadContents: false).successValue)
    }

    func testReadEmbedding() throws {
        let values: [Float] = [1.5, -2, 0, 3.25e-5]
        let payload = SampleEncoder.embeddingPayload(values)
        var out = [Float](repeating: 0, count: 4)
        let r = out.withUnsafeMutableBufferPointer { decoder.readEmbedding(payload: payload, into: $0) }
        XCTAssertNil(r)
        XCTAssertEqual(out, values)
        // Little-endian on the wire regardless of host.
        XCTAssertEqual(Array(payload[0..<4]), [0x00, 0x00, 0xC0, 0x3F])

        let h = SampleHeader(id: "q", stream: "s", seq: 3, encoding: .f32Embedding, shape: [4])
        var small = [Float](repeating: 0, count: 3)
        let r2 = small.withUnsafeMutableBufferPointer { decoder.readEmbedding(payload: payload, into: $0, header: h) }
        XCTAssertEqual(r2?.reason, .payloadLength)
        XCTAssertEqual(r2?.sampleID, "q")
        XCTAssertEqual(r2?.seq, 3)

        let nanPayload = SampleEncoder.embeddingPayload([1, 2, .infinity, .nan])
        let r3 = out.withUnsafeMutableBufferPointer { decoder.readEmbedding(payload: nanPayload, into: $0) }
        XCTAssertEqual(r3?.reason, .nonFinite)
        XCTAssertTrue(r3?.detail.contains("[2]") ?? false, r3?.detail ?? "")

        let zero = SampleEncoder.embeddingPayload([0, -0.0, 0, 0])
        let r4 = out.withUnsafeMutableBufferPointer { decoder.readEmbedding(payload: zero, into: $0) }
        XCTAssertEqual(r4?.reason, .zeroNorm)

        // Denormals are finite and non-zero.
        let tiny = SampleEncoder.embeddingPayload([.leastNonzeroMagnitude, 0, 0, 0])
        XCTAssertNil(out.withUnsafeMutableBufferPointer { decoder.readEmbedding(payload: tiny, into: $0) })
    }

    func testEveryPrefixOfAValidHeaderIsRejected() {
        let frames = validEmbeddingFrames(extraHeader: #","extra":["é\u00e9",{"k":true}]"#)
        XCTAssertNotNil(decoder.decode(frames: frames).successValue)
        let header = frames[1]
        for n in 0..<header.count {
            let r = decoder.decode(frames: [frames[0], Array(header[0..<n]), frames[2]])
            XCTAssertEqual(r.failureValue?.reason, .badJSON, "prefix \(n)")
        }
        // Truncated payloads are rejected too.
        for n in 0..<frames[2].count {
            XCTAssertEqual(decoder.decode(frames: [frames[0], header, Array(frames[2][0..<n])]).failureValue?.reason, .payloadLength)
        }
    }

    func testImageEncodings() throws {
        let base = #"{"v":1,"id":"i","stream":"cam1","seq":1,"#
        let jpg = try decoder.decode(frames: [bytes("cam1"), bytes(base + #""encoding":"jpeg","shape":[480,640,3]}"#), jpegMagic + [0xE0, 0, 0]]).get()
        XCTAssertEqual(jpg.header.shape, [480, 640, 3])
        XCTAssertNotNil(decoder.decode(frames: [bytes("cam1"), bytes(base + #""encoding":"png"}"#), pngMagic]).successValue)
        let raw = try decoder.decode(frames: [bytes("cam1"), bytes(base + #""encoding":"raw-u8-hwc","shape":[2,3,1]}"#), [1, 2, 3, 4, 5, 6]]).get()
        XCTAssertEqual(raw.header.shape?.elementCount, 6)
        XCTAssertTrue(SampleDecoder.hasImageMagic(.png, pngMagic))
        XCTAssertFalse(SampleDecoder.hasImageMagic(.jpeg, pngMagic))
    }
}
