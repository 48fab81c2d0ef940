import XCTest
@testable import TTADAdaptation

final class PromptBufferTests: XCTestCase {
    private func buffer(slots: Int = 3, length: Int = 4) throws -> PromptBuffer {
        PromptBuffer(configuration: try .init(residualLength: length, slotCapacity: slots))
    }

    /// A sample where no slot beats the fresh prompt (every entropy is higher than its).
    private func nothingRelevant(_ b: inout PromptBuffer) throws -> PromptSelection {
        try b.select(entropies: [Float](repeating: 9, count: b.slotCount),
                     probabilityDifferences: [Float](repeating: 0, count: b.slotCount),
                     freshEntropy: 1, freshProbabilityDifference: 0.5)
    }

    func testFirstSampleAppendsAFreshSlot() throws {
        var b = try buffer()
        let s = try b.select(entropies: [], probabilityDifferences: [], freshEntropy: 1, freshProbabilityDifference: 0)
        XCTAssertEqual(Array(s.slots), [0])
        XCTAssertEqual(s.appendedSlot, 0)
        XCTAssertFalse(s.recycled)
        XCTAssertEqual(b.slotCount, 1)
        XCTAssertEqual(b.step, 1)
        XCTAssertEqual(try b.lastUsedStep(ofSlot: 0), 0)
        XCTAssertEqual(try b.residual(ofSlot: 0), [0, 0, 0, 0])
    }

    /// Relevant = lower entropy than the fresh prompt AND larger probability difference, both
    /// strict (fresh: E = 1.0, D = 0.5).
    func testSelectionRule() throws {
        var b = try buffer(slots: 6)
        for _ in 0..<5 { _ = try nothingRelevant(&b) }
        XCTAssertEqual(b.slotCount, 5)
        let s = try b.select(entropies: [0.8, 0.9, 1.2, 1.0, 0.3],
                             probabilityDifferences: [0.6, 0.4, 0.9, 0.7, .nan],
                             freshEntropy: 1.0, freshProbabilityDifference: 0.5)
        // 0: both better → in. 1: D lower → out. 2: E higher → out. 3: E equal → out. 4: NaN → out.
        XCTAssertEqual(Array(s.slots), [0])
        XCTAssertNil(s.appendedSlot)
        XCTAssertEqual(b.slotCount, 5, "nothing appended when a slot is relevant")
        XCTAssertEqual(try b.lastUsedStep(ofSlot: 0), 5)
        XCTAssertEqual(try b.lastUsedStep(ofSlot: 1), 1)
        XCTAssertEqual(try b.useCount(ofSlot: 0), 2)

        let two = try b.select(entropies: [0.1, 0.2, 2, 2, 2], probabilityDifferences: [1, 1, 0, 0, 0],
                               freshEntropy: 1.0, freshProbabilityDifference: 0.5)
        XCTAssertEqual(Array(two.slots), [0, 1])
        XCTAssertEqual(two.slots.count, 2)
    }

    func testLeastRecentlyUsedSlotIsRecycledInOrder() throws {
        var b = try buffer(slots: 3)
        for expected in 0..<3 { XCTAssertEqual(try nothingRelevant(&b).appendedSlot, expected) }    // steps 0, 1, 2
        try b.setResidual(ofSlot: 1, to: [1, 2, 3, 4])
        // Step 3: slot 0 is relevant, so last-used = [3, 1, 2].
        _ = try b.select(entropies: [0.1, 9, 9], probabilityDifferences: [1, 0, 0], freshEntropy: 1, freshProbabilityDifference: 0.5)
        XCTAssertEqual(b.leastRecentlyUsedSlot(), 1)
        // Steps 4, 5, 6: nothing relevant → recycle slot 1, then 2, then 0.
        var order: [Int] = []
        for _ in 0..<3 {
            let s = try nothingRelevant(&b)
            XCTAssertTrue(s.recycled)
            XCTAssertEqual(s.slots.count, 1)
            order.append(s.appendedSlot!)
        }
        XCTAssertEqual(order, [1, 2, 0])
        XCTAssertEqual(try b.residual(ofSlot: 1), [0, 0, 0, 0], "a recycled slot starts from the initial prompt")
        XCTAssertEqual(try b.useCount(ofSlot: 1), 1)
        XCTAssertEqual(b.slotCount, 3)
        XCTAssertEqual(b.step, 7)
    }

    func testResidualAccessAndReset() throws {
        var b = try buffer(slots: 3, length: 2)
        for _ in 0..<3 { _ = try nothingRelevant(&b) }
        try b.setResidual(ofSlot: 0, to: [1, 1])
        try b.setResidual(ofSlot: 2, to: [5, 6])
        try b.withMutableResidual(ofSlot: 1) { r in r[0] = 7; r[1] = 8 }
        XCTAssertEqual(try b.withResidual(ofSlot: 1) { Array($0) }, [7, 8])
        XCTAssertEqual(try b.residual(ofSlot: 2), [5, 6])
        // The whole block of slots in use, slot by slot; writes through it land in the slots.
        XCTAssertEqual(b.withResiduals { Array($0) }, [1, 1, 7, 8, 5, 6])
        b.withMutableResiduals { r in r[5] = 9 }
        XCTAssertEqual(try b.residual(ofSlot: 2), [5, 9])
        try b.setResidual(ofSlot: 2, to: [5, 6])

        // Slot 2 was last used at step 2, the most recent; resetting it makes it the next to go.
        try b.resetSlot(2)
        XCTAssertEqual(try b.residual(ofSlot: 2), [0, 0])
        XCTAssertEqual(try b.lastUsedStep(ofSlot: 2), PromptBuffer.neverUsed)
        XCTAssertEqual(b.leastRecentlyUsedSlot(), 2)
        XCTAssertEqual(try b.residual(ofSlot: 0), [1, 1], "other slots untouched")

        b.resetAll()
        XCTAssertEqual(b.slotCount, 0)
        XCTAssertEqual(b.step, 3)
        XCTAssertThrowsError(try b.residual(ofSlot: 0))
        XCTAssertEqual(try nothingRelevant(&b).appendedSlot, 0)
        XCTAssertEqual(try b.residual(ofSlot: 0), [0, 0], "reset residuals are zero when the slot comes back")
    }

    func testBadCallsThrowAndChangeNothing() throws {
        var b = try buffer()
        _ = try nothingRelevant(&b)
        let before = b
        XCTAssertThrowsError(try b.select(entropies: [1, 2], probabilityDifferences: [1, 2], freshEntropy: 0, freshProbabilityDifference: 0))
        XCTAssertThrowsError(try b.select(entropies: [1], probabilityDifferences: [], freshEntropy: 0, freshProbabilityDifference: 0))
        XCTAssertThrowsError(try b.setResidual(ofSlot: 0, to: [1]))
        XCTAssertThrowsError(try b.setResidual(ofSlot: 1, to: [1, 2, 3, 4]))
        XCTAssertThrowsError(try b.resetSlot(-1))
        XCTAssertEqual(b, before)
    }

    func testSlotSet() {
        var s = SlotSet()
        XCTAssertTrue(s.isEmpty)
        s.insert(63); s.insert(0); s.insert(5)
        XCTAssertEqual(Array(s), [0, 5, 63])
        XCTAssertTrue(s.contains(5))
        XCTAssertFalse(s.contains(64))
        XCTAssertEqual(SlotSet([5, 0, 63]), s)
    }

    func testCheckpointRoundTrip() throws {
        var b = try buffer(slots: 4, length: 3)
        for _ in 0..<4 { _ = try nothingRelevant(&b) }
        try b.setResidual(ofSlot: 2, to: [0.25, -1.5, 3e-7])
        var restored = try TestSupport.roundTrip(b)
        XCTAssertEqual(restored, b)
        XCTAssertEqual(try nothingRelevant(&restored), try nothingRelevant(&b))
        XCTAssertEqual(restored, b)

        var json = try TestSupport.jsonObject(b)
        json["slotCount"] = 5
        XCTAssertThrowsError(try TestSupport.decode(PromptBuffer.self, fromObject: json))
        json = try TestSupport.jsonObject(b)
        json["residuals"] = [1.0]
        XCTAssertThrowsError(try TestSupport.decode(PromptBuffer.self, fromObject: json))
    }

    func testConfigurationIsValidated() throws {
        XCTAssertEqual(try PromptBuffer.Configuration(residualLength: 2048).slotCapacity, 10)
        TestSupport.assertConfigurationError("PromptBuffer.slotCapacity") { () throws(AdaptationConfigurationError) in
            try PromptBuffer.Configuration(residualLength: 4, slotCapacity: 0)
        }
        TestSupport.assertConfigurationError("PromptBuffer.slotCapacity") { () throws(AdaptationConfigurationError) in
            try PromptBuffer.Configuration(residualLength: 4, slotCapacity: 65)
        }
        TestSupport.assertConfigurationError("PromptBuffer.residualLength") { () throws(AdaptationConfigurationError) in
            try PromptBuffer.Configuration(residualLength: 0)
        }
    }
}
