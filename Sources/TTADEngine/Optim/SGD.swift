/// `torch.optim.SGD` (maximize = False):
///
///     d ← g + λ·p                                   (coupled weight decay, when λ ≠ 0)
///     b ← d                         first step      (no dampening on the first step)
///     b ← μ·b + (1 − τ)·d           later steps     (when μ ≠ 0)
///     d ← d + μ·b  (Nesterov)  or  d ← b
///     p ← p − lr·d
///
/// The gradient buffers are only read (PyTorch's `d_p` is a temporary, not `.grad`). Momentum
/// buffers exist only when μ ≠ 0; as in PyTorch they hold nothing until the first step, which
/// is why a snapshot taken before it has no `momentum_buffer.*` tensors. Nesterov needs μ > 0
/// and τ = 0 (PyTorch raises otherwise). SAR uses μ = 0.9; STAMP plain SGD (μ = 0).
public final class SGD: Optimizer, @unchecked Sendable {
    public static let kind = "sgd"

    public let parameters: [FloatBuffer]
    public let gradients: [FloatBuffer]
    public var learningRate: Double
    public let momentum: Double
    public let dampening: Double
    public let weightDecay: Double
    public let nesterov: Bool
    public private(set) var stepCount = 0
    /// `momentum_buffer` per parameter (empty when μ = 0); meaningful once `hasMomentumBuffers`.
    public let momentumBuffers: [FloatBuffer]
    public private(set) var hasMomentumBuffers = false

    public init(parameters: [FloatBuffer], gradients: [FloatBuffer], learningRate: Double = 1e-3,
                momentum: Double = 0, dampening: Double = 0, weightDecay: Double = 0, nesterov: Bool = false) {
        checkParameterPairs(parameters, gradients, "SGD")
        precondition(learningRate >= 0, "SGD: invalid learning rate \(learningRate)")
        precondition(momentum >= 0, "SGD: invalid momentum \(momentum)")
        precondition(weightDecay >= 0, "SGD: invalid weight decay \(weightDecay)")
        precondition(!nesterov || (momentum > 0 && dampening == 0),
                     "SGD: Nesterov momentum requires a momentum and zero dampening")
        self.parameters = parameters
        self.gradients = gradients
        self.learningRate = learningRate
        self.momentum = momentum
        self.dampening = dampening
        self.weightDecay = weightDecay
        self.nesterov = nesterov
        momentumBuffers = momentum != 0 ? parameters.map { FloatBuffer(count: $0.count) } : []
    }

    public func step() {
        let wd = Float(weightDecay), mu = Float(momentum), keep = Float(1 - dampening)
        let negLR = Float(-learningRate)
        let useDecay = weightDecay != 0, useMomentum = momentum != 0, first = !hasMomentumBuffers
        let wdV = SIMD8<Float>(repeating: wd), muV = SIMD8<Float>(repeating: mu)
        let keepV = SIMD8<Float>(repeating: keep), negLRV = SIMD8<Float>(repeating: negLR)

        for index in parameters.indices {
            let p = parameters[index].pointer, g = gradients[index].pointer
            let b = useMomentum ? momentumBuffers[index].pointer : p     // b unused without momentum
            let n = parameters[index].count
            var i = 0
            while i + 8 <= n {
                let pv = loadVector8(p, i)
                var d = loadVector8(g, i)
                if useDecay { d = d + wdV * pv }
                if useMomentum {
                    let bv = first ? d : loadVector8(b, i) * muV + keepV * d
                    storeVector8(bv, b, i)
                    d = nesterov ? d + muV * bv : bv
                }
                storeVector8(pv + negLRV * d, p, i)
                i += 8
            }
            while i < n {
                let pv = p[i]
                var d = g[i]
                if useDecay { d = d + wd * pv }
                if useMomentum {
                    let bv = first ? d : b[i] * mu + keep * d
                    b[i] = bv
                    d = nesterov ? d + mu * bv : bv
                }
                p[i] = pv + negLR * d
                i += 1
            }
        }
        if useMomentum { hasMomentumBuffers = true }
        stepCount += 1
    }

    public func reset() {
        stepCount = 0
        hasMomentumBuffers = false
        for b in momentumBuffers { b.fill(0) }
    }

    public func snapshot() -> OptimizerSnapshot {
        var tensors: [String: [Float]] = [:]
        if hasMomentumBuffers {
            for i in parameters.indices { tensors["momentum_buffer.\(i)"] = momentumBuffers[i].array }
        }
        return OptimizerSnapshot(kind: Self.kind, scalars: [
            "step": Double(stepCount), "lr": learningRate, "momentum": momentum,
            "dampening": dampening, "weight_decay": weightDecay, "nesterov": nesterov ? 1 : 0,
        ], tensors: tensors)
    }

    /// Momentum buffers are restored when this optimizer uses momentum and the snapshot has
    /// them (for every parameter, or for none: the state before the first step). A snapshot
    /// with buffers restored into an optimizer without momentum ignores them, as PyTorch's
    /// step does.
    public func restore(from snapshot: OptimizerSnapshot) throws {
        try snapshot.checkKind(Self.kind)
        let step = try snapshot.stepValue()
        let lr = try snapshot.learningRateValue()
        var buffers: [[Float]] = []
        if momentum != 0 {
            let present = parameters.indices.filter { snapshot.tensors["momentum_buffer.\($0)"] != nil }.count
            if present != 0 && present != parameters.count { throw OptimizerStateError.partialState("momentum_buffer") }
            if present != 0 {
                for i in parameters.indices {
                    buffers.append(try snapshot.tensor("momentum_buffer.\(i)", count: parameters[i].count))
                }
            }
        }
        stepCount = step
        learningRate = lr
        hasMomentumBuffers = !buffers.isEmpty
        for i in buffers.indices { copyState(buffers[i], into: momentumBuffers[i]) }
        if buffers.isEmpty { for b in momentumBuffers { b.fill(0) } }
    }
}
