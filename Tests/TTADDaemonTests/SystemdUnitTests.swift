import Foundation
import XCTest

/// The shipped unit file passes systemd's own checks against the real binary.
final class SystemdUnitTests: XCTestCase {
    private func analyze(_ args: [String]) throws -> (Int32, String) {
        try runCommand("/usr/bin/systemd-analyze", args)
    }

    /// The unit with ExecStart pointing at the binary under test (verify checks it exists).
    private func unitUnderTest() throws -> String {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-analyze") else {
            throw XCTSkip("systemd-analyze is not installed")
        }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let text = try String(contentsOf: root.appendingPathComponent("systemd/ttad.service"), encoding: .utf8)
            .replacingOccurrences(of: "/usr/local/bin/ttad", with: try ttadExecutable().path)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ttad-unit-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("ttad.service").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func testUnitVerifiesWithoutWarnings() throws {
        let unit = try unitUnderTest()
        let (rc, out) = try analyze(["verify", unit])
        XCTAssertEqual(rc, 0, out)
        XCTAssertFalse(out.contains("Unknown key"), out)
        XCTAssertFalse(out.contains("Failed to parse"), out)
    }

    func testUnitIsHardened() throws {
        let unit = try unitUnderTest()
        let (_, out) = try analyze(["security", "--offline=true", unit])
        guard let line = out.split(separator: "\n").last(where: { $0.contains("Overall exposure level") }),
              let score = line.split(separator: " ").compactMap({ Double($0) }).first else {
            return XCTFail("no exposure score in: \(out)")
        }
        // 1.1 when written; a change that loosens the sandbox should be a conscious one.
        XCTAssertLessThanOrEqual(score, 1.5, out)
    }
}
