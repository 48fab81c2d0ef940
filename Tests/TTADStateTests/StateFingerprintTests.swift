import Foundation
import XCTest
@testable import TTADState

final class StateFingerprintTests: XCTestCase {
    func testDifferingFieldsAndCodable() throws {
        let a = StateFingerprint(modelID: "m", modelSHA256: "1", configSHA256: "2")
        var b = a
        XCTAssertEqual(a.differingFields(from: b), [])
        b.modelSHA256 = "x"; b.configSHA256 = "y"
        XCTAssertEqual(a.differingFields(from: b), [.modelSHA256, .configSHA256])
        XCTAssertEqual(b[.modelSHA256], "x")
        XCTAssertTrue(StateFingerprint.Field.modelID.isModelField)
        XCTAssertFalse(StateFingerprint.Field.configSHA256.isModelField)
        let decoded = try JSONDecoder().decode(StateFingerprint.self, from: JSONEncoder().encode(b))
        XCTAssertEqual(decoded, b)
    }

    func testDescriptionAbbreviatesHashes() {
        let fp = StateFingerprint(modelID: "clip", modelSHA256: String(repeating: "ab", count: 32), configSHA256: "short")
        XCTAssertEqual(fp.description, "model_id=clip model_sha256=abababababab… config_sha256=short")
    }
}
