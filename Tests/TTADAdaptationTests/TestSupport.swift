import Foundation
import XCTest
import TTADEngine
@testable import TTADAdaptation

/// Shared helpers for the adaptation tests.
enum TestSupport {
    /// Encodes to JSON and back: what a checkpoint does.
    static func roundTrip<T: Codable>(_ value: T, file: StaticString = #filePath, line: UInt = #line) throws -> T {
        let data = try JSONEncoder().encode(value)
        return try JSONDecoder().decode(T.self, from: data)
    }

    /// The JSON of `value` as a mutable dictionary, to corrupt one field.
    static func jsonObject<T: Encodable>(_ value: T) throws -> [String: Any] {
        let data = try JSONEncoder().encode(value)
        return try JSONSerialization.jsonObject(with: data) as! [String: Any]
    }

    static func decode<T: Decodable>(_ type: T.Type, fromObject object: [String: Any]) throws -> T {
        try JSONDecoder().decode(T.self, from: JSONSerialization.data(withJSONObject: object))
    }

    /// Asserts that `body` throws a configuration error naming `parameter`.
    static func assertConfigurationError<T>(_ parameter: String, file: StaticString = #filePath, line: UInt = #line,
                                            _ body: () throws(AdaptationConfigurationError) -> T) {
        do {
            _ = try body()
            XCTFail("expected a configuration error for \(parameter)", file: file, line: line)
        } catch {
            XCTAssertEqual(error.parameter, parameter, file: file, line: line)
            XCTAssertTrue(error.description.contains(parameter), error.description, file: file, line: line)
        }
    }

    /// Uniform in [lo, hi) from a seeded generator.
    static func uniform(_ rng: inout SplitMix64, _ lo: Double, _ hi: Double) -> Double {
        lo + (hi - lo) * Double(rng.uniform())
    }
}
