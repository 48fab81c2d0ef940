import Foundation
import XCTest
import TTADPresets
@testable import TTADDaemon

/// docs/configuration.md against the key table (`ConfigKeys`): every key has a row in its
/// table's section, with the declared type and range in the type cell and the declared default
/// in the default cell; a row for a key that does not exist is an error too.
final class ConfigDocsTests: XCTestCase {
    private var docsText: String {
        get throws {
            let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            return try String(contentsOf: root.appendingPathComponent("docs/configuration.md"), encoding: .utf8)
        }
    }

    /// Rows per table: "## `[table]`" headings, then rows "| `key` | type | default | meaning |".
    static func rows(_ text: String) -> [String: [String: [String]]] {
        var table: String?
        var out: [String: [String: [String]]] = [:]
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("#"), let open = line.range(of: "`["), let close = line.range(of: "]`", range: open.upperBound..<line.endIndex) {
                table = String(line[open.upperBound..<close.lowerBound])
            } else if let table, line.hasPrefix("| `") {
                let cells = Self.cells(String(line))
                out[table, default: [:]][cells[0].trimmingCharacters(in: CharacterSet(charactersIn: "`"))] = cells
            }
        }
        return out
    }

    /// A markdown table row's cells, split at bars that are not escaped (`\|`).
    static func cells(_ line: String) -> [String] {
        var cells: [String] = [], cell = "", previous: Character = " "
        for ch in line.dropFirst() {
            if ch == "|" && previous != "\\" { cells.append(cell.trimmingCharacters(in: .whitespaces)); cell = "" } else { cell.append(ch) }
            previous = ch
        }
        return cells
    }

    /// What is wrong with the docs, one line per problem.
    static func problems(_ text: String) -> [String] {
        var rows = Self.rows(text)
        var out: [String] = []
        let defaults = DaemonConfig()
        for k in ConfigKeys.all {
            guard let cells = rows[k.table]?.removeValue(forKey: k.name) else {
                out.append("[\(k.table)] \(k.name): no row"); continue
            }
            guard cells.count >= 4 else { out.append("[\(k.table)] \(k.name): row has \(cells.count) cells"); continue }
            if cells[1] != k.typeText { out.append("[\(k.table)] \(k.name): type cell \"\(cells[1])\", declared \"\(k.typeText)\"") }
            if let declared = k.defaultDoc {
                if cells[2] != declared { out.append("[\(k.table)] \(k.name): default cell \"\(cells[2])\", declared \"\(declared)\"") }
            } else if let v = k.get(defaults) {
                // The first code span of the cell is the value; text may follow ("`0` (off)").
                let parts = cells[2].split(separator: "`", omittingEmptySubsequences: false)
                let shown = parts.count >= 3 ? String(parts[1]) : cells[2]
                let same = shown == v.toml || (Double(shown) != nil && Double(shown) == Double(v.toml))
                if !same { out.append("[\(k.table)] \(k.name): default cell \"\(cells[2])\", declared \(v.toml)") }
            } else {
                out.append("[\(k.table)] \(k.name): unset by default but declares no defaultDoc")
            }
        }
        for (table, left) in rows { for name in left.keys { out.append("[\(table)] \(name): documented but not a key") } }
        return out.sorted()
    }

    func testDocsMatchTheKeyTable() throws {
        let text = try docsText
        XCTAssertEqual(Self.rows(text)["model"]?["precision"]?.count, 4, "the parser must see the [model] table")
        XCTAssertEqual(Self.problems(text), [])
    }

    /// The comparison fails on each kind of drift (so the test above can fail).
    func testDriftIsFound() throws {
        let text = try docsText
        func edited(_ old: String, _ new: String) -> [String] {
            XCTAssertTrue(text.contains(old), old)
            return Self.problems(text.replacingOccurrences(of: old, with: new))
        }
        let row = "| `queue_capacity` | integer 1 to 16777216 | `1024` |"
        XCTAssertEqual(edited(row, "| `queue_cap` | integer 1 to 16777216 | `1024` |"),
                       ["[ingest] queue_cap: documented but not a key", "[ingest] queue_capacity: no row"])
        XCTAssertEqual(edited(row, "| `queue_capacity` | integer 1 to 16777216 | `1000` |"),
                       ["[ingest] queue_capacity: default cell \"`1000`\", declared 1024"])
        XCTAssertEqual(edited(row, "| `queue_capacity` | integer ≥ 1 | `1024` |"),
                       ["[ingest] queue_capacity: type cell \"integer ≥ 1\", declared \"integer 1 to 16777216\""])
        XCTAssertEqual(edited("| `shutdown_timeout_s` | number in (0, 3600] | `20` |", "| `shutdown_timeout_s` | number in (0, 3600] | `20.5` |"),
                       ["[daemon] shutdown_timeout_s: default cell \"`20.5`\", declared 20.0"])
    }

    /// `ttad config-keys` lists every key once, set to its default or commented out with the
    /// declared default text, each after its description.
    func testKeyReferenceListsEveryKey() throws {
        let lines = ConfigCheck.keyReference().split(separator: "\n").map(String.init)
        for k in ConfigKeys.all {
            let set = "\(k.name) = ", unset = "# \(k.name) = ("
            let i = try XCTUnwrap(lines.indices.first { i in
                (lines[i].hasPrefix(set) || lines[i].hasPrefix(unset)) && lines[..<i].last(where: { $0.hasPrefix("[") }) == "[\(k.table)]"
            }, "\(k.path) missing")
            let type = k.typeText.replacingOccurrences(of: "\\|", with: "|").replacingOccurrences(of: "`", with: "")
            XCTAssertEqual(lines[i - 1], "# \(type): \(k.doc)")
        }
        XCTAssertTrue(lines.contains("queue_capacity = 1024"))
        XCTAssertTrue(lines.contains("# overflow = (block for pull, drop_oldest for sub)"))
    }

    /// A hand-written type cell (extra constraints) still states the bounds the loader enforces.
    func testTypeOverridesStateTheEnforcedBounds() {
        var checked = 0
        for k in ConfigKeys.all {
            guard let override = k.typeOverride else { continue }
            let plain = SettingKey<DaemonConfig>(k.table, k.name, k.kind, doc: k.doc, rangeNote: k.rangeNote, get: k.get, set: k.set).typeText
            let bounds = plain.split(whereSeparator: { !"-0123456789.".contains($0) }).filter { $0.contains(where: \.isNumber) }
            for b in bounds { XCTAssertTrue(override.contains(b), "\(k.path): \"\(override)\" does not state \(b) (\(plain))") }
            checked += bounds.count
        }
        XCTAssertGreaterThan(checked, 8)
    }
}
