import Foundation
import XCTest
import TTADZMQ

final class CertificateTests: XCTestCase {
    var directory: String!

    override func setUpWithError() throws {
        try XCTSkipUnless(ZMQContext.has("curve"), "libzmq built without CURVE")
        directory = try makeTemporaryDirectory()
    }

    override func tearDown() {
        if let directory { removeDirectory(directory) }
    }

    private func write(_ name: String, _ text: String) throws -> String {
        let path = directory + "/" + name
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        return path
    }

    private func mode(_ path: String) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return (attributes[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }

    func testSaveAndLoadRoundTrip() throws {
        let certificate = try ZMQCertificate.generate()
        let publicPath = directory + "/server"
        let secretPath = directory + "/server_secret"
        try certificate.save(publicPath: publicPath, secretPath: secretPath)
        XCTAssertEqual(try mode(secretPath), 0o600)
        XCTAssertEqual(try mode(publicPath), 0o644)

        let publicOnly = try ZMQCertificate.load(path: publicPath)
        XCTAssertEqual(publicOnly.publicKey, certificate.publicKey)
        XCTAssertNil(publicOnly.secretKey)
        XCTAssertEqual(try ZMQCertificate.load(path: secretPath), certificate)
        XCTAssertEqual(publicOnly.publicKeyBytes.count, 32)

        let publicText = try String(contentsOfFile: publicPath, encoding: .utf8)
        XCTAssertFalse(publicText.contains(certificate.secretKey!), "secret leaked into public file")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory).sorted(),
                       ["server", "server_secret"], "no temporary files left behind")

        // Saving again replaces the files (and keeps the secret file private).
        let other = try ZMQCertificate.generate()
        try other.save(publicPath: publicPath, secretPath: secretPath)
        XCTAssertEqual(try ZMQCertificate.load(path: secretPath), other)
        XCTAssertEqual(try mode(secretPath), 0o600)
    }

    func testLoadsCzmqStyleFile() throws {
        let pair = try ZMQCurve.generateKeyPair()
        let path = try write("peer_secret", """
            #   ****  Generated on 2024-01-01 by CZMQ  ****
            #   ZeroMQ CURVE **Secret** Certificate
            #   DO NOT PROVIDE THIS FILE TO OTHER USERS nor change its permissions.

            metadata
                name = "peer"    # a comment
                email = 'ops@example.org'
            curve
                public-key = "\(pair.publicKey)"
                secret-key = "\(pair.secretKey)"

            """)
        let certificate = try ZMQCertificate.load(path: path)
        XCTAssertEqual(certificate.publicKey, pair.publicKey)
        XCTAssertEqual(certificate.secretKey, pair.secretKey)
    }

    func testSavingASecretWithoutSecretKeyFails() throws {
        let publicOnly = try ZMQCertificate(publicKey: try ZMQCurve.generateKeyPair().publicKey, secretKey: nil)
        XCTAssertThrowsError(try publicOnly.save(publicPath: directory + "/p", secretPath: directory + "/p_secret"))
        XCTAssertThrowsError(try ZMQCertificate(publicKey: "short", secretKey: nil))
        let a = try ZMQCurve.generateKeyPair(), b = try ZMQCurve.generateKeyPair()
        XCTAssertThrowsError(try ZMQCertificate(publicKey: a.publicKey, secretKey: b.secretKey))
    }

    /// Asserts that loading `text` fails with an error naming the file and containing `reason`.
    private func assertMalformed(_ text: String, reason: String, line: Int? = nil,
                                 file: StaticString = #filePath, sourceLine: UInt = #line) throws {
        let path = try write("bad", text)
        XCTAssertThrowsError(try ZMQCertificate.load(path: path), file: file, line: sourceLine) { error in
            guard let certificateError = error as? ZMQCertificateError else {
                return XCTFail("unexpected \(error)", file: file, line: sourceLine)
            }
            XCTAssertEqual(certificateError.path, path, file: file, line: sourceLine)
            XCTAssertTrue(certificateError.reason.contains(reason), "\(certificateError)",
                          file: file, line: sourceLine)
            if let line { XCTAssertEqual(certificateError.line, line, file: file, line: sourceLine) }
            XCTAssertTrue("\(certificateError)".hasPrefix(path), file: file, line: sourceLine)
        }
    }

    func testMalformedFilesAreRejectedWithClearErrors() throws {
        let pair = try ZMQCurve.generateKeyPair()
        let other = try ZMQCurve.generateKeyPair()
        try assertMalformed("metadata\n", reason: "no \"curve\" section")
        try assertMalformed("curve\n    secret-key = \"\(pair.secretKey)\"\n", reason: "no public-key")
        try assertMalformed("curve\n    public-key = \"abc\"\n", reason: "public-key is not", line: 2)
        try assertMalformed("curve\n    public-key = \"\(pair.publicKey)\n", reason: "unterminated", line: 2)
        try assertMalformed("curve\n\tpublic-key = \"\(pair.publicKey)\"\n", reason: "tab", line: 2)
        try assertMalformed("curve\n  public-key = \"\(pair.publicKey)\"\n", reason: "multiple of 4", line: 2)
        try assertMalformed("curve\n    public-key \"\(pair.publicKey)\"\n", reason: "expected \"=\"", line: 2)
        try assertMalformed("curve\n    public-key = \"\(pair.publicKey)\"\n    public-key = \"\(pair.publicKey)\"\n",
                            reason: "duplicate", line: 3)
        try assertMalformed("curve\n    public-key = \"\(pair.publicKey)\"\n    secret-key = \"\(other.secretKey)\"\n",
                            reason: "does not belong", line: 3)
    }

    func testMissingFileErrorNamesThePath() {
        let path = directory + "/does-not-exist"
        XCTAssertThrowsError(try ZMQCertificate.load(path: path)) { error in
            XCTAssertEqual((error as? ZMQCertificateError)?.path, path)
            XCTAssertTrue("\(error)".contains("cannot open"), "\(error)")
        }
    }
}
