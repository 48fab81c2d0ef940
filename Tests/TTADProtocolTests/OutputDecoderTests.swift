import TTADProtocol
import XCTest

final class OutputDecoderTests: XCTestCase {
    let decoder = OutputDecoder()

    func decode(_ topic: String, _ body: String) throws -> OutputMessage {
        try decoder.decode(topic: bytes(topic), body: bytes(body))
    }

    func testUnknownFieldsIgnoredAndPythonStyleWhitespace() throws {
        let body = """
        {"v": 1, "id": "a", "stream": "cam1", "seq": 5, "ts": null, "top": [{"class": "coat", "index": 4, "p": 0.5, "new": 1}],
         "entropy": 0.1, "outlier": false, "added_in_v1_3": {"x": [1, 2]}}
        """
        guard case .prediction(let p) = try decode("pred/cam1", body) else { return XCTFail() }
        XCTAssertEqual(p.top.first?.className, "coat")
        XCTAssertNil(p.outlierScore)
    }

    func testUnknownTopicIsOther() throws {
        XCTAssertEqual(try decode("metrics", #"{"v":1,"x":2}"#), .other(topic: "metrics", body: ["v": 1, "x": 2]))
    }

    func testUnknownReasonKept() throws {
        guard case .error(let e) = try decode("error", #"{"v":1,"reason":"from_the_future","detail":"d","ts_s":1}"#) else { return XCTFail() }
        XCTAssertEqual(e.reason, "from_the_future")
        XCTAssertNil(e.rejectReason)
    }

    func testRejectsBadMessages() {
        let bad: [(String, String)] = [
            ("event", #"{"v":2,"kind":"x","ts_s":1,"detail":{}}"#), // version
            ("event", #"{"kind":"x","ts_s":1}"#), // no v
            ("event", "[1]"), // not an object
            ("event", #"{"v":1,"kind":"x","ts_s":1,"detail":[]}"#), // detail not an object
            ("event", #"{"v":1,"kind":"x","ts_s":1,"kind":"y"}"#), // duplicate key
            ("pred/cam2", #"{"v":1,"id":"a","stream":"cam1","seq":1,"top":[],"entropy":0,"outlier":false}"#), // topic mismatch
            ("pred/cam10", #"{"v":1,"id":"a","stream":"cam1","seq":1,"top":[],"entropy":0,"outlier":false}"#), // prefix is not a match
            ("pred/cam1", #"{"v":1,"id":"a","stream":"cam1","seq":1,"top":[],"entropy":0}"#), // no outlier
            ("pred/cam1", #"{"v":1,"id":"a","stream":"cam1","seq":-1,"top":[],"entropy":0,"outlier":false}"#), // bad seq
            ("error", #"{"v":1,"reason":1,"detail":"d","ts_s":1}"#),
            ("drift", #"{"v":1,"ts_s":1,"window":1,"stats":{"a":"x"},"alarms":[]}"#),
            ("drift", #"{"v":1,"ts_s":1,"window":1,"stats":{},"alarms":[1]}"#),
            ("drift", #"{"v":1,"ts_s":1,"window":1.5,"stats":{},"alarms":[]}"#),
            ("error", "{"),
        ]
        for (t, b) in bad {
            XCTAssertThrowsError(try decode(t, b), "\(t) \(b)")
        }
        XCTAssertThrowsError(try decoder.decode(frames: [bytes("event")]))
        XCTAssertThrowsError(try decoder.decode(topic: [0xFF], body: bytes("{}")))
    }
}
