import Foundation
@testable import TTADEngine

/// Deterministic inputs and naive double-precision references for the op tests.
enum OpTestSupport {
    static func values(_ n: Int, seed: UInt64, scale: Float = 1) -> [Float] {
        BLASTests.values(n, seed: seed).map { $0 * scale }
    }

    static func buffer(_ values: [Float]) -> FloatBuffer { FloatBuffer(values) }

    static func maxAbsDiff(_ a: [Float], _ b: [Float]) -> Float {
        precondition(a.count == b.count, "maxAbsDiff: \(a.count) vs \(b.count)")
        var m: Float = 0
        for (x, y) in zip(a, b) { m = max(m, abs(x - y)) }
        return m
    }

    static func layerNorm(_ x: [Float], rows: Int, dim: Int, weight: [Float], bias: [Float], eps: Double) -> [Float] {
        var out = x
        for r in 0..<rows {
            let row = x[(r * dim)..<((r + 1) * dim)].map(Double.init)
            let mean = row.reduce(0, +) / Double(dim)
            let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(dim)
            for i in 0..<dim {
                out[r * dim + i] = Float((row[i] - mean) / (variance + eps).squareRoot() * Double(weight[i]) + Double(bias[i]))
            }
        }
        return out
    }
}
