import Foundation
import XCTest
import TTADEngine
@testable import TTADAdaptation

final class MemoryBankTests: XCTestCase {
    private func bank(classes: Int, capacity: Int, maxBytes: Int = MemoryBankConfiguration.defaultMaxBytes) throws -> MemoryBank<String> {
        MemoryBank(configuration: try MemoryBankConfiguration(classCount: classes, capacity: capacity, maxBytes: maxBytes))
    }

    private func names(_ b: MemoryBank<String>) -> [[String]] { b.classes.map { $0.map(\.payload) } }

    /// C = 3, N = 4 (N/C = 1.33), λ_t = λ_u = 1, so H(a, u) = 1/(1 + e^(−a/4)) + u/ln 3 and a
    /// newcomer scores 0.5 + u/ln 3. Every number below was worked by hand (and agrees with a
    /// line-by-line port of RoTTA's `CSTU`).
    func testReplacementOrderByHand() throws {
        var b = try bank(classes: 3, capacity: 4)
        let ln3 = log(3.0)
        func offer(_ name: String, _ c: Int, _ u: Float) throws -> MemoryBankInsertion {
            try b.insert(name, classIndex: c, uncertainty: u, byteSize: 1)
        }
        // 1–3: room everywhere, classes under N/C → added.
        XCTAssertEqual(try offer("A", 0, 0.2), .added(evicted: 0))
        XCTAssertEqual(try offer("B", 0, 0.1), .added(evicted: 0))      // 1 < 1.33: still under quota
        XCTAssertEqual(try offer("C", 1, 0.3), .added(evicted: 0))
        // 4: class 0 holds 2 ≥ N/C → case 3, within class 0 at clock 3:
        //    A (age 3) 0.679179 + 0.2/ln3 = 0.861227;  B (age 2) 0.622459 + 0.091024 = 0.713483;
        //    newcomer 0.5 + 0.045512 = 0.545512 → A is replaced.
        XCTAssertEqual(b.score(of: b.classes[0][0]), 0.861227, accuracy: 1e-6)
        XCTAssertEqual(try offer("D", 0, 0.05), .added(evicted: 1))
        XCTAssertEqual(names(b), [["B", "D"], ["C"], []])
        // 5: class 2 empty, bank has 3 < 4 → added; the bank is now full.
        XCTAssertEqual(try offer("E", 2, 0.4), .added(evicted: 0))
        XCTAssertTrue(b.isFull)
        // 6: class 1 under quota, bank full → case 2: majority class is 0 (2 items). At clock 5:
        //    B (age 4) 0.731059 + 0.091024 = 0.822083;  D (age 2) 0.622459 + 0.045512 = 0.667971;
        //    newcomer 0.5 + 0.182048 = 0.682048 < 0.822083 → B goes.
        XCTAssertEqual(try offer("F", 1, 0.2), .added(evicted: 1))
        XCTAssertEqual(names(b), [["D"], ["C", "F"], ["E"]])
        // 7: class 2 under quota, full → majority class 1. At clock 6: C (age 4) 0.731059 +
        //    0.273072 = 1.004131 is the worst; newcomer 0.5 + 1/ln3 = 1.410239 is worse → rejected.
        XCTAssertEqual(b.score(age: 0, uncertainty: 1.0), 0.5 + 1 / ln3, accuracy: 1e-12)
        XCTAssertEqual(try offer("G", 2, 1.0), .rejected(.notBetterThanStored))
        XCTAssertEqual(names(b), [["D"], ["C", "F"], ["E"]])
        // 8: same, at clock 7: C (age 5) 0.777300 + 0.273072 = 1.050372 > 0.591024 → C goes.
        XCTAssertEqual(try offer("H", 2, 0.1), .added(evicted: 1))
        XCTAssertEqual(names(b), [["D"], ["F"], ["E", "H"]])
        XCTAssertEqual(b.clock, 8)
        XCTAssertEqual(b.count, 4)
        XCTAssertEqual(b.classCounts, [1, 1, 2])
    }

    func testEveryAttemptAgesEveryItemIncludingRejectedOnes() throws {
        var b = try bank(classes: 2, capacity: 2)       // N/C = 1
        try b.insert("x", classIndex: 0, uncertainty: 0.1, byteSize: 0)
        XCTAssertEqual(b.age(of: b.classes[0][0]), 1, "RoTTA ages the new item with the others")
        try b.insert("y", classIndex: 1, uncertainty: 0.1, byteSize: 0)
        XCTAssertEqual(b.classes.flatMap { $0 }.map { b.age(of: $0) }, [2, 1])
        // Class 1 is at quota; a much less certain newcomer is rejected but still ages the bank.
        XCTAssertEqual(try b.insert("z", classIndex: 1, uncertainty: 0.69, byteSize: 0), .rejected(.notBetterThanStored))
        XCTAssertEqual(b.classes.flatMap { $0 }.map { b.age(of: $0) }, [3, 2])
        // Time-aware weight e^(−ā)/(1 + e^(−ā)), ā = age/N: age 3 → ā = 1.5.
        XCTAssertEqual(b.timeAwareWeight(of: b.classes[0][0]), exp(-1.5) / (1 + exp(-1.5)), accuracy: 1e-12)
    }

    func testNoClassExceedsItsQuotaAndMinoritiesDisplaceMajorities() throws {
        // C = 4, N = 8 → quota 2. A stream dominated by class 0 cannot take more than 2 slots,
        // and a rare class always finds a place once the bank is full of majority items.
        var b = try bank(classes: 4, capacity: 8)
        var rng = SplitMix64(seed: 7)
        for i in 0..<2000 {
            let c = rng.uniform() < 0.9 ? 0 : Int(rng.next() % 4)
            try b.insert("s\(i)", classIndex: c, uncertainty: rng.uniform() * 0.5, byteSize: 1)
            XCTAssertTrue(b.classCounts.allSatisfy { $0 <= 2 }, "step \(i): \(b.classCounts)")
            XCTAssertLessThanOrEqual(b.count, 8)
        }
        XCTAssertEqual(b.classCounts, [2, 2, 2, 2])
        // With a fractional quota (C = 3, N = 4: 1.33) a class can hold 2 while the bank fills;
        // once full, a newcomer of a class under quota displaces the majority class's worst item.
        var small = try bank(classes: 3, capacity: 4)
        try small.insert("a", classIndex: 0, uncertainty: 0.3, byteSize: 1)
        try small.insert("b", classIndex: 0, uncertainty: 0.3, byteSize: 1)
        try small.insert("c", classIndex: 1, uncertainty: 0.3, byteSize: 1)
        try small.insert("d", classIndex: 2, uncertainty: 0.3, byteSize: 1)
        XCTAssertEqual(small.classCounts, [2, 1, 1])
        XCTAssertEqual(try small.insert("e", classIndex: 1, uncertainty: 0.0, byteSize: 1), .added(evicted: 1))
        XCTAssertEqual(small.classCounts, [1, 2, 1])
        XCTAssertEqual(names(small), [["b"], ["c", "e"], ["d"]], "the oldest majority item (a) went")
    }

    /// C = 2, N = 4, maxBytes = 100; H = 1/(1 + e^(−a/4)) + u/ln 2.
    func testByteBudgetByHand() throws {
        var b = try bank(classes: 2, capacity: 4, maxBytes: 100)
        XCTAssertEqual(try b.insert("X", classIndex: 0, uncertainty: 0.5, byteSize: 40), .added(evicted: 0))
        XCTAssertEqual(try b.insert("Y", classIndex: 0, uncertainty: 0.1, byteSize: 40), .added(evicted: 0))
        // Z: CSTU would just add, but 120 > 100. Majority class 0 at clock 2: X 0.622459 +
        // 0.721348 = 1.343807 is worst and worse than Z's 0.5 + 0.288539 → X is evicted.
        XCTAssertEqual(try b.insert("Z", classIndex: 1, uncertainty: 0.2, byteSize: 40), .added(evicted: 1))
        XCTAssertEqual(names(b), [["Y"], ["Z"]])
        XCTAssertEqual(b.totalBytes, 80)
        // W: would need 20 more bytes; the worst majority item is Z (age 1: 0.562177 + 0.288539 =
        // 0.850716), better than W's 0.5 + 0.9/ln2 = 1.798426 → refused, nothing removed.
        XCTAssertEqual(try b.insert("W", classIndex: 1, uncertainty: 0.9, byteSize: 40), .rejected(.byteBudget))
        XCTAssertEqual(names(b), [["Y"], ["Z"]])
        XCTAssertEqual(try b.insert("V", classIndex: 0, uncertainty: 0, byteSize: 101), .rejected(.payloadTooLarge))
        // U (60 bytes): at clock 5, Y (age 4) 0.731059 + 0.144270 = 0.875329, Z (age 3) 0.679179 +
        // 0.288539 = 0.967718 → Z is evicted, 40 + 60 = 100 fits exactly.
        XCTAssertEqual(try b.insert("U", classIndex: 1, uncertainty: 0, byteSize: 60), .added(evicted: 1))
        XCTAssertEqual(names(b), [["Y"], ["U"]])
        XCTAssertEqual(b.totalBytes, 100)
        // T (100 bytes) needs both gone: Y (0.921573) first, then U (age 1: 0.562177), both > 0.5.
        XCTAssertEqual(try b.insert("T", classIndex: 0, uncertainty: 0, byteSize: 100), .added(evicted: 2))
        XCTAssertEqual(names(b), [["T"], []])
        XCTAssertEqual(b.totalBytes, 100)
        XCTAssertEqual(b.count, 1)
    }

    func testBytesNeverExceedTheBudgetOnARandomStream() throws {
        var b = MemoryBank<Int>(configuration: try MemoryBankConfiguration(classCount: 5, capacity: 16, maxBytes: 1000))
        var rng = SplitMix64(seed: 3)
        var added = 0
        for i in 0..<3000 {
            let r = try b.insert(i, classIndex: Int(rng.next() % 5), uncertainty: rng.uniform() * 1.6,
                                 byteSize: 20 + Int(rng.next() % 180))
            if r.isAdded { added += 1 }
            XCTAssertLessThanOrEqual(b.totalBytes, 1000)
            XCTAssertEqual(b.totalBytes, b.items.reduce(0) { $0 + $1.byteSize })
            XCTAssertEqual(b.count, b.items.count)
        }
        XCTAssertGreaterThan(added, 100)
    }

    func testInvalidInputThrowsAndChangesNothing() throws {
        var b = try bank(classes: 2, capacity: 4)
        try b.insert("a", classIndex: 0, uncertainty: 0.1, byteSize: 1)
        let before = b
        XCTAssertThrowsError(try b.insert("x", classIndex: 2, uncertainty: 0.1, byteSize: 1))
        XCTAssertThrowsError(try b.insert("x", classIndex: -1, uncertainty: 0.1, byteSize: 1))
        XCTAssertThrowsError(try b.insert("x", classIndex: 0, uncertainty: .nan, byteSize: 1))
        XCTAssertThrowsError(try b.insert("x", classIndex: 0, uncertainty: -0.1, byteSize: 1))
        XCTAssertThrowsError(try b.insert("x", classIndex: 0, uncertainty: 0.1, byteSize: -1))
        XCTAssertEqual(b, before)
    }

    func testRemoveAllKeepsTheClock() throws {
        var b = try bank(classes: 2, capacity: 4)
        try b.insert("a", classIndex: 0, uncertainty: 0.1, byteSize: 10)
        try b.insert("b", classIndex: 1, uncertainty: 0.1, byteSize: 10)
        b.removeAll()
        XCTAssertTrue(b.isEmpty)
        XCTAssertEqual(b.totalBytes, 0)
        XCTAssertEqual(b.clock, 2)
    }

    func testCheckpointRoundTripIsExactAndContinuesIdentically() throws {
        var b = MemoryBank<[Float]>(configuration: try MemoryBankConfiguration(classCount: 3, capacity: 6, maxBytes: 64))
        var rng = SplitMix64(seed: 11)
        for _ in 0..<20 {
            try b.insert([rng.uniform(), rng.gaussian()], classIndex: Int(rng.next() % 3),
                         uncertainty: rng.uniform(), byteSize: 8)
        }
        var restored = try TestSupport.roundTrip(b)
        XCTAssertEqual(restored, b)
        for _ in 0..<20 {
            let p: [Float] = [rng.uniform()], c = Int(rng.next() % 3), u = rng.uniform()
            XCTAssertEqual(try b.insert(p, classIndex: c, uncertainty: u, byteSize: 8),
                           try restored.insert(p, classIndex: c, uncertainty: u, byteSize: 8))
        }
        XCTAssertEqual(restored, b)
    }

    func testCorruptCheckpointIsRefused() throws {
        var b = try bank(classes: 2, capacity: 4)
        try b.insert("a", classIndex: 0, uncertainty: 0.1, byteSize: 10)
        var json = try TestSupport.jsonObject(b)
        json["totalBytes"] = 11
        XCTAssertThrowsError(try TestSupport.decode(MemoryBank<String>.self, fromObject: json))
        json = try TestSupport.jsonObject(b)
        var config = json["configuration"] as! [String: Any]
        config["capacity"] = 0
        json["configuration"] = config
        XCTAssertThrowsError(try TestSupport.decode(MemoryBank<String>.self, fromObject: json))
    }

    func testConfigurationIsValidated() {
        TestSupport.assertConfigurationError("MemoryBank.classCount") { () throws(AdaptationConfigurationError) in
            try MemoryBankConfiguration(classCount: 1)
        }
        TestSupport.assertConfigurationError("MemoryBank.capacity") { () throws(AdaptationConfigurationError) in
            try MemoryBankConfiguration(classCount: 10, capacity: 0)
        }
        TestSupport.assertConfigurationError("MemoryBank.timelinessWeight") { () throws(AdaptationConfigurationError) in
            try MemoryBankConfiguration(classCount: 10, timelinessWeight: -1)
        }
        TestSupport.assertConfigurationError("MemoryBank.uncertaintyWeight") { () throws(AdaptationConfigurationError) in
            try MemoryBankConfiguration(classCount: 10, uncertaintyWeight: .nan)
        }
        TestSupport.assertConfigurationError("MemoryBank.maxBytes") { () throws(AdaptationConfigurationError) in
            try MemoryBankConfiguration(classCount: 10, maxBytes: 0)
        }
        let d = try? MemoryBankConfiguration(classCount: 10)
        XCTAssertEqual(d?.capacity, 64)
        XCTAssertEqual(d?.timelinessWeight, 1)
        XCTAssertEqual(d?.uncertaintyWeight, 1)
    }
}
