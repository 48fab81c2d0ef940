import Foundation
import XCTest
@testable import TTADDaemon

/// `ttad check-config` prints a configuration that parses back to the same one, field for field:
/// every shipped config, every fuzz seed, and a config with every optional key set.
final class ConfigRoundTripTests: XCTestCase {
    private let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    private func assertRoundTrip(_ text: String, _ name: String, file: StaticString = #filePath, line: UInt = #line) throws -> DaemonConfig {
        let c = try ConfigLoader.parse(text, baseDirectory: "/etc/ttad", source: name)
        let printed = ConfigCheck.describe(c)
        let again = try ConfigLoader.parse(printed, baseDirectory: "/elsewhere", source: "printed \(name)")
        XCTAssertEqual(Self.differences(c, again), [], "\(name), printed as:\n\(printed)", file: file, line: line)
        XCTAssertEqual(c, again, name, file: file, line: line)
        return c
    }

    /// "section.field: before → after" for every field (two levels deep) that differs.
    static func differences(_ a: DaemonConfig, _ b: DaemonConfig) -> [String] {
        var out: [String] = []
        func walk(_ x: Any, _ y: Any, _ path: String, depth: Int) {
            let mx = Mirror(reflecting: x), my = Mirror(reflecting: y)
            if depth == 0 || mx.children.isEmpty || mx.displayStyle == .optional || mx.displayStyle == .collection
                || mx.displayStyle == .enum {
                let l = String(describing: x), r = String(describing: y)
                if l != r { out.append("\(path): \(l) → \(r)") }
                return
            }
            for (u, v) in zip(mx.children, my.children) {
                walk(u.value, v.value, path.isEmpty ? (u.label ?? "?") : "\(path).\(u.label ?? "?")", depth: depth - 1)
            }
        }
        walk(a, b, "", depth: 3)
        return out
    }

    func testShippedConfigsAndFuzzSeedsRoundTrip() throws {
        var seen = 0
        for dir in ["deploy", "tools/fuzz/corpus/config"] {
            let url = root.appendingPathComponent(dir)
            for f in try FileManager.default.contentsOfDirectory(atPath: url.path).sorted() where f.hasSuffix(".toml") {
                _ = try assertRoundTrip(try String(contentsOf: url.appendingPathComponent(f), encoding: .utf8), "\(dir)/\(f)")
                seen += 1
            }
        }
        XCTAssertGreaterThanOrEqual(seen, 6)
    }

    /// The seed the fuzzer found: no [ingest] table, so `overflow` is unset and follows the
    /// pattern. check-config printed the effective policy as a value, which read back as set.
    func testUnsetOverflowStaysUnset() throws {
        let c = try assertRoundTrip("[classifier]\nclass_embeddings = \"e.npy\"\n", "minimal")
        XCTAssertNil(c.ingest.overflow)
        XCTAssertTrue(ConfigCheck.describe(c).contains("# overflow = \"block\""), "the effective policy is still shown")
    }

    func testEveryOptionalKeySetAndAwkwardStrings() throws {
        let c = try assertRoundTrip(#"""
        [daemon]
        log_level = "debug"
        [ingest]
        overflow = "drop_newest"
        topics = ["cam\"1", "tab\there", "bell\u0007"]
        [classifier]
        class_embeddings = "e.safetensors"
        class_names = "names.txt"
        tensor = "line\nbreak"
        logit_scale = 0.000123
        outlier_threshold = 1.5
        [model]
        class_names_file = "n.txt"
        prompt_template = "a \"quoted\" \\ photo of a {}."
        [adaptation]
        learning_rate = 1e-7
        seed = 4611686018427387904
        scope = "stream"
        state_groups = ["cam-"]
        [adaptation.guard]
        entropy_floor = 0.05
        """#, "every optional key")
        for k in ConfigKeys.all {
            XCTAssertNotNil(k.get(c), "\(k.path) is optional and left unset here: set it in this test")
        }
    }
}
