import Foundation
@testable import TTADEngine

/// Finite-difference gradient checks for the backward kernels.
///
/// The numeric side is always a Double re-implementation of the forward, differentiated by
/// central differences (truncation error O(h²) ≈ 1e-10 at h = 1e-5, rounding ≈ 1e-11/h), so
/// what the comparison measures is the Float kernel's own error, not the check's.
enum GradientCheck {
    /// ∂f/∂xᵢ for every i by central differences in Double.
    static func numericGradient(at x: [Double], h: Double = 1e-5, _ f: ([Double]) -> Double) -> [Double] {
        var probe = x
        var grad = [Double](repeating: 0, count: x.count)
        for i in x.indices {
            let saved = probe[i]
            probe[i] = saved + h
            let up = f(probe)
            probe[i] = saved - h
            let down = f(probe)
            probe[i] = saved
            grad[i] = (up - down) / (2 * h)
        }
        return grad
    }

    /// ‖analytic − numeric‖∞ / ‖numeric‖∞: relative to the gradient's scale, so entries that are
    /// legitimately ~0 don't blow the ratio up. Returns +∞ for a non-finite analytic entry.
    static func relativeError(_ analytic: [Float], _ numeric: [Double]) -> Double {
        precondition(analytic.count == numeric.count, "relativeError: \(analytic.count) vs \(numeric.count)")
        var diff = 0.0, scale = 0.0
        for (a, n) in zip(analytic, numeric) {
            guard a.isFinite else { return .infinity }
            diff = max(diff, abs(Double(a) - n))
            scale = max(scale, abs(n))
        }
        return diff / max(scale, 1e-30)
    }

    /// Largest error seen per check, printed at the end of a test run's output so the magnitudes
    /// can be reported (`swift test 2>&1 | grep "FD "`).
    static func report(_ name: String, _ error: Double) {
        print("FD \(name): rel err \(String(format: "%.2e", error))")
    }

    // MARK: Double references shared by the loss tests

    static func logSoftmax(_ z: [Double]) -> [Double] {
        let m = z.max()!
        let lse = m + Foundation.log(z.map { Foundation.exp($0 - m) }.reduce(0, +))
        return z.map { $0 - lse }
    }

    static func softmax(_ z: [Double]) -> [Double] { logSoftmax(z).map { Foundation.exp($0) } }

    static func entropy(_ z: [Double]) -> Double {
        let lp = logSoftmax(z)
        return -zip(lp, lp).map { Foundation.exp($0) * $1 }.reduce(0, +)
    }

    static func rows(_ flat: [Double], _ classes: Int) -> [[Double]] {
        stride(from: 0, to: flat.count, by: classes).map { Array(flat[$0..<($0 + classes)]) }
    }
}
