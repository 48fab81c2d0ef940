#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `torch.optim.AdamW` (amsgrad = False, maximize = False), step by step:
///
///     t ← t + 1
///     p ← p · (1 − lr·λ)                              decoupled weight decay, before the moments
///     m ← lerp(m, g, 1 − β₁)                           m + (1−β₁)(g − m)
///     v ← v·β₂ + (1−β₂)·g·g
///     p ← p − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
///
/// with m, v zero before the first step, so the bias corrections make the first update
/// ≈ lr·sign(g). The scalars (1 − lr·λ, lr/(1 − β₁ᵗ), √(1 − β₂ᵗ)) are computed in Double and
/// rounded to Float once, as PyTorch does with Python floats; ε is added **after** dividing by
/// √(1 − β₂ᵗ) (PyTorch's order, not the paper's ε̂). Defaults are PyTorch's: lr 1e-3,
/// betas (0.9, 0.999), eps 1e-8, weight_decay 1e-2 (TPT uses lr 5e-3 with these).
public final class AdamW: Optimizer, @unchecked Sendable {
    public static let kind = "adamw"

    public let parameters: [FloatBuffer]
    public let gradients: [FloatBuffer]
    public var learningRate: Double
    public let beta1: Double
    public let beta2: Double
    public let eps: Double
    public let weightDecay: Double
    public private(set) var stepCount = 0
    /// First and second moments (`exp_avg`, `exp_avg_sq`), one per parameter.
    public let expAvg: [FloatBuffer]
    public let expAvgSq: [FloatBuffer]

    public init(parameters: [FloatBuffer], gradients: [FloatBuffer], learningRate: Double = 1e-3,
                betas: (Double, Double) = (0.9, 0.999), eps: Double = 1e-8, weightDecay: Double = 1e-2) {
        checkParameterPairs(parameters, gradients, "AdamW")
        precondition(learningRate >= 0, "AdamW: invalid learning rate \(learningRate)")
        precondition(betas.0 >= 0 && betas.0 < 1 && betas.1 >= 0 && betas.1 < 1, "AdamW: invalid betas \(betas)")
        precondition(eps >= 0, "AdamW: invalid eps \(eps)")
        precondition(weightDecay >= 0, "AdamW: invalid weight decay \(weightDecay)")
        self.parameters = parameters
        self.gradients = gradients
        self.learningRate = learningRate
        self.beta1 = betas.0
        self.beta2 = betas.1
        self.eps = eps
        self.weightDecay = weightDecay
        expAvg = parameters.map { FloatBuffer(count: $0.count) }
        expAvgSq = parameters.map { FloatBuffer(count: $0.count) }
    }

    public func step() {
        stepCount += 1
        let t = Double(stepCount)
        let decay = Float(1 - learningRate * weightDecay)
        let stepSize = Float(learningRate / (1 - pow(beta1, t)))
        let bc2Sqrt = Float((1 - pow(beta2, t)).squareRoot())
        // torch's lerp_ switches form at weight 0.5 for accuracy; mirror both branches.
        let w = Float(1 - beta1)
        let lowWeight = w < 0.5
        let b2 = Float(beta2), oneMinusB2 = Float(1 - beta2), epsF = Float(eps)

        let decayV = SIMD8<Float>(repeating: decay), wV = SIMD8<Float>(repeating: w)
        let wComplementV = SIMD8<Float>(repeating: 1 - w)
        let b2V = SIMD8<Float>(repeating: b2), oneMinusB2V = SIMD8<Float>(repeating: oneMinusB2)
        let bc2V = SIMD8<Float>(repeating: bc2Sqrt), epsV = SIMD8<Float>(repeating: epsF)
        let negStepV = SIMD8<Float>(repeating: -stepSize)

        for index in parameters.indices {
            let p = parameters[index].pointer, g = gradients[index].pointer
            let m = expAvg[index].pointer, v = expAvgSq[index].pointer
            let n = parameters[index].count
            var i = 0
            while i + 8 <= n {
                let gv = loadVector8(g, i), mv0 = loadVector8(m, i)
                let pv = loadVector8(p, i) * decayV
                let mv = lowWeight ? mv0 + wV * (gv - mv0) : gv - (gv - mv0) * wComplementV
                let vv = loadVector8(v, i) * b2V + oneMinusB2V * gv * gv
                let denom = vv.squareRoot() / bc2V + epsV
                storeVector8(mv, m, i)
                storeVector8(vv, v, i)
                storeVector8(pv + negStepV * (mv / denom), p, i)
                i += 8
            }
            while i < n {
                let gv = g[i], mv0 = m[i]
                let pv = p[i] * decay
                let mv = lowWeight ? mv0 + w * (gv - mv0) : gv - (gv - mv0) * (1 - w)
                let vv = v[i] * b2 + oneMinusB2 * gv * gv
                let denom = vv.squareRoot() / bc2Sqrt + epsF
                m[i] = mv
                v[i] = vv
                p[i] = pv + -stepSize * (mv / denom)
                i += 1
            }
        }
    }

    public func reset() {
        stepCount = 0
        for b in expAvg { b.fill(0) }
        for b in expAvgSq { b.fill(0) }
    }

    public func snapshot() -> OptimizerSnapshot {
        var tensors: [String: [Float]] = [:]
        for i in parameters.indices {
            tensors["exp_avg.\(i)"] = expAvg[i].array
            tensors["exp_avg_sq.\(i)"] = expAvgSq[i].array
        }
        return OptimizerSnapshot(kind: Self.kind, scalars: [
            "step": Double(stepCount), "lr": learningRate, "beta1": beta1, "beta2": beta2,
            "eps": eps, "weight_decay": weightDecay,
        ], tensors: tensors)
    }

    public func restore(from snapshot: OptimizerSnapshot) throws {
        try snapshot.checkKind(Self.kind)
        let step = try snapshot.stepValue()
        let lr = try snapshot.learningRateValue()
        var first: [[Float]] = [], second: [[Float]] = []
        for i in parameters.indices {
            first.append(try snapshot.tensor("exp_avg.\(i)", count: parameters[i].count))
            second.append(try snapshot.tensor("exp_avg_sq.\(i)", count: parameters[i].count))
        }
        stepCount = step
        learningRate = lr
        for i in parameters.indices {
            copyState(first[i], into: expAvg[i])
            copyState(second[i], into: expAvgSq[i])
        }
    }
}
