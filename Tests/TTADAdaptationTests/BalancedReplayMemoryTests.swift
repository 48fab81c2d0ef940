import XCTest
import TTADEngine
@testable import TTADAdaptation

final class BalancedReplayMemoryTests: XCTestCase {
    /// Capacity 4, 3 classes. Fill: a0 a1 (class 0), b0 (1), c0 (2) → full. Insert b1: class 0
    /// alone has the most items (2), so its oldest, a0, goes: [a1] [b0 b1] [c0]. Insert c1: classes
    /// 1 has the most (2): b0 goes → [a1] [b1] [c0 c1]. Insert c2: class 2 has the most: c0 goes
    /// → [a1] [b1] [c1 c2]. The newest sample always gets in.
    func testReplacementOrderByHand() throws {
        var m = try BalancedReplayMemory<String>(classCount: 3, capacity: 4)
        XCTAssertNil(try m.insert("a0", classIndex: 0))
        XCTAssertNil(try m.insert("a1", classIndex: 0))
        XCTAssertNil(try m.insert("b0", classIndex: 1))
        XCTAssertNil(try m.insert("c0", classIndex: 2))
        XCTAssertTrue(m.isFull)
        XCTAssertEqual(try m.insert("b1", classIndex: 1), 0)
        XCTAssertEqual(m.lists, [["a1"], ["b0", "b1"], ["c0"]])
        XCTAssertEqual(try m.insert("c1", classIndex: 2), 1)
        XCTAssertEqual(m.lists, [["a1"], ["b1"], ["c0", "c1"]])
        XCTAssertEqual(try m.insert("c2", classIndex: 2), 2)
        XCTAssertEqual(m.lists, [["a1"], ["b1"], ["c1", "c2"]])
        XCTAssertEqual(m.count, 4)
        XCTAssertEqual(m.draws, 3)
    }

    /// Ties among the fullest classes are broken at random (seeded), over all of them: from
    /// [x] [y] [z] (full at 3) every class gets evicted from for some seed.
    func testTiesAreBrokenAtRandomAcrossTheFullestClasses() throws {
        var evicted = Set<Int>()
        for seed in 0..<40 {
            var m = try BalancedReplayMemory<Int>(classCount: 3, capacity: 3, seed: UInt64(seed))
            for c in 0..<3 { try m.insert(c, classIndex: c) }
            if let e = try m.insert(9, classIndex: 0) { evicted.insert(e) }
        }
        XCTAssertEqual(evicted, [0, 1, 2])
    }

    /// A stream of one class fills the memory with it; a mixed stream afterwards brings it back to
    /// balance, because every insert into a full memory takes from the largest class: classes
    /// 1, 2, 3, 1, 2, 3 after 8 × class 0 give [7,1,0,0] [6,1,1,0] [5,1,1,1] [4,2,1,1] [3,2,2,1]
    /// [2,2,2,2].
    func testDriftsBackTowardBalance() throws {
        var m = try BalancedReplayMemory<Int>(classCount: 4, capacity: 8)
        for i in 0..<20 { try m.insert(i, classIndex: 0) }
        XCTAssertEqual(m.lists.map(\.count), [8, 0, 0, 0])
        for i in 0..<6 { try m.insert(100 + i, classIndex: 1 + i % 3) }
        XCTAssertEqual(m.lists.map(\.count), [2, 2, 2, 2])
    }

    func testBadClassChangesNothingAndCheckpointContinuesExactly() throws {
        var a = try BalancedReplayMemory<Int>(classCount: 3, capacity: 5, seed: 7)
        var rng = SplitMix64(seed: 3)
        for i in 0..<17 { try a.insert(i, classIndex: Int(rng.next() % 3)) }
        let before = a
        XCTAssertThrowsError(try a.insert(1, classIndex: 3))
        XCTAssertEqual(a, before)
        var b = try TestSupport.roundTrip(a)
        XCTAssertEqual(a, b)
        for i in 0..<30 {
            let c = Int(rng.next() % 3)
            XCTAssertEqual(try a.insert(i, classIndex: c), try b.insert(i, classIndex: c))
        }
        XCTAssertEqual(a, b)
        var o = try TestSupport.jsonObject(a)
        o["lists"] = [[1, 2, 3], [4, 5, 6], []]
        XCTAssertThrowsError(try TestSupport.decode(BalancedReplayMemory<Int>.self, fromObject: o), "over capacity")
    }
}
