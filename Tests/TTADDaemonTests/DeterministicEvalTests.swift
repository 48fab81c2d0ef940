import Foundation
import XCTest

/// `ttad eval --config` runs the real daemon in process (deterministic mode: lossless PULL ingest,
/// one sample at a time), streams a Fashion-MNIST-C scenario to it over ZeroMQ and collects every
/// prediction. Replaying the same scenario must give the same predictions, bit for bit.
final class DeterministicEvalTests: XCTestCase {
    private var root: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    private func evalRun(_ exe: URL, dir: URL, name: String, extra: [String]) throws -> (lines: [String], report: [String: Any]) {
        let tsv = dir.appendingPathComponent("\(name).tsv").path
        let json = dir.appendingPathComponent("\(name).json").path
        let (status, output) = try runCommand(exe.path, [
            "eval", "--config", root.appendingPathComponent("deploy/ttad.toml").path,
            "--predictions-file", tsv, "--json", json, "--timeout", "60", "--strict",
        ] + extra)
        XCTAssertEqual(status, 0, output)
        // Written as predictions arrive into <file>.partial, moved into place when the run ends.
        XCTAssertFalse(FileManager.default.fileExists(atPath: tsv + ".partial"), "the partial file is renamed at the end")
        let lines = try String(contentsOfFile: tsv, encoding: .utf8).split(separator: "\n").map(String.init)
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any] ?? [:]
        return (lines, report)
    }

    func testReplayingAScenarioGivesIdenticalPredictions() throws {
        let exe = try ttadExecutable()
        guard FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz") else {
            throw XCTSkip("Debian package dataset-fashion-mnist not installed (tools/setup.sh installs it)")
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ttad-replay-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        // Every domain of the continual scenario, a few samples each, with outliers mixed in.
        let scenario = ["--scenario", "continual", "--per-domain", "4", "--outliers", "0.2", "--seed", "3"]
        let a = try evalRun(exe, dir: dir, name: "a", extra: scenario)
        let b = try evalRun(exe, dir: dir, name: "a", extra: scenario)   // over the first run's files
        XCTAssertEqual(a.lines.count, 1 + 40, "header + one line per sample")
        XCTAssertEqual(a.lines, b.lines, "a replay must give identical predictions")
        XCTAssertEqual(a.report["predictions"] as? Int, 40)
        XCTAssertEqual(a.report["errors"] as? Int, 0)
        // Ids carry each of the ten domains, in order, and outliers (labels 8, 9) are among them.
        let ids = a.lines.dropFirst().map { $0.split(separator: "\t")[0] }
        XCTAssertEqual(Set(ids.map { $0.split(separator: "|")[0] }).count, 10)
        XCTAssertTrue(a.lines.dropFirst().contains { ["8", "9"].contains(String($0.split(separator: "\t")[1])) })
        // A different seed is a different stream: the check above can fail.
        let c = try evalRun(exe, dir: dir, name: "c", extra: ["--scenario", "continual", "--per-domain", "4", "--outliers", "0.2", "--seed", "4"])
        XCTAssertNotEqual(a.lines, c.lines)
        // The other compositions take the same path: gradual, label-correlated, cycled (long).
        let g = try evalRun(exe, dir: dir, name: "g", extra: ["--scenario", "gradual", "--per-domain", "1", "--gamma", "0.5",
                                                              "--long", "100", "--limit", "100", "--severity-in-id"])
        XCTAssertEqual(g.lines.count, 1 + 100)
        XCTAssertEqual(g.report["errors"] as? Int, 0)
        XCTAssertTrue(g.lines.dropFirst().contains { $0.hasPrefix("gaussian_noise@5|") }, "severity in the id")
    }
}
