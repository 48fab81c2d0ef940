import Foundation
import XCTest
@testable import TTADEngine

final class LossesTests: XCTestCase {
    private typealias G = GradientCheck

    /// Logits of CLIP-like spread (±4·scale) for `rows × classes`.
    private func logits(_ rows: Int, _ classes: Int, seed: UInt64, scale: Float = 4) -> [Float] {
        OpTestSupport.values(rows * classes, seed: seed, scale: scale)
    }

    // MARK: (a) entropy

    func testEntropyValuesAndGradientMatchDoubleReference() {
        var worst = 0.0
        // 13 classes = 8 + tail 5; 37 = 2·16 + 5; 3 = tail only.
        for (rows, classes) in [(2, 3), (3, 13), (2, 37)] {
            let z = logits(rows, classes, seed: UInt64(classes))
            let dH = OpTestSupport.values(rows, seed: 5).map { $0 + 0.5 }
            let zb = FloatBuffer(z), h = FloatBuffer(count: rows), dz = FloatBuffer(count: rows * classes)
            Losses.entropy(logits: zb.pointer, rows: rows, classes: classes, entropies: h.pointer)
            let zd = z.map(Double.init)
            for (r, row) in G.rows(zd, classes).enumerated() {
                XCTAssertEqual(Double(h.array[r]), G.entropy(row), accuracy: 2e-6)
            }
            dz.fill(.nan)
            let dHb = FloatBuffer(dH)
            Losses.entropyBackward(logits: zb.pointer, rows: rows, classes: classes, dEntropy: dHb.pointer, dLogits: dz.pointer)
            let numeric = G.numericGradient(at: zd) { x in
                G.rows(x, classes).enumerated().map { Double(dH[$0.offset]) * G.entropy($0.element) }.reduce(0, +)
            }
            let e = G.relativeError(dz.array, numeric)
            worst = max(worst, e)
            XCTAssertLessThan(e, 1e-4, "\(rows)×\(classes)")
        }
        G.report("entropy", worst)
    }

    func testEntropyEdgeCases() {
        // Uniform logits: H = ln C exactly and zero gradient; a near one-hot row: H ≈ 0 with
        // finite (tiny) gradient, even where probabilities underflow to 0.
        let c = 10
        let z = FloatBuffer([Float](repeating: 3, count: c) + [200] + [Float](repeating: 0, count: c - 1))
        let h = FloatBuffer(count: 2), dz = FloatBuffer(count: 2 * c), ones = FloatBuffer([1, 1])
        Losses.entropy(logits: z.pointer, rows: 2, classes: c, entropies: h.pointer)
        XCTAssertEqual(h.array[0], Float(Foundation.log(Double(c))), accuracy: 1e-6)
        XCTAssertEqual(h.array[1], 0, accuracy: 1e-6)
        Losses.entropyBackward(logits: z.pointer, rows: 2, classes: c, dEntropy: ones.pointer, dLogits: dz.pointer)
        XCTAssertTrue(dz.array.allSatisfy { $0.isFinite && abs($0) < 1e-6 }, "\(dz.array)")
        // Non-finite logits surface as NaN, not as a plausible number.
        let bad = FloatBuffer([0, .nan, 1]), hb = FloatBuffer(count: 1)
        Losses.entropy(logits: bad.pointer, rows: 1, classes: 3, entropies: hb.pointer)
        XCTAssertTrue(hb.array[0].isNaN)
    }

    // MARK: (b) TPT selection and marginal entropy

    func testConfidentCountFollowsPythonIntTruncation() {
        XCTAssertEqual(Losses.confidentCount(rows: 64, fraction: 0.1), 6)        // TPT's default: int(6.4)
        XCTAssertEqual(Losses.confidentCount(rows: 16, fraction: 0.1), 1)        // int(1.6)
        XCTAssertEqual(Losses.confidentCount(rows: 100, fraction: 0.29), 28)     // 28.999999999999996 in IEEE
        XCTAssertEqual(Losses.confidentCount(rows: 10, fraction: 0.7), 7)        // 7.000000000000001
        XCTAssertEqual(Losses.confidentCount(rows: 8, fraction: 0.1), 1)         // int(0.8) = 0, kept at 1
        XCTAssertEqual(Losses.confidentCount(rows: 5, fraction: 1), 5)
    }

    func testSelectLowestEntropyOrdersAscendingWithStableTiesAndNaNLast() {
        let h: [Float] = [0.5, .nan, 0.1, 0.5, 0.05, 2, 0.1, 0.3]
        let hb = FloatBuffer(h)
        func select(_ k: Int) -> [Int] {
            var out = [Int](repeating: -1, count: k)
            out.withUnsafeMutableBufferPointer { Losses.selectLowestEntropy(entropies: hb.pointer, rows: h.count, count: k, indices: $0.baseAddress!) }
            return out
        }
        XCTAssertEqual(select(3), [4, 2, 6])
        XCTAssertEqual(select(5), [4, 2, 6, 7, 0])
        XCTAssertEqual(select(8), [4, 2, 6, 7, 0, 3, 5, 1])
        XCTAssertEqual(select(1), [4])
    }

    /// −Σ p̄ log p̄ over the selected rows in Double.
    private func marginalReference(_ z: [Double], _ classes: Int, _ selected: [Int]) -> Double {
        let rows = G.rows(z, classes)
        var pBar = [Double](repeating: 0, count: classes)
        for i in selected { for (c, p) in G.softmax(rows[i]).enumerated() { pBar[c] += p / Double(selected.count) } }
        return -pBar.map { $0 > 0 ? $0 * Foundation.log($0) : 0 }.reduce(0, +)
    }

    private func marginal(_ z: [Float], rows: Int, classes: Int, _ selected: [Int], grad: Bool) -> (Float, [Float]) {
        let zb = FloatBuffer(z), scratch = FloatBuffer(count: classes), dz = FloatBuffer(count: rows * classes)
        dz.fill(.nan)
        let loss = selected.withUnsafeBufferPointer {
            Losses.marginalEntropy(logits: zb.pointer, rows: rows, classes: classes, selected: $0,
                                   scratch: scratch.pointer, dLogits: grad ? dz.pointer : nil)
        }
        return (loss, dz.array)
    }

    func testMarginalEntropyHandWorked() {
        // Two views, two classes: p₀ = (½, ½), p₁ = (¾, ¼) (logits (ln 3, 0)); p̄ = (5/8, 3/8).
        // L = −(5/8 ln 5/8 + 3/8 ln 3/8); ∂L/∂z_i = −½ pᵢ ⊙ (log p̄ − pᵢ·log p̄).
        let z: [Float] = [0, 0, Float(Foundation.log(3.0)), 0]
        let (loss, grad) = marginal(z, rows: 2, classes: 2, [0, 1], grad: true)
        let l0 = Foundation.log(5.0 / 8), l1 = Foundation.log(3.0 / 8)
        XCTAssertEqual(Double(loss), -(5.0 / 8 * l0 + 3.0 / 8 * l1), accuracy: 1e-6)
        for (r, p) in [[0.5, 0.5], [0.75, 0.25]].enumerated() {
            let dot = p[0] * l0 + p[1] * l1
            XCTAssertEqual(Double(grad[2 * r]), -0.5 * p[0] * (l0 - dot), accuracy: 1e-6)
            XCTAssertEqual(Double(grad[2 * r + 1]), -0.5 * p[1] * (l1 - dot), accuracy: 1e-6)
        }
    }

    func testMarginalEntropyGradientMatchesFiniteDifferencesAndZeroesUnselectedRows() {
        var worst = 0.0
        for (rows, classes, fraction) in [(8, 5, 0.5), (16, 19, 0.25), (12, 3, 1.0)] {
            let z = logits(rows, classes, seed: UInt64(rows + classes))
            let zb = FloatBuffer(z), h = FloatBuffer(count: rows)
            Losses.entropy(logits: zb.pointer, rows: rows, classes: classes, entropies: h.pointer)
            let k = Losses.confidentCount(rows: rows, fraction: fraction)
            var selected = [Int](repeating: 0, count: k)
            selected.withUnsafeMutableBufferPointer {
                Losses.selectLowestEntropy(entropies: h.pointer, rows: rows, count: k, indices: $0.baseAddress!)
            }
            let (loss, grad) = marginal(z, rows: rows, classes: classes, selected, grad: true)
            let zd = z.map(Double.init)
            XCTAssertEqual(Double(loss), marginalReference(zd, classes, selected), accuracy: 2e-6)
            XCTAssertEqual(marginal(z, rows: rows, classes: classes, selected, grad: false).0, loss, "value without gradient")
            let numeric = G.numericGradient(at: zd) { marginalReference($0, classes, selected) }
            let e = G.relativeError(grad, numeric)
            worst = max(worst, e)
            XCTAssertLessThan(e, 1e-4, "\(rows)×\(classes) k=\(k)")
            for r in 0..<rows where !selected.contains(r) {
                XCTAssertTrue(grad[(r * classes)..<((r + 1) * classes)].allSatisfy { $0 == 0 }, "row \(r) not selected")
            }
        }
        G.report("TPT marginal entropy", worst)
    }

    func testMarginalEntropyOfIdenticalViewsIsTheirEntropy() {
        // k copies of one row: p̄ = p, so L = H(p), and the gradient splits evenly: each row
        // gets (1/k)·∂H/∂z (the p̄-form reduces to the entropy gradient when all pᵢ agree).
        let classes = 11, k = 4
        let row = logits(1, classes, seed: 3)
        let z = Array([[Float]](repeating: row, count: k).joined())
        let (loss, grad) = marginal(z, rows: k, classes: classes, Array(0..<k), grad: true)
        let zb = FloatBuffer(row), h = FloatBuffer(count: 1), dh = FloatBuffer(count: classes), one = FloatBuffer([1])
        Losses.entropy(logits: zb.pointer, rows: 1, classes: classes, entropies: h.pointer)
        Losses.entropyBackward(logits: zb.pointer, rows: 1, classes: classes, dEntropy: one.pointer, dLogits: dh.pointer)
        XCTAssertEqual(loss, h.array[0], accuracy: 1e-5)
        for r in 0..<k {
            XCTAssertLessThan(OpTestSupport.maxAbsDiff(Array(grad[(r * classes)..<((r + 1) * classes)]), dh.array.map { $0 / Float(k) }), 1e-6)
        }
    }
}
