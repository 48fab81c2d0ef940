import Foundation
import XCTest
@testable import TTADEngine

final class VectorOpsTests: XCTestCase {
    // MARK: Helpers

    private func softmaxed(_ x: [Float]) -> ([Float], VectorOps.SoftmaxStatistics) {
        var v = x
        let stats = v.withUnsafeMutableBufferPointer { VectorOps.softmax(inPlace: $0) }
        return (v, stats)
    }

    private func referenceSoftmax(_ x: [Float]) -> (p: [Double], lse: Double, entropy: Double) {
        let m = Double(x.max()!)
        let e = x.map { Foundation.exp(Double($0) - m) }
        let s = e.reduce(0, +)
        let p = e.map { $0 / s }
        let h = -p.filter { $0 > 0 }.reduce(0.0) { $0 + $1 * Foundation.log($1) }
        return (p, m + Foundation.log(s), h)
    }

    // MARK: Softmax

    func testSoftmaxAgainstFloat64ForManyLengths() {
        for n in [1, 2, 7, 8, 9, 15, 16, 17, 31, 33, 100, 1000, 1003] {
            let x = BLASTests.values(n, seed: UInt64(n)).map { $0 * 20 }
            let (p, stats) = softmaxed(x)
            let ref = referenceSoftmax(x)
            for i in 0..<n { XCTAssertEqual(Double(p[i]), ref.p[i], accuracy: 1e-6, "n=\(n) i=\(i)") }
            XCTAssertEqual(Double(stats.logSumExp), ref.lse, accuracy: 1e-5 * max(1, abs(ref.lse)))
            XCTAssertEqual(Double(stats.entropy), ref.entropy, accuracy: 2e-6 * max(1, ref.entropy), "n=\(n)")
            XCTAssertEqual(stats.max, x.max()!)
            XCTAssertEqual(Double(p.reduce(0, +)), 1, accuracy: 1e-5)
        }
    }

    func testSoftmaxAllEqualIsUniform() {
        for n in [1, 5, 8, 1000] {
            let (p, stats) = softmaxed([Float](repeating: 3.25, count: n))
            for v in p { XCTAssertEqual(v, 1 / Float(n), accuracy: 1e-7) }
            XCTAssertEqual(stats.entropy, Float(Foundation.log(Double(n))), accuracy: 1e-5)
        }
    }

    func testSoftmaxOneHotAndHugeLogits() {
        let (p, stats) = softmaxed([0, 0, 1000, 0, 0, 0, 0, 0, 0])
        XCTAssertEqual(p, [0, 0, 1, 0, 0, 0, 0, 0, 0])
        XCTAssertEqual(stats.entropy, 0)
        XCTAssertEqual(stats.logSumExp, 1000)

        // Near Float.max: a naive exp would overflow; max-subtraction must not.
        let (q, s2) = softmaxed([3e38, 3e38, -3e38])
        XCTAssertEqual(q, [0.5, 0.5, 0])
        XCTAssertEqual(s2.entropy, Float(Foundation.log(2.0)), accuracy: 1e-6)
        let (r, _) = softmaxed([-1e30, -1e30 + 1e24, -1e30])
        XCTAssertEqual(r.reduce(0, +), 1, accuracy: 1e-6)
        XCTAssertTrue(r.allSatisfy { $0.isFinite })
    }

    func testSoftmaxNonFiniteInputs() {
        let (nanOut, nanStats) = softmaxed([1, .nan, 2])
        XCTAssertTrue(nanOut.allSatisfy(\.isNaN))
        XCTAssertTrue(nanStats.entropy.isNaN)

        let (inf, infStats) = softmaxed([1, .infinity, 2, .infinity])
        XCTAssertEqual(inf, [0, 0.5, 0, 0.5])
        XCTAssertEqual(infStats.entropy, Float(Foundation.log(2.0)), accuracy: 1e-6)

        let (allNegInf, _) = softmaxed([-.infinity, -.infinity])
        XCTAssertTrue(allNegInf.allSatisfy(\.isNaN))

        let (someNegInf, stats) = softmaxed([-.infinity, 0, -.infinity, 0, 1, 2, 3, 4, 5])
        XCTAssertEqual(someNegInf[0], 0)
        XCTAssertTrue(stats.entropy.isFinite)

        let (empty, emptyStats) = softmaxed([])
        XCTAssertEqual(empty, [])
        XCTAssertEqual(emptyStats.entropy, 0)
    }

    // MARK: Entropy and logSumExp

    func testEntropyMatchesFloat64AndSoftmaxByproduct() {
        for n in [1, 3, 8, 17, 1000] {
            let x = BLASTests.values(n, seed: 99 + UInt64(n)).map { $0 * 8 }
            let (p, stats) = softmaxed(x)
            let h = p.withUnsafeBufferPointer { VectorOps.entropy(probabilities: $0) }
            let ref = referenceSoftmax(x).entropy
            XCTAssertEqual(Double(h), ref, accuracy: 2e-6 * max(1, ref), "n=\(n)")
            XCTAssertEqual(h, stats.entropy, accuracy: 2e-6 * max(1, stats.entropy))
        }
    }

    func testEntropyEdgeCases() {
        func h(_ p: [Float]) -> Float { p.withUnsafeBufferPointer { VectorOps.entropy(probabilities: $0) } }
        XCTAssertEqual(h([]), 0)
        XCTAssertEqual(h([1]), 0)
        XCTAssertEqual(h([0, 0, 1, 0, 0, 0, 0, 0, 0, 0]), 0)            // 0·log 0 = 0
        XCTAssertEqual(h([Float](repeating: 0.001, count: 1000)), Float(Foundation.log(1000.0)), accuracy: 1e-5)
        XCTAssertEqual(h([0.5, 0.5, 0]), Float(Foundation.log(2.0)), accuracy: 1e-7)
        XCTAssertTrue(h([0.5, .nan]).isNaN)
        XCTAssertEqual(h([.leastNonzeroMagnitude, 1]), 0, accuracy: 1e-38)              // subnormal probability
    }

    func testLogSumExp() {
        func lse(_ x: [Float]) -> Float { x.withUnsafeBufferPointer { VectorOps.logSumExp($0) } }
        for n in [1, 9, 16, 1000] {
            let x = BLASTests.values(n, seed: 7 + UInt64(n)).map { $0 * 50 }
            XCTAssertEqual(Double(lse(x)), referenceSoftmax(x).lse, accuracy: 1e-5 * 50)
        }
        XCTAssertEqual(lse([]), -.infinity)
        XCTAssertEqual(lse([1e30, 1e30]), 1e30)
        XCTAssertEqual(lse([0, 0]), Float(Foundation.log(2.0)), accuracy: 1e-7)
        XCTAssertEqual(lse([1, .infinity]), .infinity)
        XCTAssertEqual(lse([-.infinity, -.infinity]), -.infinity)
        XCTAssertTrue(lse([1, .nan]).isNaN)
    }

    // MARK: Top-k

    private func top(_ x: [Float], _ k: Int) -> [(index: Int, value: Float)] {
        var out: [(index: Int, value: Float)] = []
        x.withUnsafeBufferPointer { VectorOps.topK($0, k: k, into: &out) }
        return out
    }

    func testTopKOrderAndTies() {
        let x: [Float] = [1, 5, 3, 5, 2, 5, 0]
        XCTAssertEqual(top(x, 3).map(\.index), [1, 3, 5])       // ties: lower index first
        XCTAssertEqual(top(x, 4).map(\.index), [1, 3, 5, 2])
        XCTAssertEqual(top(x, 4).map(\.value), [5, 5, 5, 3])
        XCTAssertEqual(top([Float](repeating: 0, count: 10), 3).map(\.index), [0, 1, 2])
        XCTAssertEqual(top([1, 2], 5).map(\.index), [1, 0])      // k > n
        XCTAssertTrue(top(x, 0).isEmpty)
        XCTAssertTrue(top([], 3).isEmpty)
        XCTAssertEqual(top([.nan, 1, .nan, -.infinity], 3).map(\.index), [1, 3, 0])  // NaN last
    }

    func testTopKMatchesSortOnRandomData() {
        for n in [10, 100, 1000] {
            // Quantised values force plenty of ties.
            let x = BLASTests.values(n, seed: UInt64(n) * 3).map { ($0 * 10).rounded() }
            let expected = x.enumerated().sorted { $0.element > $1.element || ($0.element == $1.element && $0.offset < $1.offset) }
            for k in [1, 5, 10] {
                XCTAssertEqual(top(x, k).map(\.index), expected.prefix(k).map(\.offset), "n=\(n) k=\(k)")
            }
        }
    }

    func testTopKReusesCapacity() {
        var out: [(index: Int, value: Float)] = []
        out.reserveCapacity(5)
        let x = BLASTests.values(1000, seed: 1)
        x.withUnsafeBufferPointer { VectorOps.topK($0, k: 5, into: &out) }
        let address = out.withUnsafeBufferPointer { $0.baseAddress }
        for seed in 2..<10 {
            let y = BLASTests.values(1000, seed: UInt64(seed))
            y.withUnsafeBufferPointer { VectorOps.topK($0, k: 5, into: &out) }
            XCTAssertEqual(out.withUnsafeBufferPointer { $0.baseAddress }, address)
        }
    }

    // MARK: Norms and dot

    private func normalised(_ x: [Float]) -> ([Float], Float) {
        var v = x
        let n = v.withUnsafeMutableBufferPointer { VectorOps.l2Normalize(inPlace: $0) }
        return (v, n)
    }

    func testL2Normalize() {
        for n in [1, 3, 8, 13, 512, 515] {
            let x = BLASTests.values(n, seed: UInt64(n) + 11)
            let (v, norm) = normalised(x)
            let ref = x.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
            XCTAssertEqual(Double(norm), ref, accuracy: 1e-6 * ref)
            let unit = v.reduce(0.0) { $0 + Double($1) * Double($1) }
            XCTAssertEqual(unit, 1, accuracy: 1e-6, "n=\(n)")
        }
    }

    func testL2NormalizeEdgeCases() {
        let (zero, zn) = normalised([0, 0, 0, 0, 0, 0, 0, 0, 0])
        XCTAssertEqual(zn, 0)
        XCTAssertEqual(zero, [0, 0, 0, 0, 0, 0, 0, 0, 0])           // untouched, no NaN

        let (big, bn) = normalised([3e30, 4e30])                     // sum of squares overflows Float
        XCTAssertEqual(bn, 5e30, accuracy: 5e24)
        XCTAssertEqual(big[0], 0.6, accuracy: 1e-7)
        XCTAssertEqual(big[1], 0.8, accuracy: 1e-7)

        let (tiny, tn) = normalised([3e-30, 4e-30])                  // sum of squares underflows
        XCTAssertEqual(tn, 5e-30, accuracy: 5e-36)
        XCTAssertEqual(tiny[0], 0.6, accuracy: 1e-7)

        let (nanVec, nn) = normalised([1, .nan, 2])
        XCTAssertTrue(nn.isNaN)
        XCTAssertEqual(nanVec[0], 1)

        let (_, en) = normalised([])
        XCTAssertEqual(en, 0)
    }

    func testDotAndMax() {
        for n in [0, 1, 7, 32, 33, 512, 1000] {
            let x = BLASTests.values(n, seed: 21), y = BLASTests.values(n, seed: 22)
            let d = x.withUnsafeBufferPointer { xp in y.withUnsafeBufferPointer { VectorOps.dot(xp, $0) } }
            let ref = zip(x, y).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            XCTAssertEqual(Double(d), ref, accuracy: 1e-5)
            let m = x.withUnsafeBufferPointer { VectorOps.max($0) }
            XCTAssertEqual(m, x.max() ?? -.infinity)
        }
        XCTAssertEqual([Float.nan, 2, 1].withUnsafeBufferPointer { VectorOps.max($0) }, 2)
    }
}

final class VectorOpsArgmaxTests: XCTestCase {
    private func argmax(_ v: [Float]) -> Int { v.withUnsafeBufferPointer { VectorOps.argmax($0) } }

    func testArgmaxTakesTheLowestIndexOfTheLargestAndIgnoresNaN() {
        XCTAssertEqual(argmax([1, 3, 2]), 1)
        XCTAssertEqual(argmax([5, 5, 1]), 0)
        XCTAssertEqual(argmax([.nan, 2, 7, .nan]), 2)
        XCTAssertEqual(argmax([-.infinity, -.infinity]), 0)
        XCTAssertEqual(argmax([.nan]), -1)
        XCTAssertEqual(argmax([]), -1)
    }
}
