import XCTest
@testable import TTADEvaluation

final class DivergenceTests: XCTestCase {
    func testIdenticalDistributionsAreZeroWhateverTheCounts() {
        XCTAssertEqual(Divergence.jensenShannonBits([1, 2, 3], [10, 20, 30]), 0, accuracy: 1e-12)
    }

    func testDisjointSupportsAreOneBit() {
        XCTAssertEqual(Divergence.jensenShannonBits([5, 0], [0, 7]), 1, accuracy: 1e-12)
    }

    /// Hand-worked: p = (1/2, 1/2), q = (1, 0), m = (3/4, 1/4).
    /// JS = ½[½ log2(2/3) + ½ log2(2)] + ½[log2(4/3)] = ½ log2(4/3) + ¼ log2(2/3) + ¼ ≈ 0.311278.
    func testHandWorkedValue() {
        let want = 0.5 * log2(4.0 / 3) + 0.25 * log2(2.0 / 3) + 0.25
        XCTAssertEqual(Divergence.jensenShannonBits([1, 1], [3, 0]), want, accuracy: 1e-12)
        XCTAssertEqual(want, 0.311278, accuracy: 1e-6)
        XCTAssertEqual(Divergence.jensenShannonBits([3, 0], [1, 1]), want, accuracy: 1e-12)   // symmetric
    }

    func testEmptyHistogramIsZero() {
        XCTAssertEqual(Divergence.jensenShannonBits([0, 0], [1, 2]), 0)
    }
}
