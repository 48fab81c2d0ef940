import XCTest
@testable import TTADPresets

/// STAMP's learning-rate schedule: PyTorch's `CosineAnnealingLR` with η_min 0, whose closed form
/// is periodic in 2·T_max (the rate comes back up after T_max updates, as STAMP's long runs see).
final class StampScheduleTests: XCTestCase {
    func testCosineRateByHand() {
        let rate = { (k: Int) in StampAdapter.cosineRate(base: 0.1, update: k, period: 150) }
        XCTAssertEqual(rate(0), 0.1, accuracy: 1e-15)
        XCTAssertEqual(rate(75), 0.05, accuracy: 1e-15)
        XCTAssertEqual(rate(50), 0.1 * 0.75, accuracy: 1e-15)       // (1 + cos 60°)/2
        XCTAssertEqual(rate(150), 0, accuracy: 1e-15)
        XCTAssertEqual(rate(225), 0.05, accuracy: 1e-15)
        XCTAssertEqual(rate(300), 0.1, accuracy: 1e-15)
    }
}
