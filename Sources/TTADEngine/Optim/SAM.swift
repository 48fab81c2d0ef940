/// Sharpness-aware minimisation around a base optimizer, as the `SAM` class SAR and STAMP ship
/// (davda54/sam), in its two-step form:
///
/// 1. `firstStep`: with the gradient g at w, ê = ρ · g / (‖g‖₂ + 1e-12), the norm taken over
///    **all** parameters jointly; remember w and move to w + ê (the ascent to the nearby worst
///    case).
/// 2. The caller recomputes the loss and the gradient at w + ê into the same gradient buffers.
/// 3. `secondStep`: put w back and let the base optimizer step with the new gradient.
///
/// Adaptive SAM (ASAM, `adaptive: true`) scales element-wise by |w|: the norm is ‖|w| ⊙ g‖ and
/// ê = ρ · w² ⊙ g / (‖|w| ⊙ g‖ + 1e-12). Both SAR (`SAM(params, SGD, lr, momentum=0.9)`) and
/// STAMP (`SAM(params, SGD, lr, rho=0.05)`) leave the reference default `adaptive=False`, ρ = 0.05.
///
/// Two deliberate details of the reference kept here: step 3 *restores the saved copy* of w
/// rather than subtracting ê (w + ê − ê is not w in Float), and the norm's 1e-12 keeps a zero
/// gradient from dividing by zero (ê is then 0). The norm is accumulated in Double.
///
/// The base optimizer's state is the only persistent state, so `snapshot`/`restore`/`reset`
/// delegate to it; SAM itself holds the saved weights only between the two steps.
public final class SAM: @unchecked Sendable {
    public let base: any Optimizer
    public let rho: Double
    public let adaptive: Bool
    /// True between `firstStep` and `secondStep` (or `cancel`): the parameters are perturbed.
    public private(set) var isPerturbed = false
    private let saved: [FloatBuffer]

    public init(base: any Optimizer, rho: Double = 0.05, adaptive: Bool = false) {
        precondition(rho >= 0, "SAM: invalid rho \(rho)")
        self.base = base
        self.rho = rho
        self.adaptive = adaptive
        saved = base.parameters.map { FloatBuffer(count: $0.count) }
    }

    public var parameters: [FloatBuffer] { base.parameters }
    public var gradients: [FloatBuffer] { base.gradients }

    /// The gradient norm the perturbation is scaled by: ‖g‖₂, or ‖|w| ⊙ g‖₂ when adaptive.
    /// Squares are summed in SIMD8<Float> over blocks of 256 elements and the blocks in Double:
    /// vector speed, and no Float accumulator ever sees more than 256 terms.
    public func gradientNorm() -> Double {
        var total = 0.0
        for (p, g) in zip(base.parameters, base.gradients) {
            let pp = p.pointer, gp = g.pointer, n = p.count
            var start = 0
            while start < n {
                let end = min(n, start + 256)
                var acc = SIMD8<Float>()
                var i = start
                while i + 8 <= end {
                    let s = adaptive ? loadVector8(pp, i) * loadVector8(gp, i) : loadVector8(gp, i)
                    acc = acc.addingProduct(s, s)              // |w|²g² = (w·g)², no abs needed
                    i += 8
                }
                var block = Double(acc.sum())
                while i < end {
                    let s = adaptive ? Double(pp[i]) * Double(gp[i]) : Double(gp[i])
                    block += s * s
                    i += 1
                }
                total += block
                start = end
            }
        }
        return total.squareRoot()
    }

    /// Saves w and moves to w + ê. With `zeroGradients` the gradient buffers are cleared after
    /// use (the reference's `first_step(zero_grad=True)`, which SAR and STAMP use), ready for the
    /// accumulating backward at w + ê. Returns the norm used.
    @discardableResult
    public func firstStep(zeroGradients: Bool) -> Double {
        precondition(!isPerturbed, "SAM.firstStep: already perturbed; call secondStep or cancel first")
        let norm = gradientNorm()
        let scale = Float(rho / (norm + 1e-12))
        let scaleV = SIMD8<Float>(repeating: scale)
        for (index, (p, g)) in zip(base.parameters, base.gradients).enumerated() {
            saved[index].copy(from: p)
            let pp = p.pointer, gp = g.pointer, n = p.count
            var i = 0
            while i + 8 <= n {
                let pv = loadVector8(pp, i)
                let e = adaptive ? pv * pv * loadVector8(gp, i) * scaleV : loadVector8(gp, i) * scaleV
                storeVector8(pv + e, pp, i)
                i += 8
            }
            while i < n {
                let pv = pp[i]
                pp[i] = pv + (adaptive ? pv * pv * gp[i] * scale : gp[i] * scale)
                i += 1
            }
        }
        if zeroGradients { base.zeroGradients() }
        isPerturbed = true
        return norm
    }

    /// Restores w, then `base.step()` with the gradient now in the buffers (computed at w + ê).
    /// With `zeroGradients` the buffers are cleared afterwards (`second_step(zero_grad=True)`).
    public func secondStep(zeroGradients: Bool) {
        precondition(isPerturbed, "SAM.secondStep without firstStep")
        restoreWeights()
        base.step()
        if zeroGradients { base.zeroGradients() }
    }

    /// Abandons a perturbation without stepping (e.g. the loss at w + ê came out non-finite):
    /// w is restored exactly and the base optimizer is untouched. No-op when not perturbed.
    public func cancel() {
        if isPerturbed { restoreWeights() }
    }

    /// `firstStep`, then `recompute` (which must fill the gradient buffers at the perturbed
    /// point; they are zeroed before it runs), then `secondStep`: the reference's `step(closure)`.
    /// If `recompute` throws, the perturbation is cancelled and the error rethrown.
    public func step(recompute: () throws -> Void) rethrows {
        firstStep(zeroGradients: true)
        do { try recompute() } catch { cancel(); throw error }
        secondStep(zeroGradients: false)
    }

    public func reset() {
        cancel()
        base.reset()
    }

    public func snapshot() -> OptimizerSnapshot {
        precondition(!isPerturbed, "SAM.snapshot between firstStep and secondStep")
        return base.snapshot()
    }

    public func restore(from snapshot: OptimizerSnapshot) throws {
        precondition(!isPerturbed, "SAM.restore between firstStep and secondStep")
        try base.restore(from: snapshot)
    }

    private func restoreWeights() {
        for (p, s) in zip(base.parameters, saved) { p.copy(from: s) }
        isPerturbed = false
    }
}
