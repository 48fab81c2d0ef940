import TTADProtocol
import XCTest

final class JSONWriterTests: XCTestCase {
    func text(_ body: (inout JSONWriter) -> Void) -> String {
        var w = JSONWriter()
        body(&w)
        return String(decoding: w.bytes, as: UTF8.self)
    }

    func testStructureAndCommas() {
        let s = text { w in
            w.beginObject()
            w.key(static: "a"); w.int(1)
            w.key("b"); w.beginArray(); w.int(-2); w.bool(true); w.null(); w.beginObject(); w.endObject(); w.beginArray(); w.endArray(); w.endArray()
            w.key("c"); w.string("x")
            w.endObject()
        }
        XCTAssertEqual(s, #"{"a":1,"b":[-2,true,null,{},[]],"c":"x"}"#)
    }

    func testResetKeepsWorking() {
        var w = JSONWriter()
        w.beginArray(); w.int(1); w.endArray()
        w.reset()
        w.beginArray(); w.int(2); w.int(3); w.endArray()
        XCTAssertEqual(String(decoding: w.bytes, as: UTF8.self), "[2,3]")
    }

    func testIntegers() {
        XCTAssertEqual(text { $0.int(Int64.min) }, "-9223372036854775808")
        XCTAssertEqual(text { $0.int(UInt64.max) }, "18446744073709551615")
        XCTAssertEqual(text { $0.int(0) }, "0")
        XCTAssertEqual(text { $0.int(Int8(-7)) }, "-7")
    }

    func testStringEscaping() throws {
        XCTAssertEqual(text { $0.string("a\"b\\c/d") }, #""a\"b\\c/d""#)
        XCTAssertEqual(text { $0.string("\n\r\t\u{08}\u{0C}\u{0}\u{1F}\u{7F}") }, #""\n\r\t\b\f\u0000\u001f\#u{7F}""#)
        XCTAssertEqual(text { $0.string("\u{2028}x\u{2029}") }, #""\u2028x\u2029""#)
        XCTAssertEqual(text { $0.string("é€😀") }, "\"é€😀\"")
        XCTAssertEqual(text { $0.key("k\"ey"); $0.int(1) }, #""k\"ey":1"#)
        // Every control character and a mix of scripts round-trip through the reader.
        var all = (0..<0x20).map { String(UnicodeScalar(UInt8($0))) }.joined()
        all += "\"\\/ ascii é 中 😀 \u{2028}\u{2029} \u{E2}\u{FFFF}\u{10FFFF}"
        var w = JSONWriter()
        w.string(all)
        XCTAssertEqual(try JSONReader().parse(w.bytes), .string(all))
    }

    func testNonFiniteAsNull() {
        XCTAssertEqual(text { w in w.beginArray(); w.double(.nan); w.double(.infinity); w.float(-.infinity); w.float(.nan); w.endArray() },
                       "[null,null,null,null]")
    }

    func testDoubleFormattingIsShortest() {
        XCTAssertEqual(text { $0.double(0.1) }, "0.1")
        XCTAssertEqual(text { $0.double(100) }, "100.0")
        XCTAssertEqual(text { $0.double(-0.0) }, "-0.0")
        XCTAssertEqual(text { $0.double(1732240000.123456) }, "1732240000.123456")
        XCTAssertEqual(text { $0.float(0.91) }, "0.91")
    }

    func testDoubleRoundTrip() throws {
        var rng = SplitMix64(seed: 42)
        var specials: [Double] = [0, -0.0, 0.1, 1e21, 1e-7, .leastNonzeroMagnitude, .leastNormalMagnitude, .greatestFiniteMagnitude,
                                  -.greatestFiniteMagnitude, 1732240000.123456, 9007199254740992, 123456.789e300]
        for _ in 0..<3000 {
            let d = Double(bitPattern: rng.next())
            if d.isFinite { specials.append(d) }
            specials.append(Double.random(in: -1e6...1e6, using: &rng))
        }
        let reader = JSONReader()
        for d in specials {
            var w = JSONWriter()
            w.double(d)
            let v = try reader.parse(w.bytes)
            guard let back = v.doubleValue else { return XCTFail("not a number: \(v)") }
            XCTAssertEqual(back.bitPattern, d.bitPattern, "\(d) -> \(String(decoding: w.bytes, as: UTF8.self))")
        }
    }

    func testFloatRoundTrip() throws {
        var rng = SplitMix64(seed: 7)
        var values: [Float] = [0, -0.0, 0.91, 1e-7, .leastNonzeroMagnitude, .leastNormalMagnitude, .greatestFiniteMagnitude, 16777216, 0.3]
        for _ in 0..<5000 {
            let f = Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()))
            if f.isFinite { values.append(f) }
            values.append(Float.random(in: 0...1, using: &rng))
        }
        let reader = JSONReader()
        for f in values {
            var w = JSONWriter()
            w.float(f)
            let text = String(decoding: w.bytes, as: UTF8.self)
            // A client parses the shortest text as float32 directly …
            XCTAssertEqual(Float(text)?.bitPattern, f.bitPattern, text)
            // … or as a double then narrows (what Python/NumPy and OutputDecoder do).
            let d = try reader.parse(w.bytes).doubleValue!
            XCTAssertEqual(Float(d).bitPattern, f.bitPattern, text)
        }
    }

    func testValueRoundTrip() throws {
        let v: JSONValue = ["a": [1, 2.5, "x", nil, true, ["nested": ["deep": []]]], "b": "é\n", "c": -3]
        var w = JSONWriter()
        w.value(v)
        XCTAssertEqual(try JSONReader().parse(w.bytes), v)
        XCTAssertEqual(v.description, #"{"a":[1,2.5,"x",null,true,{"nested":{"deep":[]}}],"b":"é\n","c":-3}"#)
    }
}
