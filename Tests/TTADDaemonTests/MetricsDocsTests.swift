import Foundation
import XCTest
@testable import TTADDaemon

/// Every metric the dashboard, the alert rules and the operations doc name exists on /metrics,
/// and every metric the daemon exports is documented.
final class MetricsDocsTests: XCTestCase {
    private let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    private func exported() -> Set<String> {
        let text = String(decoding: DaemonMetrics(version: "test", mode: "embedding").exposition(), as: UTF8.self)
        var names = Set<String>()
        for line in text.split(separator: "\n") where line.hasPrefix("# TYPE ") {
            names.insert(String(line.split(separator: " ")[2]))
        }
        return names
    }

    private func mentioned(in path: String) throws -> Set<String> {
        let text = try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
        let regex = try NSRegularExpression(pattern: "ttad_[a-z_]+")
        var names = Set<String>()
        for m in regex.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
            var name = String(text[Range(m.range, in: text)!])
            for suffix in ["_bucket", "_sum", "_count"] where name.hasSuffix(suffix) && !name.hasSuffix("_total") {
                name = String(name.dropLast(suffix.count))
            }
            names.insert(name)
        }
        return names
    }

    func testDashboardAlertsAndDocsNameRealMetrics() throws {
        let real = exported().union(StateMetrics.labelledFamilies)
        XCTAssertFalse(real.isEmpty)
        for file in ["deploy/grafana/ttad-overview.json", "deploy/prometheus/alerts.yml", "docs/operations.md"] {
            let unknown = try mentioned(in: file).subtracting(real)
            XCTAssertTrue(unknown.isEmpty, "\(file) names metrics the daemon does not export: \(unknown.sorted())")
        }
    }

    func testEveryExportedMetricIsDocumented() throws {
        let documented = try mentioned(in: "docs/operations.md")
        let undocumented = exported().union(StateMetrics.labelledFamilies).subtracting(documented)
        XCTAssertTrue(undocumented.isEmpty, "add to docs/operations.md: \(undocumented.sorted())")
    }
}
