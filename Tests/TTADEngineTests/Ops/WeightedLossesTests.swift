import Foundation
import XCTest
@testable import TTADEngine

/// Losses (c) weighted entropy (EATA/SAR/STAMP) and (d) soft-target cross-entropy (RoTTA).
final class WeightedLossesTests: XCTestCase {
    private typealias G = GradientCheck

    private enum Kind {
        case uniform, given([Float]), margin(Float, detached: Bool), normalized(Float, detached: Bool)

        var detached: Bool {
            switch self {
            case .uniform, .given: return true
            case .margin(_, let d), .normalized(_, let d): return d
            }
        }

        /// Weights as functions of the entropies, in Double.
        func weights(_ h: [Double]) -> [Double] {
            switch self {
            case .uniform: return h.map { _ in 1 }
            case .given(let w): return w.map(Double.init)
            case .margin(let m, _): return h.map { Foundation.exp(Double(m) - $0) }
            case .normalized(let t, _):
                let e = h.map { Foundation.exp(-$0) }
                let s = e.reduce(0, +)
                return e.map { Double(t) * $0 / s }
            }
        }
    }

    private func reference(_ z: [Double], classes: Int, _ kind: Kind, _ norm: Losses.Normalization,
                           frozen: [Double]?) -> Double {
        let h = G.rows(z, classes).map(G.entropy)
        let w = frozen ?? kind.weights(h)
        let weighted = zip(w, h).map { $0 * $1 }.reduce(0, +)
        return weighted / (norm == .rowCount ? Double(h.count) : w.reduce(0, +))
    }

    private func run(_ z: [Float], rows: Int, classes: Int, _ kind: Kind, _ norm: Losses.Normalization)
        -> (loss: Float, h: [Float], w: [Float], grad: [Float]) {
        let zb = FloatBuffer(z), h = FloatBuffer(count: rows), w = FloatBuffer(count: rows)
        let dz = FloatBuffer(count: rows * classes)
        dz.fill(.nan)
        let given = FloatBuffer({ if case .given(let g) = kind { return g } else { return [] } }())
        let weights: Losses.EntropyWeights
        switch kind {
        case .uniform: weights = .uniform
        case .given: weights = .given(given.pointer)
        case .margin(let m, let d): weights = .exponentialMargin(margin: m, detached: d)
        case .normalized(let t, let d): weights = .normalizedExponential(total: t, detached: d)
        }
        let loss = Losses.weightedEntropy(logits: zb.pointer, rows: rows, classes: classes, weights: weights,
                                          normalization: norm, entropies: h.pointer, rowWeights: w.pointer,
                                          dLogits: dz.pointer)
        return (loss, h.array, w.array, dz.array)
    }

    func testWeightedEntropyGradientMatchesFiniteDifferencesForEveryVariant() {
        let rows = 5, classes = 13
        let z = OpTestSupport.values(rows * classes, seed: 61, scale: 3)
        let zd = z.map(Double.init)
        let kinds: [(String, Kind)] = [
            ("uniform", .uniform), ("given", .given([0.5, 2, 1, 0.25, 1.5])),
            ("margin detached", .margin(1.0, detached: true)), ("margin", .margin(1.0, detached: false)),
            ("stamp detached", .normalized(64, detached: true)), ("stamp", .normalized(64, detached: false)),
        ]
        var worst = 0.0
        for (name, kind) in kinds {
            for norm in [Losses.Normalization.rowCount, .weightSum] {
                let out = run(z, rows: rows, classes: classes, kind, norm)
                let w0 = kind.weights(G.rows(zd, classes).map(G.entropy))
                let frozen = kind.detached ? w0 : nil
                XCTAssertEqual(Double(out.loss), reference(zd, classes: classes, kind, norm, frozen: nil), accuracy: 1e-5, name)
                XCTAssertLessThan(OpTestSupport.maxAbsDiff(out.w, w0.map { Float($0) }), 1e-4, "\(name) weights")
                let numeric = G.numericGradient(at: zd) { reference($0, classes: classes, kind, norm, frozen: frozen) }
                let e = G.relativeError(out.grad, numeric)
                worst = max(worst, e)
                XCTAssertLessThan(e, 1e-4, "\(name) \(norm)")
            }
        }
        G.report("weighted entropy (6 weightings × 2 normalisations)", worst)
    }

    func testStampWeightsAndDetachingMatters() {
        // STAMP: w = 64·softmax(−H) sums to 64 even for 5 items; lower entropy → larger weight;
        // the loss is mean(w·H). Gradient through the weights differs from the detached one.
        let rows = 5, classes = 7
        let z = OpTestSupport.values(rows * classes, seed: 62, scale: 3)
        let live = run(z, rows: rows, classes: classes, .normalized(64, detached: false), .rowCount)
        let detached = run(z, rows: rows, classes: classes, .normalized(64, detached: true), .rowCount)
        XCTAssertEqual(Double(live.w.reduce(0, +)), 64, accuracy: 1e-4)
        let order = live.h.indices.sorted { live.h[$0] < live.h[$1] }
        for (a, b) in zip(order, order.dropFirst()) { XCTAssertGreaterThan(live.w[a], live.w[b]) }
        let mean = zip(live.w, live.h).map { Double($0) * Double($1) }.reduce(0, +) / Double(rows)
        XCTAssertEqual(Double(live.loss), mean, accuracy: 1e-5)
        XCTAssertEqual(live.loss, detached.loss)
        XCTAssertGreaterThan(OpTestSupport.maxAbsDiff(live.grad, detached.grad), 1e-3)
    }

    func testUniformIsMeanEntropyAndMarginWeightsAreExpOfMarginMinusEntropy() {
        let rows = 3, classes = 9
        let z = OpTestSupport.values(rows * classes, seed: 63, scale: 3)
        let u = run(z, rows: rows, classes: classes, .uniform, .rowCount)
        XCTAssertEqual(u.loss, u.h.reduce(0, +) / Float(rows), accuracy: 1e-6)
        XCTAssertEqual(u.w, [1, 1, 1])
        let m = run(z, rows: rows, classes: classes, .margin(0.4 * Float(Foundation.log(9.0)), detached: true), .rowCount)
        for r in 0..<rows {
            XCTAssertEqual(Double(m.w[r]), Foundation.exp(0.4 * Foundation.log(9.0) - Double(m.h[r])), accuracy: 1e-5)
        }
        // .weightSum with uniform weights is the same mean.
        XCTAssertEqual(run(z, rows: rows, classes: classes, .uniform, .weightSum).loss, u.loss, accuracy: 1e-6)
    }

    // MARK: (d) soft-target cross-entropy

    private func crossEntropy(_ z: [Float], _ q: [Float], _ w: [Float]?, rows: Int, classes: Int,
                              _ norm: Losses.Normalization) -> (Float, [Float]) {
        let zb = FloatBuffer(z), qb = FloatBuffer(q), wb = FloatBuffer(w ?? [])
        let dz = FloatBuffer(count: rows * classes)
        dz.fill(.nan)
        let loss = Losses.softCrossEntropy(logits: zb.pointer, targets: qb.pointer, rows: rows, classes: classes,
                                           rowWeights: w == nil ? nil : UnsafePointer(wb.pointer),
                                           normalization: norm, dLogits: dz.pointer)
        return (loss, dz.array)
    }

    func testSoftCrossEntropyHandWorked() {
        // Logits (ln 3, 0) → p = (¾, ¼); one-hot target on class 0: CE = −ln ¾, ∂/∂z = p − q = (−¼, ¼).
        let z: [Float] = [Float(Foundation.log(3.0)), 0], q: [Float] = [1, 0]
        let (l1, g1) = crossEntropy(z, q, nil, rows: 1, classes: 2, .rowCount)
        XCTAssertEqual(Double(l1), -Foundation.log(0.75), accuracy: 1e-6)
        XCTAssertEqual(g1[0], -0.25, accuracy: 1e-6)
        XCTAssertEqual(g1[1], 0.25, accuracy: 1e-6)
        // Row weight 2: doubled under .rowCount (mean of w·CE), unchanged under .weightSum.
        let (l2, g2) = crossEntropy(z, q, [2], rows: 1, classes: 2, .rowCount)
        XCTAssertEqual(Double(l2), -2 * Foundation.log(0.75), accuracy: 1e-6)
        XCTAssertEqual(g2[1], 0.5, accuracy: 1e-6)
        let (l3, g3) = crossEntropy(z, q, [2], rows: 1, classes: 2, .weightSum)
        XCTAssertEqual(l3, l1, accuracy: 1e-7)
        XCTAssertEqual(g3, g1)
    }

    func testSoftCrossEntropyGradientMatchesFiniteDifferences() {
        var worst = 0.0
        let rows = 4, classes = 13
        let z = OpTestSupport.values(rows * classes, seed: 71, scale: 3)
        // Teacher softmax targets; row 3's targets scaled to sum to 0.7 to exercise the Σq term.
        var q = [Float]()
        for (r, row) in G.rows(OpTestSupport.values(rows * classes, seed: 72, scale: 3).map(Double.init), classes).enumerated() {
            q += G.softmax(row).map { Float($0 * (r == 3 ? 0.7 : 1)) }
        }
        let w: [Float] = [0.3, 1, 0.6, 0.45]                          // e.g. RoTTA's e^{−ā}/(1+e^{−ā})
        for (weights, norm) in [(nil, Losses.Normalization.rowCount), (w, .rowCount), (w, .weightSum)] {
            let (loss, grad) = crossEntropy(z, q, weights, rows: rows, classes: classes, norm)
            let f: ([Double]) -> Double = { x in
                var total = 0.0, wsum = 0.0
                for (r, row) in G.rows(x, classes).enumerated() {
                    let ce = -zip(G.logSoftmax(row), q[(r * classes)..<((r + 1) * classes)]).map { $0 * Double($1) }.reduce(0, +)
                    let wr = Double(weights?[r] ?? 1)
                    total += wr * ce
                    wsum += wr
                }
                return total / (norm == .rowCount ? Double(rows) : wsum)
            }
            let zd = z.map(Double.init)
            XCTAssertEqual(Double(loss), f(zd), accuracy: 1e-5)
            let e = G.relativeError(grad, G.numericGradient(at: zd, f))
            worst = max(worst, e)
            XCTAssertLessThan(e, 1e-4, "weights=\(weights != nil) \(norm)")
        }
        G.report("soft cross-entropy", worst)
    }
}
