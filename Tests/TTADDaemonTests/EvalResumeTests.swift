import Foundation
import XCTest

/// `ttad eval --resume`: a run stopped early (a shorter --limit) or killed (a partial predictions
/// file cut mid-line, checkpoints ahead of it) and then resumed gives, line for line, the
/// predictions of the uninterrupted run — with adaptation steps in between, so the adapted state
/// must come back whole for that to hold.
final class EvalResumeTests: XCTestCase {
    private var dir: URL!
    private var config: String!

    override func setUpWithError() throws {
        guard FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz") else {
            throw XCTSkip("Debian package dataset-fashion-mnist not installed (tools/setup.sh installs it)")
        }
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("ttad-resume-\(getpid())-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        config = dir.appendingPathComponent("eval.toml").path
        // The small test model, steps every 2 samples, a checkpoint every 4.
        try """
        [daemon]
        mode = "image"
        [classifier]
        top_k = 2
        [model]
        folder = "\(DaemonImageModeTests.modelFolder)"
        class_names = ["T-shirt/top", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker"]
        [metrics]
        enabled = false
        [state]
        checkpoint_every_samples = 4
        keep_checkpoints = 3
        [adaptation]
        preset = "ttad"
        learning_rate = 0.01
        update_every_samples = 2
        min_bank_items = 2
        [adaptation.bank]
        capacity = 8
        entropy_fraction = 1.0
        [adaptation.guard]
        cooldown_samples = 0
        [adaptation.label_gate]
        warmup_samples = 0
        """.write(toFile: config, atomically: true, encoding: .utf8)
    }

    override func tearDownWithError() throws {
        if let dir { try? FileManager.default.removeItem(at: dir) }
    }

    private func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

    @discardableResult
    private func eval(_ state: String, _ tsv: String, _ extra: [String], fails: Bool = false) throws -> String {
        let (status, output) = try runCommand(try ttadExecutable().path, [
            "eval", "--config", config, "--state-dir", path(state), "--predictions-file", path(tsv),
            "--scenario", "continual", "--per-domain", "3", "--seed", "5", "--timeout", "60", "--strict",
        ] + extra)
        if fails { XCTAssertNotEqual(status, 0, output) } else { XCTAssertEqual(status, 0, output) }
        return output
    }

    private func lines(_ tsv: String) throws -> [String] {
        try String(contentsOfFile: path(tsv), encoding: .utf8).split(separator: "\n").map(String.init)
    }

    func testResumedRunsEqualTheUninterruptedRun() throws {
        let straight = try eval("s-straight", "straight.tsv", [])
        let reference = try lines("straight.tsv")
        XCTAssertEqual(reference.count, 1 + 30)
        XCTAssertEqual(reference[0], "id\tlabel\tpredicted\tentropy\toutlier_score\toutlier\tconfidence")
        let steps = try XCTUnwrap(straight.split(separator: "\n").first { $0.hasPrefix("adaptation:") })
        XCTAssertFalse(steps.contains(" 0 steps"), "adaptation must step for the test to mean anything: \(steps)")

        // Stopped at 13 by --limit, then extended to the whole scenario.
        try eval("s-limit", "limit.tsv", ["--limit", "13"])
        XCTAssertEqual(try lines("limit.tsv").count, 1 + 13)
        let resumed = try eval("s-limit", "limit.tsv", ["--resume"])
        XCTAssertTrue(resumed.contains("resuming at sample 13 from checkpoint"), resumed)
        XCTAssertEqual(try lines("limit.tsv"), reference, "a resumed run must equal the uninterrupted one")
        XCTAssertTrue(resumed.contains("eval: 30 predictions"), "the report covers the whole run: \(resumed)")

        // Killed: the partial file reaches sample 17 plus a line cut mid-write, while the newest
        // checkpoint (22) is ahead of it: the run goes back to the newest checkpoint it covers.
        try eval("s-kill", "kill.tsv", ["--limit", "22"])
        let kept = try lines("kill.tsv").prefix(1 + 18).joined(separator: "\n") + "\n" + "gaussian_blur|18\t3"
        try kept.write(toFile: path("kill.tsv.partial"), atomically: true, encoding: .utf8)
        try FileManager.default.removeItem(atPath: path("kill.tsv"))
        let afterKill = try eval("s-kill", "kill.tsv", ["--resume"])
        let match = try XCTUnwrap(afterKill.firstMatch(of: try Regex("resuming at sample ([0-9]+) from checkpoint")), afterKill)
        let at = try XCTUnwrap(match.output[1].substring.flatMap { Int($0) })
        XCTAssertTrue((1...18).contains(at) && at % 4 == 0, "back to a periodic checkpoint the file covers: \(afterKill)")
        XCTAssertTrue(afterKill.contains("\(18 - at) later predictions of the earlier run dropped"), afterKill)
        XCTAssertEqual(try lines("kill.tsv"), reference)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("kill.tsv.partial")))

        // A file written before the confidence column continues; its kept lines get an empty one.
        try eval("s-old", "old.tsv", ["--limit", "13"])
        func withoutConfidence(_ line: String) -> String {
            line.split(separator: "\t", omittingEmptySubsequences: false).dropLast().joined(separator: "\t")
        }
        try (try lines("old.tsv").map(withoutConfidence).joined(separator: "\n") + "\n")
            .write(toFile: path("old.tsv"), atomically: true, encoding: .utf8)
        try eval("s-old", "old.tsv", ["--resume"])
        let continued = try lines("old.tsv")
        XCTAssertEqual(continued.count, reference.count)
        XCTAssertEqual(continued[0], reference[0])
        XCTAssertEqual(Array(continued[1...13]), reference[1...13].map { withoutConfidence($0) + "\t" })
        XCTAssertEqual(Array(continued[14...]), Array(reference[14...]))
    }

    func testMisuseIsRefusedWithAClearError() throws {
        try eval("s", "a.tsv", ["--limit", "6"])
        // The same state directory without --resume would mix a continuation with a fresh start.
        let again = try eval("s", "a.tsv", ["--limit", "6"], fails: true)
        XCTAssertTrue(again.contains("pass --resume"), again)
        // Another seed is another stream: the file does not match it, nothing can be continued.
        let other = try eval("s", "a.tsv", ["--resume", "--seed", "6"], fails: true)
        XCTAssertTrue(other.contains("start over"), other)
        XCTAssertEqual(try lines("a.tsv").count, 1 + 6, "a refused resume leaves the earlier file alone")
        // Settings the file cannot show: another severity (same ids and labels), another learning rate.
        let severity = try eval("s", "a.tsv", ["--resume", "--severity", "4"], fails: true)
        XCTAssertTrue(severity.contains("other settings") && severity.contains("severity = 5"), severity)
        let original = try String(contentsOfFile: config, encoding: .utf8)
        try original.replacingOccurrences(of: "learning_rate = 0.01", with: "learning_rate = 0.02")
            .write(toFile: config, atomically: true, encoding: .utf8)
        let rate = try eval("s", "a.tsv", ["--resume"], fails: true)
        XCTAssertTrue(rate.contains("other settings") && rate.contains("0.02"), rate)
        try original.write(toFile: config, atomically: true, encoding: .utf8)
        try eval("s", "a.tsv", ["--resume"])   // the same settings again: it continues
        XCTAssertEqual(try lines("a.tsv").count, 1 + 30)
        // --resume needs the run's state and file.
        let (status, output) = try runCommand(try ttadExecutable().path, ["eval", "--config", config, "--resume"])
        XCTAssertEqual(status, 64, output)
        XCTAssertTrue(output.contains("--resume needs"), output)
    }
}
