import TTADEngine

/// Online adaptation of the image tower's LayerNorm affine parameters (γ, β of `pre_layrnorm`,
/// every block's `layer_norm1/2` and `post_layernorm`) against frozen class-text embeddings.
///
/// Why these parameters: on the bundled kind of model, text prompts only re-weight classes and
/// cannot repair corrupted image features; the vision LayerNorms were the one path with real
/// per-domain gains (calibration.md), but they forget and collapse unless held near the source.
/// So every step's objective is
///
///     L(θ) = STAMP's self-weighted entropy over the replayed images + (λ/2)·‖θ − θ₀‖²
///
/// with θ₀ the source affines: the pull-back term is the anchor that keeps a long unattended
/// run from wandering (its gradient λ(θ − θ₀) is added after the backward pass). The weighted
/// entropy is STAMP's exactly: wᵢ = T·e^{−Hᵢ}/Σⱼe^{−Hⱼ} with T the bank capacity, not detached,
/// divided by the number of rows.
///
/// The optimizer is AdamW without weight decay (decay would pull γ toward 0, not toward θ₀), or,
/// for the `stamp` preset, SGD inside SAM as STAMP has it. Some affines can be held fixed
/// (`frozenParameters`: STAMP leaves the last quarter of the blocks and the final norm alone);
/// their gradient is zeroed, so neither optimizer moves them. RoTTA's objective — soft
/// cross-entropy toward a teacher's probabilities with per-row weights — is the other
/// `Objective`. A step whose loss, gradient or result is not finite is undone (parameters and
/// moments restored) and reported, so a NaN never reaches a prediction; the caller's collapse
/// guard decides whether to reset.
///
/// Predictions go through `encode`, which runs the adapted affines; `encodeFrozen` runs the
/// source model (the reference for admission and the collapse guard). Not thread-safe: one
/// learner per processing thread. Buffers grow to the largest batch once and are reused.
public final class VisionNormLearner {
    public let config: CLIPConfiguration
    public let classCount: Int
    public let trainer: CLIPVisionTrainer
    public let optimizer: any Optimizer
    /// Set for `.samSGD`: wraps `optimizer`.
    public let sam: SAM?
    public let anchorWeight: Float
    /// Names (as `trainer.layerNorms`) of the affines that never move.
    public let frozenParameters: Set<String>
    public let weightTotal: Float
    /// Adaptation steps taken since the start or the last `resetToSource`.
    public private(set) var stepsSinceReset = 0

    private let frozen: CLIPVisionEncoder
    private let source: [FloatBuffer]
    private let backup: [FloatBuffer]
    private let texts: FloatBuffer          // [C, P], unit rows
    private let scale: Float
    private let features = ScratchBuffer(), normalized = ScratchBuffer(), norms = ScratchBuffer()
    private let logits = ScratchBuffer(), dLogits = ScratchBuffer(), dNormalized = ScratchBuffer()
    private let entropies = ScratchBuffer(), rowWeights = ScratchBuffer()

    /// How the affines are updated from the objective's gradient.
    public enum Optimization: Sendable, Equatable {
        /// AdamW, betas (0.9, 0.999), no weight decay (the `ttad` preset; RoTTA's Adam is the same update).
        case adamW(learningRate: Double)
        /// SAM (radius ρ) around SGD without momentum or decay (STAMP).
        case samSGD(learningRate: Double, rho: Double)
    }

    /// What a step minimises.
    public enum Objective {
        /// STAMP's self-weighted entropy, weights normalised to `weightTotal`, not detached.
        case selfWeightedEntropy
        /// RoTTA: Σᵢ rᵢ·CE(qᵢ, softmax(zᵢ)) / rows, with `targets` q `[rows, C]` (a teacher's
        /// probabilities, constants) and `rowWeights` r (`rows` values).
        case softTargets(targets: UnsafePointer<Float>, rowWeights: UnsafePointer<Float>)
    }

    /// - `classEmbeddings`: `[C, projectionDim]` unit text embeddings of the class prompts.
    /// - `learningRate`: AdamW's lr; `anchorWeight`: λ of the pull-back term (0 = no anchor).
    /// - `weightTotal`: STAMP's T, the bank capacity.
    public convenience init(model: CLIPModel, classEmbeddings: ClassEmbeddings, logitScale: Float,
                            learningRate: Double, anchorWeight: Float, weightTotal: Float) {
        self.init(model: model, classEmbeddings: classEmbeddings, logitScale: logitScale,
                  optimization: .adamW(learningRate: learningRate), anchorWeight: anchorWeight, weightTotal: weightTotal)
    }

    public init(model: CLIPModel, classEmbeddings: ClassEmbeddings, logitScale: Float, optimization: Optimization,
                anchorWeight: Float, weightTotal: Float, frozenParameters: Set<String> = []) {
        precondition(classEmbeddings.dimension == model.config.projectionDim, "class embeddings do not match the model")
        precondition(anchorWeight >= 0 && weightTotal > 0)
        config = model.config
        classCount = classEmbeddings.count
        // Prediction forwards (adapted and source) run at the model's precision; the recording
        // forward and backward of a step always use the F32 weights.
        trainer = CLIPVisionTrainer(config: model.config, weights: model.weights.vision, trainLayerNorms: true,
                                    int8: model.visionInt8)
        frozen = model.makeVisionEncoder()
        source = trainer.layerNorms.map { p in let b = FloatBuffer(count: p.value.count); b.copy(from: p.value); return b }
        backup = trainer.layerNorms.map { FloatBuffer(count: $0.value.count) }
        let values = trainer.layerNorms.map(\.value), gradients = trainer.layerNorms.map(\.gradient)
        switch optimization {
        case .adamW(let lr):
            precondition(lr > 0)
            optimizer = AdamW(parameters: values, gradients: gradients, learningRate: lr, weightDecay: 0)
            sam = nil
        case let .samSGD(lr, rho):
            precondition(lr > 0 && rho > 0)
            optimizer = SGD(parameters: values, gradients: gradients, learningRate: lr)
            sam = SAM(base: optimizer, rho: rho)
        }
        let names = Set(trainer.layerNorms.map(\.name))
        precondition(frozenParameters.isSubset(of: names), "VisionNormLearner: unknown frozen parameters \(frozenParameters.subtracting(names))")
        self.frozenParameters = frozenParameters
        texts = FloatBuffer(classEmbeddings.matrix.storage)
        scale = logitScale
        self.anchorWeight = anchorWeight
        self.weightTotal = weightTotal
    }

    public var imageFloatCount: Int { trainer.imageFloatCount }
    /// Number of trainable floats (all LayerNorm γ and β of the tower).
    public var parameterCount: Int { trainer.layerNorms.reduce(0) { $0 + $1.value.count } }

    /// Image features with the adapted LayerNorms (`batch × projectionDim`, not normalised).
    public func encode(images: UnsafePointer<Float>, batch: Int, features out: UnsafeMutablePointer<Float>) {
        trainer.encode(images: images, batch: batch, features: out, record: false)
    }

    /// Image features of the source model.
    public func encodeFrozen(images: UnsafePointer<Float>, batch: Int, features out: UnsafeMutablePointer<Float>) {
        frozen.encode(images: images, batch: batch, features: out)
    }

    /// The outcome of one `step`.
    public struct StepResult: Equatable, Sendable {
        /// The weighted entropy (without the anchor term), the value the collapse guard watches.
        public var loss: Float
        /// False when something was not finite: the step was undone.
        public var applied: Bool
        /// ‖θ − θ₀‖ after the step.
        public var distanceFromSource: Float
    }

    /// One adaptation step on `batch` replayed images (CHW, normalised): `lossAndGradient`, then
    /// the optimizer (for SAM: the ascent, the gradient again at the perturbed point, the SGD
    /// step from the original point), undone if anything came out non-finite.
    public func step(images: UnsafePointer<Float>, batch: Int, objective: Objective = .selfWeightedEntropy) -> StepResult {
        step(.images(images), batch: batch, objective: objective)
    }

    /// `step` on `batch` replayed inputs: pixels, or patch embeddings kept from
    /// `trainer.embedPatches` (the same step, without re-embedding every image).
    public func step(_ input: CLIPVisionTrainer.Input, batch: Int, objective: Objective = .selfWeightedEntropy) -> StepResult {
        for (i, q) in trainer.layerNorms.enumerated() { backup[i].copy(from: q.value) }
        let loss = lossAndGradient(input, batch: batch, objective: objective)
        guard loss.isFinite, gradientsFinite() else {
            return StepResult(loss: loss.isFinite ? .nan : loss, applied: false, distanceFromSource: distanceFromSource())
        }
        if let sam {
            sam.firstStep(zeroGradients: true)
            let perturbed = lossAndGradient(input, batch: batch, objective: objective)
            guard perturbed.isFinite, gradientsFinite() else {
                sam.cancel()
                return StepResult(loss: .nan, applied: false, distanceFromSource: distanceFromSource())
            }
            sam.secondStep(zeroGradients: false)
        } else {
            optimizer.step()
        }
        stepsSinceReset += 1
        if !parametersFinite() {
            for (i, q) in trainer.layerNorms.enumerated() { q.value.copy(from: backup[i]) }
            optimizer.reset()
            return StepResult(loss: .nan, applied: false, distanceFromSource: distanceFromSource())
        }
        return StepResult(loss: loss, applied: true, distanceFromSource: distanceFromSource())
    }

    /// The weighted entropy on `batch` images (returned; the anchor term is not included), with
    /// the gradient of the whole objective, anchor included, written into the trainer's
    /// `layerNorms[*].gradient` (overwritten).
    @discardableResult
    public func lossAndGradient(images: UnsafePointer<Float>, batch: Int, objective: Objective = .selfWeightedEntropy) -> Float {
        lossAndGradient(.images(images), batch: batch, objective: objective)
    }

    @discardableResult
    public func lossAndGradient(_ input: CLIPVisionTrainer.Input, batch: Int, objective: Objective = .selfWeightedEntropy) -> Float {
        precondition(batch > 0)
        let p = config.projectionDim, c = classCount
        let f = features.pointer(atLeast: batch * p), y = normalized.pointer(atLeast: batch * p)
        let n = norms.pointer(atLeast: batch), z = logits.pointer(atLeast: batch * c)
        let dz = dLogits.pointer(atLeast: batch * c), dy = dNormalized.pointer(atLeast: batch * p)

        trainer.zeroGradients()
        trainer.encodeRecording(input, batch: batch, features: f)
        CLIPLogits.normalize(f, rows: batch, dim: p, into: y, norms: n)
        CLIPLogits.forward(images: y, batch: batch, texts: texts.pointer, classes: c, dim: p, scale: scale, logits: z)
        let loss: Float
        switch objective {
        case .selfWeightedEntropy:
            loss = Losses.weightedEntropy(
                logits: z, rows: batch, classes: c, weights: .normalizedExponential(total: weightTotal, detached: false),
                normalization: .rowCount, entropies: entropies.pointer(atLeast: batch), rowWeights: rowWeights.pointer(atLeast: batch),
                dLogits: dz)
        case let .softTargets(targets, weights):
            loss = Losses.softCrossEntropy(logits: z, targets: targets, rows: batch, classes: c, rowWeights: weights,
                                           normalization: .rowCount, dLogits: dz)
        }
        guard loss.isFinite else { return loss }
        CLIPLogits.backward(dLogits: dz, images: y, batch: batch, texts: texts.pointer, classes: c, dim: p, scale: scale,
                            dImages: dy, dTexts: nil)
        CLIPLogits.normalizeBackward(dy: dy, y: y, norms: n, rows: batch, dim: p, dx: dy)
        trainer.backward(dFeatures: dy)
        for (i, q) in trainer.layerNorms.enumerated() {
            if frozenParameters.contains(q.name) { q.gradient.fill(0); continue }
            let g = q.gradient.pointer, v = q.value.pointer, s = source[i].pointer
            for j in 0..<q.value.count { g[j] += anchorWeight * (v[j] - s[j]) }
        }
        return loss
    }

    /// Back to the source affines and fresh optimizer moments (a collapse reset).
    public func resetToSource() {
        for (i, q) in trainer.layerNorms.enumerated() { q.value.copy(from: source[i]) }
        trainer.zeroGradients()
        optimizer.reset()
        stepsSinceReset = 0
    }

    /// Moves every affine toward `student`'s: θ ← (1 − ν)·θ + ν·θ_S (RoTTA's EMA teacher).
    public func moveToward(_ student: VisionNormLearner, rate nu: Float) {
        precondition(student.trainer.layerNorms.count == trainer.layerNorms.count)
        for (q, s) in zip(trainer.layerNorms, student.trainer.layerNorms) {
            let v = q.value.pointer, w = s.value.pointer
            for j in 0..<q.value.count { v[j] = (1 - nu) * v[j] + nu * w[j] }
        }
    }

    /// The affines' names that STAMP leaves fixed on this tower: the last quarter of the encoder
    /// blocks (ViT-B's blocks 9–11 of 12) and the final `post_layernorm`.
    public static func stampFrozenParameters(_ config: CLIPConfiguration, names: [String]) -> Set<String> {
        let layers = config.vision.layers
        let firstFrozen = layers - layers / 4
        return Set(names.filter { n in
            if n.contains("post_layernorm") { return true }
            for b in firstFrozen..<layers where n.contains("layers.\(b).") { return true }
            return false
        })
    }

    public func distanceFromSource() -> Float {
        var s: Double = 0
        for (i, q) in trainer.layerNorms.enumerated() {
            let v = q.value.pointer, o = source[i].pointer
            for j in 0..<q.value.count { let d = Double(v[j] - o[j]); s += d * d }
        }
        return Float(s.squareRoot())
    }

    private func gradientsFinite() -> Bool {
        for q in trainer.layerNorms {
            let g = q.gradient.pointer
            for j in 0..<q.gradient.count where !g[j].isFinite { return false }
        }
        return true
    }

    private func parametersFinite() -> Bool {
        for q in trainer.layerNorms {
            let v = q.value.pointer
            for j in 0..<q.value.count where !v[j].isFinite { return false }
        }
        return true
    }

    // MARK: - State

    /// Everything a restart needs to continue: the adapted affines (in `named_parameters`
    /// order), the optimizer's moments and the step counter.
    public struct State: Codable, Equatable, Sendable {
        public var parameters: [String: [Float]]
        public var optimizer: OptimizerSnapshot
        public var stepsSinceReset: Int
    }

    public func state() -> State {
        var values: [String: [Float]] = [:]
        for q in trainer.layerNorms { values[q.name] = q.value.array }
        return State(parameters: values, optimizer: optimizer.snapshot(), stepsSinceReset: stepsSinceReset)
    }

    /// Restores `state`; throws without changing anything when it does not fit this model.
    public func restore(_ state: State) throws(VisionNormLearnerError) {
        var values: [[Float]] = []
        for q in trainer.layerNorms {
            guard let v = state.parameters[q.name] else { throw .missingParameter(q.name) }
            guard v.count == q.value.count else { throw .wrongSize(q.name, expected: q.value.count, got: v.count) }
            guard v.allSatisfy(\.isFinite) else { throw .nonFinite(q.name) }
            values.append(v)
        }
        guard state.parameters.count == values.count else { throw .unexpectedParameters(state.parameters.count, values.count) }
        guard state.stepsSinceReset >= 0 else { throw .badOptimizer("negative step count") }
        let saved = optimizer.snapshot()
        do { try optimizer.restore(from: state.optimizer) } catch {
            try? optimizer.restore(from: saved)
            throw .badOptimizer("\(error)")
        }
        for (i, q) in trainer.layerNorms.enumerated() {
            values[i].withUnsafeBufferPointer { q.value.pointer.update(from: $0.baseAddress!, count: $0.count) }
        }
        stepsSinceReset = state.stepsSinceReset
    }
}

public enum VisionNormLearnerError: Error, Equatable, CustomStringConvertible {
    case missingParameter(String)
    case wrongSize(String, expected: Int, got: Int)
    case nonFinite(String)
    case unexpectedParameters(Int, Int)
    case badOptimizer(String)

    public var description: String {
        switch self {
        case .missingParameter(let n): return "adaptation state lacks parameter \(n)"
        case let .wrongSize(n, e, g): return "adaptation state parameter \(n) has \(g) values, the model needs \(e)"
        case .nonFinite(let n): return "adaptation state parameter \(n) holds a non-finite value"
        case let .unexpectedParameters(got, need): return "adaptation state has \(got) parameters, the model has \(need)"
        case .badOptimizer(let d): return "adaptation optimizer state unusable: \(d)"
        }
    }
}
