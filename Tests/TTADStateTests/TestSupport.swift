import Foundation
import Logging
import Synchronization
import XCTest
@testable import TTADState

/// Log lines captured from a store, to assert that recovery is loud.
final class LogCapture: Sendable {
    struct Line: Sendable { var level: Logger.Level; var message: String }
    private let storage = Mutex<[Line]>([])
    var lines: [Line] { storage.withLock { $0 } }
    func append(_ line: Line) { storage.withLock { $0.append(line) } }

    var logger: Logger {
        Logger(label: "ttad.state.test") { _ in Handler(capture: self) }
    }

    private struct Handler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            capture.append(Line(level: event.level, message: event.message.description))
        }
    }
}

/// Base class: a fresh temporary state directory per test, removed afterwards.
class StateTestCase: XCTestCase {
    /// The state directory under test (a test may point it deeper inside `root`).
    var dir: String = ""
    /// The per-test temporary directory, removed in tearDown.
    private var root: String = ""
    let logs = LogCapture()

    static let fingerprint = StateFingerprint(
        modelID: "clip-vit-b32",
        modelSHA256: String(repeating: "a1", count: 32),
        configSHA256: String(repeating: "c3", count: 32))

    override func setUpWithError() throws {
        root = NSTemporaryDirectory() + "ttad-state-test-" + UUID().uuidString
        dir = root
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        // Restore permissions a test may have removed, then delete everything.
        _ = chmod(dir, 0o755)
        try? FileManager.default.removeItem(atPath: root)
    }

    var dbPath: String { dir + "/ttad.sqlite" }

    func open(_ fingerprint: StateFingerprint = StateTestCase.fingerprint,
              options: StateStoreOptions = StateStoreOptions(),
              file: StaticString = #filePath, line: UInt = #line) throws -> (StateStore, StateOpenOutcome) {
        try StateStore.open(directory: dir, fingerprint: fingerprint, logger: logs.logger, options: options)
    }

    /// Files in the state directory, sorted, excluding the lock file.
    func directoryListing() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0 != "ttad.lock" }.sorted()
    }

    func readBytes(_ path: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    func assertMovedAside(_ outcome: StateOpenOutcome, token: String,
                          file: StaticString = #filePath, line: UInt = #line) -> (reason: String, movedTo: String)? {
        guard case let .movedAside(reason, movedTo) = outcome else {
            XCTFail("expected movedAside(\(token)), got \(outcome)", file: file, line: line)
            return nil
        }
        XCTAssertTrue(reason.hasPrefix(token + ": "), "reason '\(reason)' should start with '\(token): '", file: file, line: line)
        XCTAssertTrue(movedTo.hasPrefix(dbPath + "." + token + "."), "moved to \(movedTo)", file: file, line: line)
        XCTAssertTrue(FileManager.default.fileExists(atPath: movedTo) || token == "orphan", file: file, line: line)
        XCTAssertTrue(logs.lines.contains { $0.level == .critical && $0.message.contains(movedTo) && $0.message.contains(token) },
                      "a critical log line must name the reason and the new path", file: file, line: line)
        return (reason, movedTo)
    }
}

/// Floats whose bit patterns a lossy encoding would not preserve.
let trickyFloats: [Float] = [
    0, -0.0, 1, -1, .pi, Float.leastNonzeroMagnitude, -Float.leastNonzeroMagnitude,
    Float.leastNormalMagnitude.nextDown, Float(bitPattern: 0x0000_1234), Float(bitPattern: 0x8040_0001),
    .greatestFiniteMagnitude, -.greatestFiniteMagnitude, .infinity, -.infinity,
    Float(bitPattern: 0x7FC0_0001), Float(bitPattern: 0xFFA0_0042), 1e-30, 123456.789,
]

func bits(_ values: [Float]) -> [UInt32] { values.map(\.bitPattern) }

func deterministicBytes(_ count: Int, seed: UInt64) -> [UInt8] {
    var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
    return (0..<count).map { _ in
        state ^= state << 13; state ^= state >> 7; state ^= state << 17
        return UInt8(truncatingIfNeeded: state)
    }
}
