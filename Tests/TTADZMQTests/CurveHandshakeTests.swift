import Foundation
import XCTest
import TTADZMQ

/// End-to-end CURVE + ZAP over TCP loopback. Everything runs on the test thread: the test thread
/// owns the server, the ZAP socket and the clients, and pumps the authenticator itself.
final class CurveHandshakeTests: XCTestCase {
    var context: ZMQContext!
    var server: ZMQSocket!
    var authenticator: ZAPAuthenticator!
    var endpoint = ""
    var serverKeys: (publicKey: String, secretKey: String) = ("", "")
    var clientA: (publicKey: String, secretKey: String) = ("", "")

    override func setUpWithError() throws {
        try XCTSkipUnless(ZMQContext.has("curve"), "libzmq built without CURVE")
        context = try ZMQContext()
        serverKeys = try ZMQCurve.generateKeyPair()
        clientA = try ZMQCurve.generateKeyPair()
        // The ZAP handler must exist before the server accepts connections.
        authenticator = try ZAPAuthenticator(context: context,
                                             allowedClientKeys: [ZMQCurve.z85Decode(clientA.publicKey)!])
        server = try ZMQSocket(context: context, type: .pull)
        try server.setCurveServer(secretKey: serverKeys.secretKey)
        try server.setZAPDomain("ttad")
        endpoint = try bindEphemeralTCP(server)
    }

    override func tearDown() {
        server?.close()
        authenticator?.socket.close()
        context?.terminate()
        context = nil
    }

    private func makeClient(_ keys: (publicKey: String, secretKey: String)) throws -> ZMQSocket {
        let client = try ZMQSocket(context: context, type: .push)
        try client.setCurveClient(serverPublicKey: serverKeys.publicKey, publicKey: keys.publicKey,
                                  secretKey: keys.secretKey)
        try client.setReconnectInterval(milliseconds: 100, max: 1000)
        try client.connect(endpoint)
        return client
    }

    /// Polls the ZAP socket and the server for up to `milliseconds`, handling ZAP requests;
    /// stops early when `until` says so. Returns the messages received by the server.
    private func pump(for milliseconds: Double, until: ([[[UInt8]]]) -> Bool) throws -> [[[UInt8]]] {
        var ignored: [String?] = []
        return try pump(for: milliseconds, until: until, userIDs: &ignored)
    }

    private func pump(for milliseconds: Double, until: ([[[UInt8]]]) -> Bool,
                      userIDs: inout [String?]) throws -> [[[UInt8]]] {
        let poller = ZMQPoller()
        let zapIndex = poller.add(authenticator.socket, events: .readable)
        let serverIndex = poller.add(server, events: .readable)
        var received: [[[UInt8]]] = []
        let deadline = nowMilliseconds() + milliseconds
        while nowMilliseconds() < deadline && !until(received) {
            try poller.poll(timeoutMilliseconds: 20)
            if poller.isReadable(zapIndex) {
                while try authenticator.handleRequest() != nil {}
            }
            if poller.isReadable(serverIndex) {
                while let message = try server.receiveMultipart(dontWait: true) {
                    received.append(message)
                    // Properties must be read before the next receive attempt (even a failed one).
                    userIDs.append(server.lastReceivedProperty("User-Id"))
                }
            }
        }
        return received
    }

    func testAllowedClientExchangesMessages() throws {
        let client = try makeClient(clientA)
        defer { client.close() }
        XCTAssertTrue(try client.send([bytes("hello"), pattern(100)]))
        var userIDs: [String?] = []
        let received = try pump(for: 5000, until: { !$0.isEmpty }, userIDs: &userIDs)
        XCTAssertEqual(received, [[bytes("hello"), pattern(100)]])
        XCTAssertEqual(userIDs, [clientA.publicKey], "ZAP user id is the client's key")
        XCTAssertEqual(authenticator.allowed, 1)
        XCTAssertEqual(authenticator.denied, 0)
    }

    func testUnknownClientIsRefused() throws {
        let clientB = try ZMQCurve.generateKeyPair()
        let client = try makeClient(clientB)
        defer { client.close() }
        XCTAssertTrue(try client.send([bytes("let me in")]))
        var received = try pump(for: 5000) { _ in self.authenticator.denied > 0 }
        XCTAssertGreaterThanOrEqual(authenticator.denied, 1)
        received += try pump(for: 300) { _ in false }  // and still nothing gets through
        XCTAssertEqual(received, [])
        XCTAssertEqual(authenticator.allowed, 0)
    }

    func testAllowedAndRefusedClientsSideBySide() throws {
        let clientB = try ZMQCurve.generateKeyPair()
        let refused = try makeClient(clientB)
        let accepted = try makeClient(clientA)
        defer { refused.close(); accepted.close() }
        XCTAssertTrue(try refused.send([bytes("from B")]))
        XCTAssertTrue(try accepted.send([bytes("from A")]))
        let received = try pump(for: 5000) { !$0.isEmpty && self.authenticator.denied > 0 }
        XCTAssertEqual(received, [[bytes("from A")]])
        XCTAssertEqual(authenticator.allowed, 1)
        XCTAssertGreaterThanOrEqual(authenticator.denied, 1)
    }

    func testWrongZAPDomainFailsClosed() throws {
        let other = try ZMQSocket(context: context, type: .pull)
        defer { other.close() }
        try other.setCurveServer(secretKey: serverKeys.secretKey)  // no setZAPDomain
        let otherEndpoint = try bindEphemeralTCP(other)
        let client = try ZMQSocket(context: context, type: .push)
        defer { client.close() }
        try client.setCurveClient(serverPublicKey: serverKeys.publicKey, publicKey: clientA.publicKey,
                                  secretKey: clientA.secretKey)
        try client.connect(otherEndpoint)
        XCTAssertTrue(try client.send([bytes("x")]))
        let poller = ZMQPoller()
        poller.add(authenticator.socket, events: .readable)
        var decision: ZAPDecision?
        let deadline = nowMilliseconds() + 5000
        while decision == nil && nowMilliseconds() < deadline {
            try poller.poll(timeoutMilliseconds: 20)
            decision = try authenticator.handleRequest()
        }
        XCTAssertEqual(decision?.allowed, false)
        XCTAssertEqual(decision?.domain, "")
        XCTAssertEqual(decision?.clientKeyZ85, clientA.publicKey)
        XCTAssertNil(try receive(other, within: 100))
    }
}
