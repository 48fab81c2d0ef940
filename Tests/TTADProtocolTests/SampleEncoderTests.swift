import TTADProtocol
import XCTest

final class SampleEncoderTests: XCTestCase {
    let encoder = SampleEncoder()
    let decoder = SampleDecoder()

    func roundTrip(_ h: SampleHeader, _ payload: [UInt8], file: StaticString = #filePath, line: UInt = #line) throws {
        let frames = encoder.encode(header: h, payload: payload)
        XCTAssertEqual(frames.count, 3, file: file, line: line)
        XCTAssertEqual(frames[0], Array(h.stream.utf8), file: file, line: line)
        let s = try decoder.decode(frames: frames).get()
        XCTAssertEqual(s.header, h, file: file, line: line)
        XCTAssertEqual(s.payload, payload, file: file, line: line)
    }

    func testRoundTripEveryEncoding() throws {
        try roundTrip(SampleHeader(id: "e1", stream: "cam1", seq: 0, ts: 1732240000.123456, encoding: .f32Embedding,
                                   shape: [3], label: .index(2)), SampleEncoder.embeddingPayload([0.5, -1, 3]))
        try roundTrip(SampleHeader(id: "r1", stream: "cam.2_x-y", seq: 42, encoding: .rawU8HWC, shape: [2, 2, 3],
                                   label: .name("coat")), Array(0..<12))
        try roundTrip(SampleHeader(id: "r2", stream: "gray", seq: 1, encoding: .rawU8HWC, shape: [1, 3, 1]), [9, 8, 7])
        try roundTrip(SampleHeader(id: "j1", stream: "cam1", seq: 9_007_199_254_740_991, encoding: .jpeg), jpegMagic + [0xE0, 1, 2])
        try roundTrip(SampleHeader(id: "j2", stream: "cam1", seq: 3, ts: 0, encoding: .jpeg, shape: [4, 5, 3]), jpegMagic)
        try roundTrip(SampleHeader(id: "p1", stream: "cam1", seq: 5, encoding: .png, label: .name("é \"quoted\"\n")), pngMagic + [0])
        try roundTrip(SampleHeader(id: "p2 with spaces/and\u{0}nul", stream: "x", seq: 5, encoding: .png, shape: [1, 1, 1]), pngMagic)
    }

    func testEmbeddingConvenience() throws {
        let frames = encoder.encodeEmbedding(id: "a", stream: "s", seq: 1, values: [1, 2], ts: 5, label: .index(1))
        let s = try decoder.decode(frames: frames).get()
        XCTAssertEqual(s.header.shape, [2])
        XCTAssertEqual(s.header.ts, 5)
    }

    func testHeaderTextAndExtraFields() throws {
        let h = SampleHeader(id: "a", stream: "cam1", seq: 1, encoding: .f32Embedding, shape: [1])
        XCTAssertEqual(String(decoding: encoder.encodeHeader(h), as: UTF8.self),
                       #"{"v":1,"id":"a","stream":"cam1","seq":1,"encoding":"f32-embedding","shape":[1]}"#)
        let frames = encoder.encode(header: h, payload: SampleEncoder.embeddingPayload([1]), extraFields: [JSONMember("future", ["x": 1])])
        XCTAssertEqual(try decoder.decode(frames: frames).get().header, h)
    }

    func testEncoderDoesNotValidate() {
        let h = SampleHeader(v: 2, id: "", stream: "bad topic", seq: 1, encoding: .f32Embedding, shape: [1])
        let frames = encoder.encode(header: h, payload: [])
        XCTAssertEqual(decoder.decode(frames: frames).failureValue?.reason, .badTopic)
    }
}
