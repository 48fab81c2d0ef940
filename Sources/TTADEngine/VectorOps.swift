#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reductions and normalisations over contiguous Float vectors: the per-row work that follows a
/// matmul (softmax over class logits, entropy, top-k, L2 normalisation).
///
/// Why hand-vectorised: a plain Swift `for` loop summing Floats is not vectorised (IEEE
/// addition is not associative, so LLVM must keep the sequential order). Every reduction here
/// keeps several independent `SIMD8` accumulators, which both vectorises and hides FMA latency.
/// The results therefore differ from a sequential sum in the last bits — by design.
///
/// All functions take unsafe buffer pointers so callers can run them on slices of preallocated
/// scratch memory without allocating. None of them allocates.
public enum VectorOps {
    /// What a softmax learned about its input, returned so callers need not recompute it.
    public struct SoftmaxStatistics: Sendable, Equatable {
        /// Largest input value (the shift used for stability).
        public var max: Float
        /// log Σ exp(xᵢ), i.e. the log of the normaliser.
        public var logSumExp: Float
        /// Entropy of the resulting distribution in nats, computed from the logits
        /// (H = log S − Σ eᵢ(xᵢ−max)/S) so it costs no extra logarithms.
        public var entropy: Float
    }

    // MARK: Softmax

    /// Replaces `values` with softmax(values), subtracting the maximum first so that no input
    /// magnitude overflows. Returns the max, log-sum-exp and entropy as by-products.
    ///
    /// Edge cases: an empty buffer is left alone (max −∞, logSumExp −∞, entropy 0). If any input
    /// is NaN, or all inputs are −∞, every output is NaN. Inputs equal to +∞ share the mass
    /// equally (softmax's limit), everything else gets 0.
    @discardableResult
    public static func softmax(inPlace values: UnsafeMutableBufferPointer<Float>) -> SoftmaxStatistics {
        guard let base = values.baseAddress, values.count > 0 else {
            return SoftmaxStatistics(max: -.infinity, logSumExp: -.infinity, entropy: 0)
        }
        let n = values.count
        let m = maximum(UnsafePointer(base), n)
        if !m.isFinite { return softmaxNonFiniteMax(values, max: m) }

        // Pass 1: eᵢ = exp(xᵢ − m) stored in place; S = Σ eᵢ; W = Σ eᵢ·(xᵢ − m).
        let mv = SIMD8<Float>(repeating: m)
        let floor = SIMD8<Float>(repeating: FastMath.expLowerLimit)   // keeps 0·(−∞) out of W
        var s0 = SIMD8<Float>(), s1 = SIMD8<Float>(), w0 = SIMD8<Float>(), w1 = SIMD8<Float>()
        var i = 0
        while i + 16 <= n {
            let d0 = loadVector8(base, i) - mv
            let d1 = loadVector8(base, i + 8) - mv
            let e0 = vectorExp(d0), e1 = vectorExp(d1)
            storeVector8(e0, base, i)
            storeVector8(e1, base, i + 8)
            s0 += e0; s1 += e1
            w0 = w0.addingProduct(e0, laneMax(d0, floor))
            w1 = w1.addingProduct(e1, laneMax(d1, floor))
            i += 16
        }
        while i + 8 <= n {
            let d0 = loadVector8(base, i) - mv
            let e0 = vectorExp(d0)
            storeVector8(e0, base, i)
            s0 += e0
            w0 = w0.addingProduct(e0, laneMax(d0, floor))
            i += 8
        }
        var sum = (s0 + s1).sum()
        var weighted = (w0 + w1).sum()
        if i < n {
            // Tail through the same vector exp so every element sees identical arithmetic.
            var lanes = SIMD8<Float>(repeating: -.infinity)
            for j in i..<n { lanes[j - i] = base[j] - m }
            let e = vectorExp(lanes)
            let w = e * laneMax(lanes, floor)
            for j in i..<n {
                base[j] = e[j - i]
                sum += e[j - i]
                weighted += w[j - i]
            }
        }

        if sum.isNaN {
            // A NaN input: the distribution is undefined; say so loudly rather than half-valid.
            values.update(repeating: .nan)
            return SoftmaxStatistics(max: .nan, logSumExp: .nan, entropy: .nan)
        }

        // Pass 2: normalise. sum ≥ 1 because the max element contributed exp(0) = 1.
        scale(values, by: 1 / sum)
        let logSum = log(sum)
        let entropy = Swift.max(0, logSum - weighted / sum)   // clamp −1e-7 round-off at one-hot
        return SoftmaxStatistics(max: m, logSumExp: m + logSum, entropy: entropy)
    }

    /// log Σ exp(xᵢ) without overflow. Empty → −∞; any NaN → NaN; any +∞ → +∞.
    public static func logSumExp(_ values: UnsafeBufferPointer<Float>) -> Float {
        guard let base = values.baseAddress, values.count > 0 else { return -.infinity }
        let n = values.count
        let m = maximum(base, n)
        if !m.isFinite {
            if values.contains(where: { $0.isNaN }) { return .nan }
            return m                                           // +∞, or −∞ when all are −∞
        }
        let mv = SIMD8<Float>(repeating: m)
        var s0 = SIMD8<Float>(), s1 = SIMD8<Float>()
        var i = 0
        while i + 16 <= n {
            s0 += vectorExp(loadVector8(base, i) - mv)
            s1 += vectorExp(loadVector8(base, i + 8) - mv)
            i += 16
        }
        if i + 8 <= n {
            s0 += vectorExp(loadVector8(base, i) - mv)
            i += 8
        }
        if i < n {
            var lanes = SIMD8<Float>(repeating: -.infinity)
            for j in i..<n { lanes[j - i] = base[j] - m }
            s1 += vectorExp(lanes)
        }
        return m + log((s0 + s1).sum())
    }

    // MARK: Entropy

    /// Shannon entropy −Σ pᵢ log pᵢ in nats of a probability vector. Entries ≤ 0 contribute 0
    /// (the 0·log 0 = 0 convention); NaN entries make the result NaN. The input is not checked
    /// to sum to 1.
    public static func entropy(probabilities: UnsafeBufferPointer<Float>) -> Float {
        guard let base = probabilities.baseAddress, probabilities.count > 0 else { return 0 }
        let n = probabilities.count
        let zero = SIMD8<Float>()
        var a0 = SIMD8<Float>(), a1 = SIMD8<Float>()
        var i = 0
        @inline(__always) func term(_ p: SIMD8<Float>) -> SIMD8<Float> {
            var t = p * vectorLog(p)
            t.replace(with: zero, where: p .<= zero)
            return t
        }
        while i + 16 <= n {
            a0 += term(loadVector8(base, i))
            a1 += term(loadVector8(base, i + 8))
            i += 16
        }
        if i + 8 <= n {
            a0 += term(loadVector8(base, i))
            i += 8
        }
        if i < n {
            var lanes = SIMD8<Float>()                        // padding 0 contributes 0
            for j in i..<n { lanes[j - i] = base[j] }
            a1 += term(lanes)
        }
        let h = -(a0 + a1).sum()
        return h == 0 ? 0 : h                                  // no −0
    }

    // MARK: Top-k

    /// The `k` largest values with their indices, best first, written into `into` (cleared
    /// first). Ties keep the lower index first, so results are deterministic. NaN ranks below
    /// every number. Fewer than `k` entries only if `values` is shorter than `k`.
    ///
    /// O(n·k) worst case but O(n) in practice: after the first k elements, almost every element
    /// is rejected by a single comparison against the current k-th best. For the k ≤ 10 used in
    /// serving this beats a heap. Does not allocate when `into.capacity ≥ k`.
    public static func topK(_ values: UnsafeBufferPointer<Float>, k: Int,
                            into result: inout [(index: Int, value: Float)]) {
        precondition(k >= 0, "VectorOps.topK: k must be ≥ 0, got \(k)")
        result.removeAll(keepingCapacity: true)
        let limit = Swift.min(k, values.count)
        if limit == 0 { return }
        // `a` ranks strictly above `b`: larger, or a number versus NaN. Equal values never rank
        // above an earlier one, which is what makes ties resolve to the lower index.
        @inline(__always) func above(_ a: Float, _ b: Float) -> Bool {
            a > b || (b.isNaN && !a.isNaN)
        }
        guard let base = values.baseAddress else { return }
        let n = values.count
        // Once `result` is full, `threshold` caches its last entry and whole blocks of 8 whose
        // (NaN-ignoring) maximum does not beat it are skipped with one vector load and a
        // horizontal max. Equal-to-threshold never qualifies (ties go to the earlier index) and
        // NaN never ranks above a number, so the skip is exact; only a NaN threshold (fewer
        // than k numbers so far) disables it.
        var threshold = Float.nan
        @inline(__always) func consider(_ index: Int) {
            let value = base[index]
            if result.count == limit {
                guard above(value, threshold) else { return }
                result.removeLast()
            }
            // Insertion point: after every entry that `value` does not rank above.
            var position = result.count
            while position > 0 && above(value, result[position - 1].value) { position -= 1 }
            result.insert((index: index, value: value), at: position)
            if result.count == limit { threshold = result[limit - 1].value }
        }
        var i = 0
        while i < n {
            if i + 8 <= n && result.count == limit && !threshold.isNaN {
                if horizontalMax(loadVector8(base, i)) > threshold {
                    for j in i..<(i + 8) { consider(j) }
                }
                i += 8
            } else {
                consider(i)
                i += 1
            }
        }
    }

    // MARK: Norms and products

    /// Scales `values` to unit Euclidean length and returns the original norm.
    ///
    /// A zero vector is left untouched and 0 is returned (callers decide what a zero embedding
    /// means; dividing would manufacture NaN). A vector containing NaN or ±∞ is also left
    /// untouched and its NaN/∞ norm returned. Very large or very small components (where the sum
    /// of squares would overflow or underflow in Float) fall back to a Double computation.
    @discardableResult
    public static func l2Normalize(inPlace values: UnsafeMutableBufferPointer<Float>) -> Float {
        guard let base = values.baseAddress, values.count > 0 else { return 0 }
        let n = values.count
        let sumSquares = dotKernel(UnsafePointer(base), UnsafePointer(base), n)
        if sumSquares.isFinite && sumSquares >= Float.leastNormalMagnitude {
            let norm = sumSquares.squareRoot()
            scale(values, by: 1 / norm)
            return norm
        }
        if sumSquares.isNaN { return .nan }
        // Rare path: overflowed, underflowed or genuinely zero.
        var sumD = 0.0
        for v in values { sumD += Double(v) * Double(v) }
        let normD = sumD.squareRoot()
        guard normD > 0 && normD.isFinite else { return Float(normD) }
        for j in 0..<n { base[j] = Float(Double(base[j]) / normD) }
        return Float(normD)
    }

    /// Σ xᵢ·yᵢ over the common length (the buffers must have equal counts).
    public static func dot(_ x: UnsafeBufferPointer<Float>, _ y: UnsafeBufferPointer<Float>) -> Float {
        precondition(x.count == y.count, "VectorOps.dot: length mismatch \(x.count) vs \(y.count)")
        guard let xb = x.baseAddress, let yb = y.baseAddress else { return 0 }
        return dotKernel(xb, yb, x.count)
    }

    /// Largest element (NaNs ignored); −∞ for empty input or when every element is NaN.
    public static func max(_ values: UnsafeBufferPointer<Float>) -> Float {
        guard let base = values.baseAddress, values.count > 0 else { return -.infinity }
        return maximum(base, values.count)
    }

    /// Index of the largest element, the lowest index on ties (NaNs ignored); −1 when there is
    /// none. The class a row of logits predicts.
    public static func argmax(_ values: UnsafeBufferPointer<Float>) -> Int {
        var best = -1
        var top = -Float.infinity
        for (i, v) in values.enumerated() where v > top || (best < 0 && v == top) {
            best = i
            top = v
        }
        return best
    }

    /// values ← values · factor.
    public static func scale(_ values: UnsafeMutableBufferPointer<Float>, by factor: Float) {
        guard let base = values.baseAddress else { return }
        let n = values.count
        let f = SIMD8<Float>(repeating: factor)
        var i = 0
        while i + 8 <= n {
            storeVector8(loadVector8(base, i) * f, base, i)
            i += 8
        }
        while i < n { base[i] *= factor; i += 1 }
    }

    // MARK: Kernels

    @inline(__always)
    static func dotKernel(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ n: Int) -> Float {
        var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
        var i = 0
        while i + 32 <= n {
            a0 = a0.addingProduct(loadVector8(x, i), loadVector8(y, i))
            a1 = a1.addingProduct(loadVector8(x, i + 8), loadVector8(y, i + 8))
            a2 = a2.addingProduct(loadVector8(x, i + 16), loadVector8(y, i + 16))
            a3 = a3.addingProduct(loadVector8(x, i + 24), loadVector8(y, i + 24))
            i += 32
        }
        while i + 8 <= n {
            a0 = a0.addingProduct(loadVector8(x, i), loadVector8(y, i))
            i += 8
        }
        var total = ((a0 + a1) + (a2 + a3)).sum()
        while i < n { total += x[i] * y[i]; i += 1 }
        return total
    }

    /// NaN-ignoring maximum (laneMax keeps the accumulator when the data lane is NaN); −∞ if there is no number.
    @inline(__always)
    static func maximum(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
        let ninf = SIMD8<Float>(repeating: -.infinity)
        var m0 = ninf, m1 = ninf, m2 = ninf, m3 = ninf
        var i = 0
        while i + 32 <= n {
            m0 = laneMax(m0, loadVector8(x, i))
            m1 = laneMax(m1, loadVector8(x, i + 8))
            m2 = laneMax(m2, loadVector8(x, i + 16))
            m3 = laneMax(m3, loadVector8(x, i + 24))
            i += 32
        }
        while i + 8 <= n {
            m0 = laneMax(m0, loadVector8(x, i))
            i += 8
        }
        var m = horizontalMax(laneMax(laneMax(m0, m1), laneMax(m2, m3)))
        while i < n {
            if x[i] > m { m = x[i] }
            i += 1
        }
        return m
    }

    /// Softmax when the maximum is ±∞ (or every element is NaN). Rare; scalar is fine.
    private static func softmaxNonFiniteMax(_ values: UnsafeMutableBufferPointer<Float>,
                                            max m: Float) -> SoftmaxStatistics {
        let nanStats = SoftmaxStatistics(max: .nan, logSumExp: .nan, entropy: .nan)
        if m != .infinity || values.contains(where: { $0.isNaN }) {
            values.update(repeating: .nan)
            return nanStats
        }
        var infinities = 0
        for v in values where v == .infinity { infinities += 1 }
        let share = 1 / Float(infinities)
        for j in values.indices { values[j] = values[j] == .infinity ? share : 0 }
        return SoftmaxStatistics(max: .infinity, logSumExp: .infinity, entropy: log(Float(infinities)))
    }
}
