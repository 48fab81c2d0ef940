import XCTest
import TTADZMQ

final class CurveTests: XCTestCase {
    func testZ85MatchesTheRFCTestVector() {
        let raw: [UInt8] = [0x86, 0x4F, 0xD2, 0x6F, 0xB5, 0x59, 0xF7, 0x5B]
        XCTAssertEqual(ZMQCurve.z85Encode(raw), "HelloWorld")
        XCTAssertEqual(ZMQCurve.z85Decode("HelloWorld"), raw)
    }

    func testZ85RoundTripsArbitraryBytes() {
        var generator = SystemRandomNumberGenerator()
        for length in [0, 4, 32, 64] {
            let raw = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let text = ZMQCurve.z85Encode(raw)
            XCTAssertEqual(text?.count, length / 4 * 5)
            XCTAssertEqual(text.flatMap(ZMQCurve.z85Decode), raw)
        }
        XCTAssertEqual(ZMQCurve.z85Encode([0xFF, 0xFF, 0xFF, 0xFF]), "%nSc0")
        XCTAssertEqual(ZMQCurve.z85Decode("%nSc0"), [0xFF, 0xFF, 0xFF, 0xFF])
        XCTAssertEqual(ZMQCurve.z85Decode("00000"), [0, 0, 0, 0])
    }

    func testZ85RejectsInvalidInput() {
        XCTAssertNil(ZMQCurve.z85Encode([1, 2, 3]), "length not a multiple of 4")
        XCTAssertNil(ZMQCurve.z85Decode("Hello"+"Worl"), "length not a multiple of 5")
        XCTAssertNil(ZMQCurve.z85Decode("Hello\"orld"), "quote is not in the alphabet")
        XCTAssertNil(ZMQCurve.z85Decode("Hello orld"), "space is not in the alphabet")
        XCTAssertNil(ZMQCurve.z85Decode("Hell\u{e9}"), "non-ASCII")
        XCTAssertNil(ZMQCurve.z85Decode("#####"), "group value above 2^32 - 1")
        XCTAssertNil(ZMQCurve.z85Decode("%nSc1"), "2^32 exactly")
        XCTAssertFalse(ZMQCurve.isValidKey("HelloWorld"))
    }

    func testKeyPairGenerationAndPublicKeyDerivation() throws {
        try XCTSkipUnless(ZMQContext.has("curve"), "libzmq built without CURVE")
        let pair = try ZMQCurve.generateKeyPair()
        XCTAssertEqual(pair.publicKey.count, 40)
        XCTAssertEqual(pair.secretKey.count, 40)
        XCTAssertTrue(ZMQCurve.isValidKey(pair.publicKey))
        XCTAssertEqual(ZMQCurve.z85Decode(pair.secretKey)?.count, 32)
        // libzmq's own encoder and ours agree.
        XCTAssertEqual(ZMQCurve.z85Decode(pair.publicKey).flatMap(ZMQCurve.z85Encode), pair.publicKey)
        XCTAssertEqual(try ZMQCurve.publicKey(fromSecret: pair.secretKey), pair.publicKey)
        XCTAssertNotEqual(try ZMQCurve.generateKeyPair().publicKey, pair.publicKey)
    }

    func testPublicKeyFromInvalidSecretThrows() {
        XCTAssertThrowsError(try ZMQCurve.publicKey(fromSecret: "too short")) { error in
            XCTAssertEqual((error as? ZMQError)?.code, EINVAL)
        }
        XCTAssertThrowsError(try ZMQCurve.publicKey(fromSecret: String(repeating: "#", count: 40)))
    }

    func testCurveSocketOptionsValidateKeys() throws {
        let context = try ZMQContext()
        defer { context.terminate() }
        let socket = try ZMQSocket(context: context, type: .pull)
        defer { socket.close() }
        XCTAssertThrowsError(try socket.setCurveServer(secretKey: "bad")) { error in
            XCTAssertTrue("\(error)".contains("CURVE secret key"), "\(error)")
        }
        XCTAssertThrowsError(try socket.setCurveClient(serverPublicKey: "bad", publicKey: "bad",
                                                       secretKey: "bad"))
    }
}
