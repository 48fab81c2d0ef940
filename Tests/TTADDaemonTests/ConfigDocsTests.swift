import Foundation
import XCTest
@testable import TTADDaemon

/// Every key `ttad check-config` prints (the shipped configurations, every optional key set) has
/// a row in its table's section of docs/configuration.md, so a new key cannot ship undocumented.
final class ConfigDocsTests: XCTestCase {
    private var root: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// Documented keys per table: "## `[table]`" headings, then rows "| `key` | ..." or
    /// "| `key`, `other` | ...".
    private func documented() throws -> [String: Set<String>] {
        let text = try String(contentsOf: root.appendingPathComponent("docs/configuration.md"), encoding: .utf8)
        var table: String?
        var keys: [String: Set<String>] = [:]
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("#"), let open = line.range(of: "`["), let close = line.range(of: "]`", range: open.upperBound..<line.endIndex) {
                table = String(line[open.upperBound..<close.lowerBound])
            } else if let table, line.hasPrefix("| `") {
                // The first cell names one key or several ("`a`, `b`").
                let cell = line.split(separator: "|", omittingEmptySubsequences: true).first ?? ""
                let parts = cell.split(separator: "`", omittingEmptySubsequences: false)
                for i in stride(from: 1, to: parts.count, by: 2) { keys[table, default: []].insert(String(parts[i])) }
            }
        }
        return keys
    }

    /// (table, key) of every line `describe` prints.
    private func printed(_ c: DaemonConfig) -> [(String, String)] {
        var table = ""
        var out: [(String, String)] = []
        for line in ConfigCheck.describe(c).split(separator: "\n") {
            if line.hasPrefix("[") { table = String(line.dropFirst().dropLast()); continue }
            if let eq = line.range(of: " = ") { out.append((table, String(line[..<eq.lowerBound]))) }
        }
        return out
    }

    func testEveryPrintedKeyIsDocumentedInItsTable() throws {
        let docs = try documented()
        XCTAssertTrue(docs["model"]?.contains("precision") ?? false, "the parser must see the [model] table")
        var image = try ConfigLoader.load(path: root.appendingPathComponent("deploy/ttad.toml").path)
        image.model.classNamesFile = "names.txt"   // optional keys are printed only when set
        let embedding = try ConfigLoader.load(path: root.appendingPathComponent("deploy/ttad-embedding.toml").path)
        var checked = 0
        for c in [image, embedding] {
            for (table, key) in printed(c) {
                XCTAssertTrue(docs[table]?.contains(key) ?? false, "docs/configuration.md has no row for [\(table)] \(key)")
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 50)
    }
}
