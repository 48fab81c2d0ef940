@testable import TTADProtocol
import XCTest

final class JSONReaderTests: XCTestCase {
    let reader = JSONReader()

    func parse(_ s: String) throws -> JSONValue { try reader.parse(s) }
    func parse(_ b: [UInt8]) throws -> JSONValue { try reader.parse(b) }

    func assertRejects(_ s: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try reader.parse(s), "accepted: \(s)", file: file, line: line)
    }

    func assertRejects(_ b: [UInt8], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try reader.parse(b), "accepted: \(b)", file: file, line: line)
    }

    func testScalarsAndContainers() throws {
        XCTAssertEqual(try parse("null"), .null)
        XCTAssertEqual(try parse(" true "), .bool(true))
        XCTAssertEqual(try parse("false"), .bool(false))
        XCTAssertEqual(try parse("\"x\""), .string("x"))
        XCTAssertEqual(try parse("[]"), .array([]))
        XCTAssertEqual(try parse("{}"), .object([]))
        XCTAssertEqual(try parse(" \t\r\n[1 , {\"a\" : [null]} ]\n"),
                       .array([.int(1), .object([JSONMember("a", .array([.null]))])]))
        let v = try parse(#"{"b":1,"a":2}"#)
        XCTAssertEqual(v.objectValue?.map(\.key), ["b", "a"], "member order is preserved")
        XCTAssertEqual(v["a"], .int(2))
    }

    func testEscapes() throws {
        XCTAssertEqual(try parse(#""\"\\\/\b\f\n\r\t""#), .string("\"\\/\u{08}\u{0C}\n\r\t"))
        XCTAssertEqual(try parse(#""\u0041\u00e9\u20AC\u0000""#), .string("Aé€\u{0}"))
        assertRejects(#""\x""#)
        assertRejects(#""\u12""#)
        assertRejects(#""\u12G4""#)
        assertRejects(#""\"#)
        assertRejects("\"a\tb\"") // raw control character
        assertRejects("\"a\nb\"")
        assertRejects("\"abc") // unterminated
    }

    func testUnicodeAndSurrogates() throws {
        XCTAssertEqual(try parse(#""\ud83d\ude00""#), .string("😀"))
        XCTAssertEqual(try parse(#""\uD834\uDD1E""#), .string("𝄞"))
        XCTAssertEqual(try parse("\"é😀中\""), .string("é😀中"))
        assertRejects(#""\ud83d""#) // lone high
        assertRejects(#""\ude00""#) // lone low
        assertRejects(#""\ud83dx""#)
        assertRejects(#""\ud83d\u0041""#) // high + non-low
        assertRejects(#""\ude00\ud83d""#) // reversed pair
        // Invalid UTF-8 inside strings.
        assertRejects([0x22, 0xC0, 0xAF, 0x22]) // overlong '/'
        assertRejects([0x22, 0xE0, 0x80, 0xAF, 0x22]) // overlong 3-byte
        assertRejects([0x22, 0xED, 0xA0, 0x80, 0x22]) // UTF-8 encoded surrogate
        assertRejects([0x22, 0xF4, 0x90, 0x80, 0x80, 0x22]) // > U+10FFFF
        assertRejects([0x22, 0xF5, 0x80, 0x80, 0x80, 0x22])
        assertRejects([0x22, 0xC3, 0x22]) // truncated sequence
        assertRejects([0x22, 0x80, 0x22]) // stray continuation
        assertRejects([0x22, 0xFF, 0x22])
        assertRejects([0xEF, 0xBB, 0xBF] + bytes("{}")) // BOM
    }

    func testNumbers() throws {
        XCTAssertEqual(try parse("0"), .int(0))
        XCTAssertEqual(try parse("-0"), .int(0))
        XCTAssertEqual(try parse("-12"), .int(-12))
        XCTAssertEqual(try parse("1e3"), .double(1000))
        XCTAssertEqual(try parse("1E+2"), .double(100))
        XCTAssertEqual(try parse("-0.5e-2"), .double(-0.005))
        XCTAssertEqual(try parse("0.1"), .double(0.1))
        XCTAssertEqual(try parse("1.5"), .double(1.5))
        XCTAssertEqual(try parse("-0.0"), .double(-0.0))
        XCTAssertEqual(try parse("1732240000.123456"), .double(1732240000.123456))
        XCTAssertEqual(try parse("2.2250738585072014e-308"), .double(2.2250738585072014e-308))
        XCTAssertEqual(try parse("5e-324"), .double(.leastNonzeroMagnitude))
        XCTAssertEqual(try parse("1e-400"), .double(0))
        XCTAssertEqual(try parse("1.7976931348623157e308"), .double(.greatestFiniteMagnitude))
        XCTAssertEqual(try parse("0.30000000000000004"), .double(0.30000000000000004))
        XCTAssertEqual(try parse("123456789012345678e-3"), .double(123456789012345.678))
        // Big integers.
        XCTAssertEqual(try parse("9007199254740993"), .int(9_007_199_254_740_993))
        XCTAssertEqual(try parse("9223372036854775807"), .int(.max))
        XCTAssertEqual(try parse("-9223372036854775808"), .int(.min))
        XCTAssertEqual(try parse("9223372036854775808"), .double(9_223_372_036_854_775_808))
        XCTAssertEqual(try parse("123456789012345678901234567890"), .double(1.2345678901234568e29))
        // Malformed or out of range.
        for bad in ["01", "-01", "+1", ".5", "1.", "1.e3", "1e", "1e+", "-", "--1", "0x10", "1_000",
                    "NaN", "nan", "Infinity", "-Infinity", "inf", "1e400", "-1e400", "1" + String(repeating: "0", count: 400)] {
            assertRejects(bad)
        }
    }

    func testDepthLimit() throws {
        let r = JSONReader(maxDepth: 4)
        XCTAssertNoThrow(try r.parse("[[[[1]]]]"))
        XCTAssertNoThrow(try r.parse(#"{"a":{"b":{"c":{}}}}"#))
        XCTAssertThrowsError(try r.parse("[[[[[1]]]]]"))
        XCTAssertThrowsError(try r.parse(#"{"a":{"b":{"c":{"d":{}}}}}"#))
        // Deep input does not blow the stack with the default limit.
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        XCTAssertThrowsError(try JSONReader(maxDepth: 64, maxBytes: 1 << 20).parse(deep))
    }

    func testSizeLimit() {
        XCTAssertThrowsError(try JSONReader(maxBytes: 4).parse("12345"))
        XCTAssertNoThrow(try JSONReader(maxBytes: 5).parse("12345"))
    }

    func testDuplicateKeys() {
        assertRejects(#"{"a":1,"a":2}"#)
        assertRejects(#"{"a":1,"\u0061":2}"#) // equal after unescaping
        assertRejects(#"{"x":{"a":1,"b":2,"a":3}}"#)
        // Beyond the linear-scan threshold (set path).
        let many = (0..<20).map { #""k\#($0)":\#($0)"# }.joined(separator: ",")
        XCTAssertNoThrow(try parse("{\(many)}"))
        assertRejects("{\(many),\"k3\":0}")
        XCTAssertNoThrow(try parse(#"{"a":1,"A":2,"a ":3}"#))
    }

    func testStructuralErrors() {
        for bad in ["", " ", "[1,]", "{\"a\":1,}", "[,1]", "{,}", "[1 2]", "{\"a\" 1}", "{\"a\":}", "{a:1}",
                    "{'a':1}", "[1] x", "{} {}", "[", "]", "{", "}", "tru", "nul", "True", "null1", "[1]]",
                    "{\"a\":1}}", "\"a\"\"b\"", "// c\n1", "[1,\n]"] {
            assertRejects(bad)
        }
    }

    func testErrorOffsets() {
        do {
            _ = try reader.parse(#"{"a":1,"a":2}"#)
            XCTFail("accepted")
        } catch {
            XCTAssertEqual(error.offset, 7)
            XCTAssertTrue(error.message.contains("duplicate"))
        }
    }

    func testTruncationOfEveryPrefixThrows() {
        let doc = bytes(#"{"a":[1,-2.5e3,"x\u00e9\ud83d\ude00",true,false,null],"b":{"c":"é"}}"#)
        XCTAssertNoThrow(try reader.parse(doc))
        for n in 0..<doc.count {
            XCTAssertThrowsError(try reader.parse(Array(doc[0..<n])), "prefix \(n) accepted")
        }
    }
}
