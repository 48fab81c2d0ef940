import Foundation
import XCTest

/// `ttad eval --as-embeddings MODEL_DIR`: the client embeds each scenario image with the model
/// (an accelerator's stand-in) and sends f32-embedding samples; the shipped image-mode config
/// then runs in embedding mode against the same model's class-prompt embeddings. Same model,
/// same features: the frozen predictions must be the image mode's.
final class EmbeddingEvalTests: XCTestCase {
    private var root: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    private struct Line { var id: String, label: String, predicted: String, entropy: Double, outlier: Double }

    private func run(_ exe: URL, config: String, dir: URL, name: String, extra: [String]) throws -> [Line] {
        let tsv = dir.appendingPathComponent("\(name).tsv").path
        let (status, output) = try runCommand(exe.path, [
            "eval", "--config", config, "--predictions-file", tsv, "--timeout", "60", "--strict",
            "--scenario", "continual", "--per-domain", "3", "--seed", "5",
        ] + extra)
        XCTAssertEqual(status, 0, output)
        let rows = try String(contentsOfFile: tsv, encoding: .utf8).split(separator: "\n").dropFirst()
        return rows.map { r in
            let f = r.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            return Line(id: f[0], label: f[1], predicted: f[2], entropy: Double(f[3]) ?? .nan, outlier: Double(f[4]) ?? .nan)
        }
    }

    func testFrozenEmbeddingModePredictsWhatImageModePredicts() throws {
        let exe = try ttadExecutable()
        guard FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz") else {
            throw XCTSkip("Debian package dataset-fashion-mnist not installed (tools/setup.sh installs it)")
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ttad-embeval-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = dir.appendingPathComponent("frozen.toml").path
        let (status, text) = try runCommand(root.appendingPathComponent("tools/preset_config.sh").path, ["frozen"])
        XCTAssertEqual(status, 0, text)
        try text.write(toFile: config, atomically: true, encoding: .utf8)
        let model = root.appendingPathComponent("deploy/models/fmnist-clip").path

        let image = try run(exe, config: config, dir: dir, name: "image", extra: [])
        let embedded = try run(exe, config: config, dir: dir, name: "embedded", extra: ["--as-embeddings", model])
        XCTAssertEqual(image.count, 30, "ten domains, three samples each")
        XCTAssertEqual(embedded.map(\.id), image.map(\.id))
        XCTAssertEqual(embedded.map(\.label), image.map(\.label))
        // What is compared: per sample, the predicted class exactly, and the entropy of the
        // probabilities and the outlier score (from the top cosine) within float rounding: the
        // embedding path re-normalises class rows read back from the file it was handed.
        XCTAssertEqual(embedded.map(\.predicted), image.map(\.predicted))
        for (e, i) in zip(embedded, image) {
            XCTAssertEqual(e.entropy, i.entropy, accuracy: 1e-4, e.id)
            XCTAssertEqual(e.outlier, i.outlier, accuracy: 1e-4, e.id)
        }
        // Not a vacuous comparison: the stream has errors and confident samples alike.
        XCTAssertTrue(image.contains { $0.label != $0.predicted } && image.contains { $0.label == $0.predicted })
    }
}
