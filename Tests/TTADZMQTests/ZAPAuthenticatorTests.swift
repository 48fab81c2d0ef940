import Foundation
import XCTest
import TTADZMQ

/// ZAP protocol handling, driven directly with a REQ socket playing libzmq's part.
final class ZAPAuthenticatorTests: XCTestCase {
    var context: ZMQContext!
    var directory: String!

    override func setUpWithError() throws {
        try XCTSkipUnless(ZMQContext.has("curve"), "libzmq built without CURVE")
        context = try ZMQContext()
        directory = try makeTemporaryDirectory()
    }

    override func tearDown() {
        context?.terminate()
        context = nil
        if let directory { removeDirectory(directory) }
    }

    /// Sends `request` to the authenticator and pumps it; returns its decision and the reply.
    private func exchange(_ request: [[UInt8]], with authenticator: ZAPAuthenticator,
                          client: ZMQSocket) throws -> (ZAPDecision?, [[UInt8]]?) {
        XCTAssertTrue(try client.send(request))
        let poller = ZMQPoller()
        poller.add(authenticator.socket, events: .readable)
        XCTAssertEqual(try poller.poll(timeoutMilliseconds: 2000), 1)
        let decision = try authenticator.handleRequest()
        return (decision, try receive(client))
    }

    private func request(id: String, domain: String = "ttad", mechanism: String,
                         credentials: [[UInt8]]) -> [[UInt8]] {
        [bytes("1.0"), bytes(id), bytes(domain), bytes("10.0.0.7"), [], bytes(mechanism)] + credentials
    }

    func testDecisionsFollowTheAllowList() throws {
        let allowedKey = pattern(32, seed: 1)
        let otherKey = pattern(32, seed: 2)
        let authenticator = try ZAPAuthenticator(context: context, allowedClientKeys: [allowedKey])
        defer { authenticator.socket.close() }
        let client = try ZMQSocket(context: context, type: .req)
        defer { client.close() }
        try client.connect(ZAPAuthenticator.endpoint)

        XCTAssertNil(try authenticator.handleRequest(), "nothing pending")

        var (decision, reply) = try exchange(request(id: "1", mechanism: "CURVE", credentials: [allowedKey]),
                                             with: authenticator, client: client)
        XCTAssertEqual(decision?.allowed, true)
        XCTAssertEqual(decision?.mechanism, "CURVE")
        XCTAssertEqual(decision?.address, "10.0.0.7")
        XCTAssertEqual(decision?.clientKeyZ85, ZMQCurve.z85Encode(allowedKey))
        XCTAssertEqual(reply, [bytes("1.0"), bytes("1"), bytes("200"), bytes("OK"),
                               bytes(ZMQCurve.z85Encode(allowedKey)!), []])

        (decision, reply) = try exchange(request(id: "2", mechanism: "CURVE", credentials: [otherKey]),
                                         with: authenticator, client: client)
        XCTAssertEqual(decision?.allowed, false)
        XCTAssertEqual(decision?.reason, "client key not allowed")
        XCTAssertEqual(reply, [bytes("1.0"), bytes("2"), bytes("400"), bytes("client key not allowed"), [], []])

        (decision, reply) = try exchange(request(id: "3", mechanism: "PLAIN", credentials: [bytes("u"), bytes("p")]),
                                         with: authenticator, client: client)
        XCTAssertEqual(decision?.allowed, false)
        XCTAssertEqual(reply?[2], bytes("400"))

        (decision, reply) = try exchange(request(id: "4", domain: "", mechanism: "CURVE", credentials: [allowedKey]),
                                         with: authenticator, client: client)
        XCTAssertEqual(decision?.allowed, false, "wrong/missing domain fails closed")
        XCTAssertEqual(reply?[2], bytes("400"))

        XCTAssertEqual(authenticator.allowed, 1)
        XCTAssertEqual(authenticator.denied, 3)

        // Reloading the allow-list affects later requests.
        try authenticator.setAllowedClientKeys([otherKey])
        (decision, _) = try exchange(request(id: "5", mechanism: "CURVE", credentials: [otherKey]),
                                     with: authenticator, client: client)
        XCTAssertEqual(decision?.allowed, true)
    }

    func testMalformedRequestsGetA500AndKeepTheSocketUsable() throws {
        let authenticator = try ZAPAuthenticator(context: context, allowedClientKeys: [])
        defer { authenticator.socket.close() }
        let client = try ZMQSocket(context: context, type: .req)
        defer { client.close() }
        try client.connect(ZAPAuthenticator.endpoint)

        var (decision, reply) = try exchange([bytes("2.0"), bytes("7"), bytes("ttad"), [], [], bytes("CURVE"), []],
                                             with: authenticator, client: client)
        XCTAssertEqual(decision?.statusCode, "500")
        XCTAssertEqual(reply?[1], bytes("7"))
        XCTAssertEqual(reply?[2], bytes("500"))

        (decision, reply) = try exchange(request(id: "8", mechanism: "CURVE", credentials: [pattern(31)]),
                                         with: authenticator, client: client)
        XCTAssertEqual(decision?.statusCode, "500")

        let tooLong = request(id: "9", mechanism: "PLAIN", credentials: (0..<20).map { pattern(3, seed: $0) })
        (decision, reply) = try exchange(tooLong, with: authenticator, client: client)
        XCTAssertEqual(decision?.statusCode, "500")
        XCTAssertEqual(reply?[1], bytes("9"), "request id still echoed")
        XCTAssertEqual(authenticator.denied, 3)
    }

    func testRejectsBadKeysAndSecondHandler() throws {
        XCTAssertThrowsError(try ZAPAuthenticator(context: context, allowedClientKeys: [pattern(31)]))
        let first = try ZAPAuthenticator(context: context, allowedClientKeys: [])
        defer { first.socket.close() }
        XCTAssertThrowsError(try ZAPAuthenticator(context: context, allowedClientKeys: [])) { error in
            XCTAssertEqual((error as? ZMQError)?.code, EADDRINUSE)
        }
        XCTAssertThrowsError(try first.setAllowedClientKeys([[1, 2, 3]]))
    }

    func testLoadAllowListFromDirectory() throws {
        let a = try ZMQCertificate.generate()
        try a.save(publicPath: directory + "/client-a", secretPath: directory + "/client-a_secret")
        let b = try ZMQCurve.generateKeyPair(), c = try ZMQCurve.generateKeyPair()
        try """
            # operators' workstations
            \(b.publicKey)
              \(c.publicKey)   # trailing comment

            """.write(toFile: directory + "/keys.txt", atomically: false, encoding: .utf8)
        try "garbage".write(toFile: directory + "/other_secret", atomically: false, encoding: .utf8)
        try "garbage".write(toFile: directory + "/.hidden", atomically: false, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: directory + "/subdir", withIntermediateDirectories: false)

        let keys = try ZAPAuthenticator.loadAllowList(directory: directory)
        XCTAssertEqual(keys, [a.publicKeyBytes, ZMQCurve.z85Decode(b.publicKey)!,
                              ZMQCurve.z85Decode(c.publicKey)!])

        try "\(b.publicKey)\nnot-a-key\n".write(toFile: directory + "/zz-bad", atomically: false, encoding: .utf8)
        XCTAssertThrowsError(try ZAPAuthenticator.loadAllowList(directory: directory)) { error in
            let certificateError = error as? ZMQCertificateError
            XCTAssertEqual(certificateError?.path, directory + "/zz-bad")
            XCTAssertEqual(certificateError?.line, 2)
        }
        XCTAssertThrowsError(try ZAPAuthenticator.loadAllowList(directory: directory + "/missing"))
    }

    func testEmptyDirectoryGivesEmptyAllowList() throws {
        XCTAssertEqual(try ZAPAuthenticator.loadAllowList(directory: directory), [])
    }
}
