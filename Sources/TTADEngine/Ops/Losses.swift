#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The adaptation objectives, each as a forward value plus its gradient with respect to the
/// logits, over `rows × classes` row-major logits (rows = samples or views).
///
/// Conventions shared by every function here:
/// - Gradients (`dLogits`, same shape as the logits) are **overwritten**, never accumulated: a
///   loss is where backpropagation starts. Rows that do not take part get exact zeros, so the
///   caller can backpropagate through the whole batch at once. Pass nil for the value alone.
/// - Per-class work runs in `SIMD8<Float>` (`vectorExp`/`vectorLog`); sums over rows (the loss
///   value, weight totals) are accumulated in Double, where ordering and cancellation between
///   rows of very different size would otherwise cost digits.
/// - log-probabilities come from the logits (z − logsumexp), never from log(softmax), so a
///   class whose probability underflows to 0 still has a finite log-probability and a 0·log p
///   term, never NaN. Non-finite logits give a NaN loss (the caller's non-finite guard should
///   see it), not a silently wrong number.
/// - Nothing allocates.
public enum Losses {
    /// What a weighted loss is divided by.
    public enum Normalization: Sendable, Equatable {
        /// Σ wᵢ ℓᵢ / n — PyTorch's `(w * ℓ).mean()`, what EATA, SAR, STAMP and RoTTA compute.
        case rowCount
        /// Σ wᵢ ℓᵢ / Σ wᵢ — a weighted average, independent of how the weights are scaled.
        case weightSum
    }

    /// Per-row weights of `weightedEntropy`. With `detached: false` the weights are treated as
    /// functions of the same logits and the gradient flows through them as well (autograd's
    /// default when the weights are built from un-detached entropies).
    public enum EntropyWeights {
        /// wᵢ = 1: plain mean entropy (Tent, SAR's reliable-sample loss after filtering).
        case uniform
        /// Caller-computed constants (`rows` values); no gradient through them. 0/1 weights with
        /// `.weightSum` give SAR's mean entropy over the reliable (H < E₀) rows only.
        case given(UnsafePointer<Float>)
        /// wᵢ = 1/exp(Hᵢ − margin) = exp(margin − Hᵢ): EATA/RDumb's weight, and the variant
        /// STAMP ships commented out (there with the entropies detached).
        case exponentialMargin(margin: Float, detached: Bool)
        /// wᵢ = total · e^{−Hᵢ} / Σⱼ e^{−Hⱼ}: STAMP's self-weighting (`total` = 64, the memory
        /// capacity, even when fewer items are stored). STAMP does not detach (`detached: false`).
        case normalizedExponential(total: Float, detached: Bool)
    }

    // MARK: (a) Per-row entropy

    /// Hᵢ = H(softmax(zᵢ)) in nats for every row, into `entropies` (`rows` values).
    public static func entropy(logits: UnsafePointer<Float>, rows: Int, classes: Int,
                               entropies: UnsafeMutablePointer<Float>) {
        for r in 0..<rows { entropies[r] = rowStats(logits + r * classes, classes).entropy }
    }

    /// Backward of `entropy`: row i of `dLogits` = dEntropy[i] · ∂Hᵢ/∂zᵢ, where
    /// ∂H/∂z_c = −p_c (log p_c + H). Overwrites `dLogits`.
    public static func entropyBackward(logits: UnsafePointer<Float>, rows: Int, classes: Int,
                                       dEntropy: UnsafePointer<Float>, dLogits: UnsafeMutablePointer<Float>) {
        for r in 0..<rows {
            let z = logits + r * classes
            writeEntropyGradient(z, classes, rowStats(z, classes), scale: dEntropy[r], dLogits + r * classes)
        }
    }

    // MARK: (b) TPT marginal entropy over confident views

    /// How many views TPT keeps: `int(rows · fraction)` as Python computes it (the Double
    /// product truncated toward zero, so 64 × 0.1 → 6 and 100 × 0.29 = 28.999… → 28), but at
    /// least 1 — where TPT would take the mean of an empty selection (NaN) this keeps the single
    /// most confident view — and at most `rows`.
    public static func confidentCount(rows: Int, fraction: Double) -> Int {
        precondition(rows > 0 && fraction > 0 && fraction <= 1,
                     "Losses.confidentCount: need rows > 0 and 0 < fraction ≤ 1, got \(rows), \(fraction)")
        return min(rows, max(1, Int((Double(rows) * fraction).rounded(.towardZero))))
    }

    /// Indices of the `count` rows with the lowest entropy, most confident first (TPT's
    /// `argsort(entropy)[:count]`). Ties keep the lower index first and NaN ranks after every
    /// number, so the result is deterministic. O(rows·count) with no allocation, which for
    /// 64 views and 6 kept beats sorting.
    public static func selectLowestEntropy(entropies: UnsafePointer<Float>, rows: Int, count k: Int,
                                           indices: UnsafeMutablePointer<Int>) {
        precondition(k >= 0 && k <= rows, "Losses.selectLowestEntropy: count \(k) outside 0…\(rows)")
        if k == 0 { return }
        // `a` ranks strictly before `b`; equal values never do, hence ties by index.
        @inline(__always) func before(_ a: Float, _ b: Float) -> Bool { a < b || (b.isNaN && !a.isNaN) }
        var filled = 0
        for i in 0..<rows {
            let v = entropies[i]
            var position: Int
            if filled < k {
                position = filled
                filled += 1
            } else {
                guard before(v, entropies[indices[k - 1]]) else { continue }
                position = k - 1
            }
            while position > 0 && before(v, entropies[indices[position - 1]]) {
                indices[position] = indices[position - 1]
                position -= 1
            }
            indices[position] = i
        }
    }

    /// TPT's objective: with p̄ = (1/k) Σ_{i∈selected} softmax(zᵢ), returns
    /// L = −Σ_c p̄_c log p̄_c, and when `dLogits` is given writes, for each selected row,
    ///
    ///     ∂L/∂z_{i,c} = −(1/k) · p_{i,c} · (log p̄_c − Σ_d p_{i,d} log p̄_d)
    ///
    /// (the "+1" of d(−p log p)/dp cancels because each softmax sums to 1) and zeros elsewhere.
    /// Classes whose p̄ underflows to 0 contribute 0 to both, as TPT's clamp of the log to the
    /// most negative float makes them do.
    ///
    /// `selected` must be distinct row indices (from `selectLowestEntropy`); `scratch` must hold
    /// `classes` floats (it carries p̄, then log p̄).
    public static func marginalEntropy(
        logits: UnsafePointer<Float>, rows: Int, classes: Int, selected: UnsafeBufferPointer<Int>,
        scratch: UnsafeMutablePointer<Float>, dLogits: UnsafeMutablePointer<Float>?
    ) -> Float {
        let k = selected.count
        precondition(k > 0, "Losses.marginalEntropy: empty selection")
        for a in 0..<k {
            precondition(selected[a] >= 0 && selected[a] < rows, "Losses.marginalEntropy: row \(selected[a]) outside 0..<\(rows)")
            for b in 0..<a { precondition(selected[a] != selected[b], "Losses.marginalEntropy: row \(selected[a]) selected twice") }
        }
        let pBar = scratch
        pBar.update(repeating: 0, count: classes)
        dLogits?.update(repeating: 0, count: rows * classes)
        // Pass 1: p̄ (and each selected row's softmax, parked in its gradient row for pass 2).
        for i in selected {
            let z = logits + i * classes
            accumulateSoftmax(z, classes, rowStats(z, classes), into: pBar, store: dLogits.map { $0 + i * classes })
        }
        VectorOps.scale(UnsafeMutableBufferPointer(start: pBar, count: classes), by: 1 / Float(k))

        // Loss, and p̄ → log p̄ in place (0 where p̄ = 0: every pᵢ is 0 there too).
        var acc = SIMD8<Float>()
        var c = 0
        while c < classes {
            let p = c + 8 <= classes ? loadVector8(pBar, c) : loadTail8(pBar, c, classes, pad: 0)
            var l = vectorLog(p)
            l.replace(with: 0, where: p .<= 0)
            acc = acc.addingProduct(p, l)
            if c + 8 <= classes { storeVector8(l, pBar, c) } else { storeTail8(l, pBar, c, classes) }
            c += 8
        }
        let loss = -acc.sum()

        // Pass 2: turn each parked softmax row into its gradient.
        if let dLogits {
            let logPBar = UnsafePointer(pBar)
            let minusInvK = SIMD8<Float>(repeating: -1 / Float(k))
            for i in selected {
                let g = dLogits + i * classes
                let dot = SIMD8<Float>(repeating: VectorOps.dotKernel(UnsafePointer(g), logPBar, classes))
                c = 0
                while c + 8 <= classes {
                    storeVector8(minusInvK * loadVector8(g, c) * (loadVector8(logPBar, c) - dot), g, c)
                    c += 8
                }
                if c < classes {
                    let v = minusInvK * loadTail8(g, c, classes, pad: 0) * (loadTail8(logPBar, c, classes, pad: 0) - dot)
                    storeTail8(v, g, c, classes)
                }
            }
        }
        return loss == 0 ? 0 : loss
    }

    // MARK: (c) Weighted mean entropy (EATA / SAR / STAMP)

    /// L = Σᵢ wᵢ Hᵢ / D with D = n (`.rowCount`) or Σ wᵢ (`.weightSum`), the weights chosen by
    /// `weights`. Writes each row's entropy into `entropies` and its weight into `rowWeights`
    /// (`rows` values each: SAR's reliable filter, EMA and collapse checks read them), and the
    /// gradient into `dLogits` when given. `rows` must be positive; weights summing to 0 under
    /// `.weightSum` give NaN.
    ///
    /// Gradient through the weights (`detached: false`), with ∂Hᵢ/∂zᵢ applied afterwards:
    /// - exponentialMargin, wᵢ = exp(m − Hᵢ), ∂wᵢ/∂Hᵢ = −wᵢ:
    ///   ∂L/∂Hᵢ = wᵢ (1 − Hᵢ) / D, plus wᵢ·L/D under `.weightSum` (D depends on the weights).
    /// - normalizedExponential, wᵢ = T·sᵢ with s = softmax(−H): Σ w = T is constant, and
    ///   ∂L/∂Hᵢ = wᵢ (1 − Hᵢ + H̄) / D with H̄ = Σ sⱼ Hⱼ.
    /// Detached (and `.uniform`, `.given`): ∂L/∂Hᵢ = wᵢ / D.
    ///
    /// STAMP exactly: `.normalizedExponential(total: 64, detached: false)` with `.rowCount`
    /// (`(entropys * coeff).mean()` over the memory items).
    public static func weightedEntropy(
        logits: UnsafePointer<Float>, rows: Int, classes: Int,
        weights: EntropyWeights, normalization: Normalization,
        entropies: UnsafeMutablePointer<Float>, rowWeights: UnsafeMutablePointer<Float>,
        dLogits: UnsafeMutablePointer<Float>?
    ) -> Float {
        precondition(rows > 0, "Losses.weightedEntropy: no rows")
        entropy(logits: logits, rows: rows, classes: classes, entropies: entropies)

        // Weights (row-level, so Double and libm are affordable).
        var throughWeights = false
        switch weights {
        case .uniform:
            rowWeights.update(repeating: 1, count: rows)
        case .given(let w):
            rowWeights.update(from: w, count: rows)
        case .exponentialMargin(let margin, let detached):
            for r in 0..<rows { rowWeights[r] = Float(exp(Double(margin) - Double(entropies[r]))) }
            throughWeights = !detached
        case .normalizedExponential(let total, let detached):
            // Shift by the smallest entropy so the largest exponent is 0 (no overflow/underflow).
            var hMin = Double.infinity
            for r in 0..<rows { hMin = min(hMin, Double(entropies[r])) }
            var z = 0.0
            for r in 0..<rows { z += exp(hMin - Double(entropies[r])) }
            for r in 0..<rows { rowWeights[r] = Float(Double(total) * exp(hMin - Double(entropies[r])) / z) }
            throughWeights = !detached
        }

        var weighted = 0.0, weightTotal = 0.0
        for r in 0..<rows {
            weighted += Double(rowWeights[r]) * Double(entropies[r])
            weightTotal += Double(rowWeights[r])
        }
        let denominator = normalization == .rowCount ? Double(rows) : weightTotal
        let loss = weighted / denominator

        if let dLogits {
            // ∂L/∂Hᵢ = wᵢ·(1 + shift − Hᵢ)/D when the gradient flows through the weights, wᵢ/D otherwise.
            var shift = 0.0
            if case .exponentialMargin = weights, normalization == .weightSum { shift = loss }
            if case .normalizedExponential = weights { shift = weighted / weightTotal }   // H̄ = Σ wH / T
            for r in 0..<rows {
                let w = Double(rowWeights[r])
                let dH = throughWeights ? w * (1 + shift - Double(entropies[r])) / denominator : w / denominator
                let z = logits + r * classes
                writeEntropyGradient(z, classes, rowStats(z, classes), scale: Float(dH), dLogits + r * classes)
            }
        }
        return Float(loss)
    }

    // MARK: (d) Soft-target cross-entropy (RoTTA teacher → student)

    /// L = Σᵢ rᵢ CEᵢ / D with CEᵢ = −Σ_c q_{i,c} log softmax(zᵢ)_c, `targets` q the same shape as
    /// the logits (e.g. the teacher's softmax), `rowWeights` r (`rows` values, nil = all 1;
    /// RoTTA's time-aware e^{−ā}/(1+e^{−ā})) treated as constants, and D as in `Normalization`
    /// (RoTTA: `.rowCount`). Gradient: ∂L/∂z_{i,c} = (rᵢ/D)·(p_{i,c}·Σ_d q_{i,d} − q_{i,c}), which
    /// is the familiar p − q when the targets sum to 1; no gradient reaches the targets.
    public static func softCrossEntropy(
        logits: UnsafePointer<Float>, targets: UnsafePointer<Float>, rows: Int, classes: Int,
        rowWeights: UnsafePointer<Float>?, normalization: Normalization,
        dLogits: UnsafeMutablePointer<Float>?
    ) -> Float {
        precondition(rows > 0, "Losses.softCrossEntropy: no rows")
        var denominator = Double(rows)
        if normalization == .weightSum {
            denominator = 0
            for r in 0..<rows { denominator += Double(rowWeights?[r] ?? 1) }
        }
        var total = 0.0
        for r in 0..<rows {
            let z = logits + r * classes, q = targets + r * classes
            let stats = rowStats(z, classes)
            let w = rowWeights?[r] ?? 1
            let (ce, sumQ) = crossEntropyRow(z, q, classes, stats)
            total += Double(w) * Double(ce)
            if let dLogits {
                writeCrossEntropyGradient(z, q, classes, stats, sumQ: sumQ,
                                          scale: Float(Double(w) / denominator), dLogits + r * classes)
            }
        }
        return Float(total / denominator)
    }
}
