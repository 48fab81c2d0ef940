import Foundation
import XCTest
@testable import TTADAdaptation

/// DPE's prototypes: the queues keep each class's lowest-entropy features, the visual prototype
/// is their normalised mean, the text side is the normalised running mean of what it evolved
/// with, and the state survives a checkpoint and refuses a corrupt one.
final class DualPrototypesTests: XCTestCase {
    private func make(capacity: Int = 2) throws -> DualPrototypes {
        try DualPrototypes(configuration: try .init(classCount: 2, dimension: 2, queueCapacity: capacity), classes: [2, 0, 0, 1])
    }

    func testQueuesKeepTheLowestEntropyFeaturesAndAverageThem() throws {
        var p = try make()
        XCTAssertEqual(p.text, [1, 0, 0, 1], "class rows are normalised")
        var v = [Float](repeating: 9, count: 2)
        XCTAssertFalse(v.withUnsafeMutableBufferPointer { p.visualPrototype(0, into: $0) }, "no prototype before any sample")
        XCTAssertTrue(try p.offer(feature: [1, 0], label: 0, entropy: 0.5))
        XCTAssertTrue(try p.offer(feature: [0, 1], label: 0, entropy: 0.3))
        XCTAssertFalse(try p.offer(feature: [0.6, 0.8], label: 0, entropy: 0.9), "a full queue refuses a worse sample")
        XCTAssertTrue(try p.offer(feature: [0.6, 0.8], label: 0, entropy: 0.1), "and takes a better one in place of its worst")
        XCTAssertEqual(p.queues[0].map(\.entropy), [0.1, 0.3])
        XCTAssertTrue(v.withUnsafeMutableBufferPointer { p.visualPrototype(0, into: $0) })
        // mean of (0.6, 0.8) and (0, 1) = (0.3, 0.9), normalised.
        let n = (0.3 * 0.3 + 0.9 * 0.9 as Float).squareRoot()
        XCTAssertEqual(v[0], 0.3 / n, accuracy: 1e-6)
        XCTAssertEqual(v[1], 0.9 / n, accuracy: 1e-6)
        XCTAssertEqual(p.queuedCount, 2)
        XCTAssertThrowsError(try p.offer(feature: [1, 0], label: 2, entropy: 0))
        XCTAssertThrowsError(try p.offer(feature: [1, .nan], label: 0, entropy: 0))
    }

    func testTheTextSideIsTheRunningMeanOfWhatItEvolvedWith() throws {
        var p = try make()
        try p.evolve(with: [0, 1, 0, 1])   // (1,0) and (0,1) averaged → (½, ½) normalised
        XCTAssertEqual(p.text[0], Float(0.5).squareRoot(), accuracy: 1e-6)
        XCTAssertEqual(p.text[1], Float(0.5).squareRoot(), accuracy: 1e-6)
        XCTAssertEqual(Array(p.text[2...]), [0, 1])
        XCTAssertEqual(p.textTerms, 2)
        try p.evolve(with: [0, 1, 0, 1])   // the third term weighs a third
        XCTAssertGreaterThan(p.text[1], p.text[0])
        XCTAssertThrowsError(try p.evolve(with: [0, 1]))
    }

    func testCheckpointRoundTripAndCorruptStateIsRefused() throws {
        var p = try make()
        try p.offer(feature: [1, 0], label: 1, entropy: 0.2)
        try p.evolve(with: [1, 0, 0, 1])
        XCTAssertEqual(try TestSupport.roundTrip(p), p)
        var o = try TestSupport.jsonObject(p)
        o["textTerms"] = 0
        XCTAssertThrowsError(try TestSupport.decode(DualPrototypes.self, fromObject: o))
        o = try TestSupport.jsonObject(p)
        o["text"] = [1, 0]
        XCTAssertThrowsError(try TestSupport.decode(DualPrototypes.self, fromObject: o))
    }
}
