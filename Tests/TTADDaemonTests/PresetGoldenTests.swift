import Foundation
import XCTest

/// Every preset, run by `ttad eval` in deterministic mode on a short continual stream with
/// outliers (the first 30 of the fixtures' 60 samples, to keep the suite quick), gives exactly the predictions (class, entropy and outlier score to the last digit)
/// it gave before the presets moved out of the daemon into `TTADPresets`: the fixtures in
/// `Fixtures/preset-golden` were written by the binary of the commit before that move (bb70801).
///
/// OpenBLAS is pinned to its Haswell kernels, so the same floats come out on AVX2 and AVX-512
/// machines. When a change to a preset is meant to change its predictions, rewrite its fixture
/// with `TTAD_WRITE_GOLDEN=1` and say so in the commit.
final class PresetGoldenTests: XCTestCase {
    private var root: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }
    private var fixtures: URL { root.appendingPathComponent("Tests/TTADDaemonTests/Fixtures/preset-golden") }

    /// deploy/ttad.toml with the bundled model's absolute path and small settings, so every
    /// preset steps several times within 60 samples in a debug build (`ttad`'s label-gate
    /// warm-up shortened to 16 samples: at its default, 128, nothing would adapt).
    private func config(preset: String, in dir: URL) throws -> String {
        var s = try String(contentsOf: root.appendingPathComponent("deploy/ttad.toml"), encoding: .utf8)
        s = s.replacingOccurrences(of: "folder = \"models/fmnist-clip\"",
                                   with: "folder = \"\(root.appendingPathComponent("deploy/models/fmnist-clip").path)\"")
        let start = try XCTUnwrap(s.range(of: "[adaptation]"))
        let end = s.range(of: "\n[", range: start.upperBound..<s.endIndex)?.lowerBound ?? s.endIndex
        s.replaceSubrange(start.lowerBound..<end, with: """
            [adaptation]
            preset = "\(preset)"
            update_every_samples = 4
            min_bank_items = 4

            [adaptation.label_gate]
            warmup_samples = 16

            [adaptation.tpt]
            views = 4
            slots = 3

            [adaptation.rotta]
            update_every_samples = 8
            capacity = 8

            [adaptation.stamp]
            views = 3
            update_every_samples = 8
            capacity = 8

            """)
        let path = dir.appendingPathComponent("\(preset).toml").path
        try s.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func testEveryPresetPredictsAsBeforeTheLayerMoved() throws {
        let exe = try ttadExecutable()
        guard FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz") else {
            throw XCTSkip("Debian package dataset-fashion-mnist not installed (tools/setup.sh installs it)")
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ttad-golden-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let write = ProcessInfo.processInfo.environment["TTAD_WRITE_GOLDEN"] == "1"
        for preset in ["frozen", "ttad", "tda", "tpt", "dynaprompt", "rotta", "stamp"] {
            let tsv = dir.appendingPathComponent("\(preset).tsv")
            let (status, output) = try runCommand(exe.path, [
                "eval", "--config", try config(preset: preset, in: dir), "--scenario", "continual", "--per-domain", "6",
                "--outliers", "0.1", "--seed", "5", "--limit", write ? "60" : "30", "--predictions-file", tsv.path, "--timeout", "120", "--strict",
            ], environment: ["OPENBLAS_CORETYPE": "Haswell"])
            XCTAssertEqual(status, 0, "\(preset): \(output)")
            let golden = fixtures.appendingPathComponent("\(preset).tsv")
            if write { try Data(contentsOf: tsv).write(to: golden) }
            // The goldens predate the `confidence` column: compare the six columns they have.
            func sixColumns(_ text: String) -> [String] {
                text.split(separator: "\n").map { $0.split(separator: "\t", omittingEmptySubsequences: false).prefix(6).joined(separator: "\t") }
            }
            let got = sixColumns(try String(contentsOf: tsv, encoding: .utf8))
            let want = sixColumns(try String(contentsOf: golden, encoding: .utf8))
            XCTAssertEqual(got.count, write ? 61 : 31, preset)
            for (i, (g, w)) in zip(got, want).enumerated() where g != w {
                XCTFail("\(preset) line \(i): got \(g), want \(w)")
                break
            }
            XCTAssertEqual(want.count, 61, preset)
        }
    }
}
