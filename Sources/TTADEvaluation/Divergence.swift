import Foundation

/// Divergences between class histograms: how far a window's predicted-class distribution has
/// moved from a reference window's.
public enum Divergence {
    /// Jensen–Shannon divergence in bits (0 = same distribution, 1 = disjoint supports) between
    /// two histograms of equal length, each normalised to sum 1. An empty histogram gives 0.
    public static func jensenShannonBits(_ a: [Int], _ b: [Int]) -> Double {
        precondition(a.count == b.count, "histograms of different lengths")
        let sa = Double(a.reduce(0, +)), sb = Double(b.reduce(0, +))
        guard sa > 0, sb > 0 else { return 0 }
        var js = 0.0
        for i in a.indices {
            let p = Double(a[i]) / sa, q = Double(b[i]) / sb
            let m = 0.5 * (p + q)
            if p > 0 { js += 0.5 * p * log2(p / m) }
            if q > 0 { js += 0.5 * q * log2(q / m) }
        }
        return max(0, min(1, js))
    }
}
