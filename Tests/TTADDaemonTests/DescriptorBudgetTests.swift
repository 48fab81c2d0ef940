import XCTest
@testable import TTADDaemon

/// The metrics port's connection cap must leave three quarters of the descriptor limit to
/// ZeroMQ and SQLite.
final class DescriptorBudgetTests: XCTestCase {
    func testTheCapMayTakeAQuarterOfTheLimitAndNoMore() throws {
        var m = MetricsSection()
        m.maxConnections = 64
        XCTAssertNoThrow(try DescriptorBudget.check(m, processLimit: 256))
        m.maxConnections = 65
        XCTAssertThrowsError(try DescriptorBudget.check(m, processLimit: 256)) { e in
            XCTAssertEqual((e as? ConfigError)?.key, "metrics.max_connections", "\(e)")
            XCTAssertTrue("\(e)".contains("at most 64"), "\(e)")
        }
        // No HTTP server, nothing to budget.
        m.enabled = false
        XCTAssertNoThrow(try DescriptorBudget.check(m, processLimit: 256))
    }

    func testTheDefaultCapFitsTheUnitsLimit() throws {
        // systemd/ttad.service sets LimitNOFILE=4096.
        XCTAssertNoThrow(try DescriptorBudget.check(MetricsSection(), processLimit: 4096))
        XCTAssertGreaterThan(DescriptorBudget.processLimit(), 0)
    }
}
