import XCTest
@testable import TTADAdaptation

final class AdaptationErrorsTests: XCTestCase {
    func testDescriptionsNameTheParameter() {
        let c = AdaptationConfigurationError(parameter: "MemoryBank.capacity", "must be ≥ 1, got 0")
        XCTAssertEqual(c.description, "invalid MemoryBank.capacity: must be ≥ 1, got 0")
        let i = AdaptationInputError(argument: "CollapseGuard predictedClass", "class 9 is outside 0..<8")
        XCTAssertEqual(i.description, "invalid CollapseGuard predictedClass: class 9 is outside 0..<8")
    }

    func testValidationMessages() {
        XCTAssertThrowsError(try Validate.open(1, 0, 1, "x.q")) { e in
            XCTAssertEqual((e as? AdaptationConfigurationError)?.description, "invalid x.q: must be in (0.0, 1.0), got 1.0")
        }
        XCTAssertThrowsError(try Validate.positive(.infinity, "x.t"))
        XCTAssertThrowsError(try Validate.classIndex(3, 3, "x.c")) { e in
            XCTAssertEqual((e as? AdaptationInputError)?.message, "class 3 is outside 0..<3")
        }
        XCTAssertNoThrow(try Validate.closed(1, 0, 1, "x.p"))
    }

    /// A configuration value that fails validation inside a checkpoint becomes a DecodingError
    /// carrying the same message.
    func testInvalidDecodedConfigurationBecomesADecodingError() {
        let json = #"{"minInstances":30,"delta":0.005,"threshold":-1,"alpha":0.9999,"mode":"both"}"#
        XCTAssertThrowsError(try JSONDecoder().decode(PageHinkley.Configuration.self, from: json.data(using: .utf8)!)) { e in
            guard case DecodingError.dataCorrupted(let context) = e else { return XCTFail("\(e)") }
            XCTAssertTrue(context.debugDescription.contains("PageHinkley.threshold"), context.debugDescription)
        }
    }
}
