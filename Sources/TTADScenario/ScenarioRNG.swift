#if canImport(Glibc)
import Glibc
#endif
import TTADEngine

/// The engine's `SplitMix64` with what scenarios need on top: double-precision uniforms, normal
/// and Poisson draws, and derived sub-stream seeds. One seed gives the same stream on every
/// machine, which replayable scenarios need and `SystemRandomNumberGenerator` cannot give.
public struct ScenarioRNG: RandomNumberGenerator, Sendable {
    private var core: SplitMix64

    public init(seed: UInt64) { core = SplitMix64(seed: seed) }

    public mutating func next() -> UInt64 { core.next() }

    /// Derives an independent seed for a sub-stream (a sample, a domain step) so that any
    /// position of a stream can be regenerated without replaying everything before it.
    public static func derive(_ seed: UInt64, _ a: UInt64, _ b: UInt64 = 0) -> UInt64 {
        var g = ScenarioRNG(seed: seed ^ (a &* 0xD6E8_FEB8_6659_FD93) ^ (b &* 0xA076_1D64_78BD_642F))
        _ = g.next()
        return g.next()
    }

    /// Uniform in [0, 1) with 53 bits.
    public mutating func uniform() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// Standard normal by Box–Muller (one value per call: simpler to keep deterministic than
    /// caching the pair).
    public mutating func gaussian() -> Double {
        let u1 = max(uniform(), 1e-300)
        let u2 = uniform()
        return (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
    }

    /// Poisson(λ). Knuth's product method is exact but O(λ); above λ = 30 the normal
    /// approximation N(λ, λ) rounded to an integer is within a fraction of a count of the true
    /// distribution's spread, which is all shot noise needs (ImageNet-C's λ goes up to 500·x).
    public mutating func poisson(_ lambda: Double) -> Int {
        if lambda <= 0 { return 0 }
        if lambda < 30 {
            let limit = exp(-lambda)
            var k = 0
            var p = uniform()
            while p > limit { k += 1; p *= uniform() }
            return k
        }
        return max(0, Int((lambda + lambda.squareRoot() * gaussian()).rounded()))
    }

    /// Gamma(shape, 1) by Marsaglia–Tsang; shapes below 1 use the boost Gamma(a+1)·U^(1/a).
    public mutating func gamma(_ shape: Double) -> Double {
        if shape < 1 {
            let u = max(uniform(), 1e-300)
            return gamma(shape + 1) * pow(u, 1 / shape)
        }
        let d = shape - 1.0 / 3.0
        let c = 1 / (9 * d).squareRoot()
        while true {
            var x: Double, v: Double
            repeat { x = gaussian(); v = 1 + c * x } while v <= 0
            v = v * v * v
            let u = uniform()
            if u < 1 - 0.0331 * x * x * x * x { return d * v }
            if log(max(u, 1e-300)) < 0.5 * x * x + d * (1 - v + log(v)) { return d * v }
        }
    }

    /// Symmetric Dirichlet(α, …, α) over `count` components. With small α every Gamma draw can
    /// underflow to 0; the limit of the distribution is then a one-hot vector, which is returned.
    public mutating func dirichlet(_ alpha: Double, count: Int) -> [Double] {
        var g = (0..<count).map { _ in gamma(alpha) }
        let sum = g.reduce(0, +)
        if !(sum > 0) || !sum.isFinite {
            g = [Double](repeating: 0, count: count)
            g[Int(next() % UInt64(count))] = 1
            return g
        }
        return g.map { $0 / sum }
    }

    /// Uniform integer in 0..<n.
    public mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }

    /// Fisher–Yates shuffle of an array in place.
    public mutating func shuffle<T>(_ a: inout [T]) {
        if a.count < 2 { return }
        for i in stride(from: a.count - 1, to: 0, by: -1) { a.swapAt(i, below(i + 1)) }
    }
}
