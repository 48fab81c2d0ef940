import Foundation
import TTADProtocol
import XCTest

/// docs/protocol.md §5.2 lists exactly the event kinds the daemon publishes, with the `detail`
/// fields the protocol module writes for the stream kinds.
final class ProtocolDocsTests: XCTestCase {
    private let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Rows of the table in §5.2 headed "| `kind` | When | `detail` |": kind → row text.
    private func documentedKinds() throws -> [String: String] {
        let text = try String(contentsOf: root.appendingPathComponent("docs/protocol.md"), encoding: .utf8)
        guard let start = text.range(of: "### 5.2 Event (`event`)"),
              let end = text.range(of: "### 5.3 ", range: start.upperBound..<text.endIndex) else {
            XCTFail("docs/protocol.md has no §5.2")
            return [:]
        }
        let lines = text[start.upperBound..<end.lowerBound].split(separator: "\n", omittingEmptySubsequences: false)
        guard let header = lines.firstIndex(where: { $0.hasPrefix("| `kind` | When |") }) else {
            XCTFail("§5.2 has no table of kinds")
            return [:]
        }
        var rows: [String: String] = [:]
        for line in lines[(header + 2)...] {
            guard line.hasPrefix("|") else { break }
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            let kind = cells[1]
            XCTAssertTrue(kind.hasPrefix("`") && kind.hasSuffix("`") && kind.count > 2, "not a `kind` cell: \(line)")
            let name = String(kind.dropFirst().dropLast())
            XCTAssertNil(rows[name], "\(name) is listed twice")
            rows[name] = String(line)
        }
        return rows
    }

    func testEventKindsInTheDocAreExactlyThoseTheDaemonPublishes() throws {
        let documented = try documentedKinds()
        XCTAssertEqual(Set(documented.keys), EventKind.all,
                       "docs/protocol.md §5.2 vs EventKind.all: only in the doc \(Set(documented.keys).subtracting(EventKind.all).sorted()), only in the code \(EventKind.all.subtracting(documented.keys).sorted())")
    }

    func testStreamEventDetailFieldsAreDocumented() throws {
        let documented = try documentedKinds()
        let events = [EventRecord.gap(stream: "s", lastSeq: 1, seq: 5, missing: 3, gaps: 1, tsS: 0),
                      EventRecord.restart(stream: "s", lastSeq: 9, tsS: 0)]
        for e in events {
            let row = try XCTUnwrap(documented[e.kind], "\(e.kind) not in §5.2")
            let detailCell = row.split(separator: "|").last.map(String.init) ?? ""
            for m in e.detail {
                XCTAssertTrue(detailCell.contains("`\(m.key)`"), "§5.2 row of \(e.kind) does not name detail field \(m.key)")
            }
        }
    }
}
