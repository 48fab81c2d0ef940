import XCTest
import TTADZMQ

final class HighWaterMarkTests: XCTestCase {
    func testRoundsDown() {
        XCTAssertEqual(ZMQHighWaterMark.messages(forBudgetBytes: 1000, typicalMessageBytes: 300), 3)
        XCTAssertEqual(ZMQHighWaterMark.messages(forBudgetBytes: 64 << 20, typicalMessageBytes: 4096), 16384)
    }

    func testClampsToBounds() {
        XCTAssertEqual(ZMQHighWaterMark.messages(forBudgetBytes: 10, typicalMessageBytes: 300), 1)
        XCTAssertEqual(ZMQHighWaterMark.messages(forBudgetBytes: 10, typicalMessageBytes: 300, minimum: 5), 5)
        XCTAssertEqual(ZMQHighWaterMark.messages(forBudgetBytes: 1 << 40, typicalMessageBytes: 1), 100_000)
        XCTAssertEqual(ZMQHighWaterMark.messages(forBudgetBytes: 1 << 40, typicalMessageBytes: 1,
                                                 maximum: 500), 500)
    }

    func testDegenerateInputs() {
        XCTAssertEqual(ZMQHighWaterMark.messages(forBudgetBytes: 0, typicalMessageBytes: 100), 1)
        XCTAssertEqual(ZMQHighWaterMark.messages(forBudgetBytes: -5, typicalMessageBytes: 100), 1)
        XCTAssertEqual(ZMQHighWaterMark.messages(forBudgetBytes: 50, typicalMessageBytes: 0), 50)
        XCTAssertEqual(ZMQHighWaterMark.messages(forBudgetBytes: 50, typicalMessageBytes: 1,
                                                 minimum: 10, maximum: 5), 10)
    }
}
