import Foundation
import TTADAdaptation
import TTADEngine
import TTADModel

/// The `dpe` preset (DPE, Zhang et al., NeurIPS 2024): textual and visual prototypes that evolve
/// over the stream (`DualPrototypes`), and per sample one AdamW step on residuals of both, as the
/// paper, on the embeddings alone — no tower runs backward.
///
/// Per sample, on the processing thread (DPE updates before it predicts, as TDA):
/// 1. zero-shot logits s·x·tₖ against the evolved text prototypes; the unit feature x is offered
///    to its pseudo-label's visual queue with that prediction's entropy;
/// 2. logits ℓₖ = s·x·t′ₖ + α·exp(−β(1 − x·v′ₖ)) with t′ = normalise(t + t̂), v′ = normalise(v + v̂)
///    (the cache term only for classes with a visual prototype); loss = entropy(softmax ℓ) +
///    λ·InfoNCE(v, t) (each visual prototype against all text prototypes at scale s);
/// 3. one AdamW step from zero residuals, which in closed form is t̂ = −lr·g/(|g| + ε) elementwise
///    (first-step bias correction makes m̂ = g and v̂ = g²; weight decay of a zero residual is
///    zero), so no optimizer state is kept — the residuals are per sample, as DPE's;
/// 4. the prediction is ℓ at the stepped residuals; if its entropy, normalised by ln C, is below
///    τ the text prototypes evolve with the stepped t′ (cumulative average).
///
/// Departures: one view (embedding rows have no augmentations, so the marginal entropy over
/// confident views becomes the sample's entropy); the alignment gradient depends on the
/// prototypes only, so it is recomputed when they change, not per sample. Cost O(C·d) per sample
/// plus O(|S|·C·d) per prototype change (S: classes with a visual prototype).
///
/// Defaults (DPE's ImageNet values, `Parameters`): α = 6, β = 5, lr = 6·10⁻⁴, ε = 10⁻³, λ = 0.5,
/// τ = 0.1, M = 3. The prototypes are the state (checkpointed as `adaptation.preset`).
public final class DPEPreset: AdaptationPreset {
    static let descriptor = PresetDescriptor(name: .dpe, worksOnEmbeddings: true,
                                             summary: "DPE: evolving text and visual prototypes with per-sample residual steps") { c in
        try DPEPreset(classes: c.classes, logitScale: c.logitScale, topK: c.topK, model: c.image?.model.folder ?? c.classes.source)
    }

    public struct Parameters: Codable, Equatable, Sendable, CustomStringConvertible {
        public var alpha: Float = 6, beta: Float = 5
        public var learningRate: Float = 6e-4, epsilon: Float = 1e-3
        public var alignWeight: Float = 0.5
        public var evolveEntropy: Float = 0.1
        public var queueCapacity = 3
        public var description: String {
            "alpha=\(alpha) beta=\(beta) lr=\(learningRate) eps=\(epsilon) align=\(alignWeight) tau=\(evolveEntropy) M=\(queueCapacity)"
        }
    }

    private(set) var prototypes: DualPrototypes
    let parameters: Parameters
    public private(set) var version = 0
    let stateKey: String
    private let s: Float
    private let topK: Int
    private let c: Int, d: Int
    // Visual prototypes and which classes have one; the alignment gradient (text, visual), valid
    // until the prototypes change.
    private var visual: [Float], hasVisual: [Bool]
    private var alignText: [Float], alignVisual: [Float]
    private var prototypesChanged = true
    // Per-sample scratch.
    private var x: [Float], logits: [Float], p: [Float], dots: [Float], cacheTerm: [Float]
    private var stepped: [Float], steppedVisual: [Float]
    private var top: [(index: Int, value: Float)] = []

    init(classes: ClassEmbeddings, logitScale: Float, topK: Int, model: String, parameters: Parameters = Parameters()) throws {
        prototypes = try DualPrototypes(configuration: try .init(classCount: classes.count, dimension: classes.dimension,
                                                                  queueCapacity: parameters.queueCapacity),
                                        classes: classes.matrix.storage)
        self.parameters = parameters
        s = logitScale
        self.topK = topK
        c = classes.count
        d = classes.dimension
        visual = [Float](repeating: 0, count: c * d)
        hasVisual = [Bool](repeating: false, count: c)
        alignText = visual
        alignVisual = visual
        stepped = visual
        steppedVisual = visual
        x = [Float](repeating: 0, count: d)
        logits = [Float](repeating: 0, count: c)
        p = logits
        dots = logits
        cacheTerm = logits
        top.reserveCapacity(topK)
        stateKey = "dpe \(parameters) model=\(model) classes=\(classes.names)"
    }

    public func rescore(_ batch: PresetBatch, results: inout [ClassificationResult]) {
        for i in 0..<batch.count { apply(feature: batch.features(at: i), result: &results[i]) }
    }

    func apply(feature: UnsafeBufferPointer<Float>, result: inout ClassificationResult) {
        for j in 0..<d { x[j] = feature[j] }
        let norm = x.withUnsafeMutableBufferPointer { VectorOps.l2Normalize(inPlace: $0) }
        guard norm.isFinite, norm > 0, x.allSatisfy(\.isFinite) else { return }   // scored as zero-shot, nothing learned
        let P = parameters
        // 1. Zero-shot against the evolved text side; the queue takes the sample.
        for k in 0..<c { dots[k] = dot(prototypes.text, k) }
        for k in 0..<c { logits[k] = s * dots[k] }
        let h0 = softmaxEntropy(logits, into: &p)
        let label = argmax(p)
        if (try? prototypes.offer(feature: x, label: label, entropy: h0)) == true {
            prototypesChanged = true
            version += 1
        }
        if prototypesChanged { refreshPrototypeTerms() }
        // 2. Loss gradient at zero residuals: entropy through the logits, plus the alignment's.
        for k in 0..<c {
            cacheTerm[k] = hasVisual[k] ? P.alpha * Foundation.exp(-P.beta * (1 - dot(visual, k))) : 0
            logits[k] = s * dots[k] + cacheTerm[k]
        }
        let h = softmaxEntropy(logits, into: &p)
        // 3. The closed-form first AdamW step, then the stepped, normalised prototypes.
        for k in 0..<c {
            let e = -p[k] * (Foundation.log(max(p[k], Float.leastNormalMagnitude)) + h)   // ∂H/∂ℓₖ
            let vdot = hasVisual[k] ? dot(visual, k) : 0
            var tn: Float = 0, vn: Float = 0
            for j in 0..<d {
                let t = prototypes.text[k * d + j]
                let gt = e * s * (x[j] - dots[k] * t) + P.alignWeight * alignText[k * d + j]
                let st = t - P.learningRate * gt / (abs(gt) + P.epsilon)
                stepped[k * d + j] = st
                tn += st * st
                if hasVisual[k] {
                    let v = visual[k * d + j]
                    let gv = e * cacheTerm[k] * P.beta * (x[j] - vdot * v) + P.alignWeight * alignVisual[k * d + j]
                    let sv = v - P.learningRate * gv / (abs(gv) + P.epsilon)
                    steppedVisual[k * d + j] = sv
                    vn += sv * sv
                }
            }
            let ti = 1 / tn.squareRoot(), vi = vn > 0 ? 1 / vn.squareRoot() : 0
            var xt: Float = 0, xv: Float = 0
            for j in 0..<d {
                stepped[k * d + j] *= ti
                xt += x[j] * stepped[k * d + j]
                if hasVisual[k] {
                    steppedVisual[k * d + j] *= vi
                    xv += x[j] * steppedVisual[k * d + j]
                }
            }
            logits[k] = s * xt + (hasVisual[k] ? P.alpha * Foundation.exp(-P.beta * (1 - xv)) : 0)
        }
        // 4. Predict; a confident prediction evolves the text side.
        let hFinal = softmaxEntropy(logits, into: &p)
        if hFinal / Foundation.log(Float(c)) < P.evolveEntropy, (try? prototypes.evolve(with: stepped)) != nil {
            prototypesChanged = true
            version += 1
        }
        logits.withUnsafeMutableBufferPointer { result.rescore(logits: $0, topK: topK, top: &top) }
    }

    /// Visual prototypes from the queues, and the gradient of the alignment loss
    /// (1/|S|)·Σ_{k∈S} [−s·vₖ·tₖ + log Σⱼ exp(s·vₖ·tⱼ)] through the prototypes' normalisation.
    private func refreshPrototypeTerms() {
        visual.withUnsafeMutableBufferPointer { v in
            for k in 0..<c { hasVisual[k] = prototypes.visualPrototype(k, into: UnsafeMutableBufferPointer(rebasing: v[(k * d)..<((k + 1) * d)])) }
        }
        for i in alignText.indices { alignText[i] = 0; alignVisual[i] = 0 }
        let members = hasVisual.filter { $0 }.count
        if members > 0 {
            let w = s / Float(members)
            var q = [Float](repeating: 0, count: c)
            for k in 0..<c where hasVisual[k] {
                for j in 0..<c { q[j] = s * dot2(visual, k, prototypes.text, j) }
                _ = q.withUnsafeMutableBufferPointer { VectorOps.softmax(inPlace: $0) }
                for j in 0..<c {
                    let coef = w * (q[j] - (j == k ? 1 : 0))
                    for m in 0..<d {
                        alignVisual[k * d + m] += coef * prototypes.text[j * d + m]
                        alignText[j * d + m] += coef * visual[k * d + m]
                    }
                }
            }
            // Through the normalisation: project out each prototype's own direction.
            project(&alignText, onto: prototypes.text, rows: Array(repeating: true, count: c))
            project(&alignVisual, onto: visual, rows: hasVisual)
        }
        prototypesChanged = false
    }

    private func project(_ g: inout [Float], onto m: [Float], rows: [Bool]) {
        for k in 0..<c where rows[k] {
            var a: Float = 0
            for j in 0..<d { a += g[k * d + j] * m[k * d + j] }
            for j in 0..<d { g[k * d + j] -= a * m[k * d + j] }
        }
    }

    private func dot(_ m: [Float], _ k: Int) -> Float {
        var r: Float = 0
        for j in 0..<d { r += m[k * d + j] * x[j] }
        return r
    }

    private func dot2(_ a: [Float], _ i: Int, _ b: [Float], _ k: Int) -> Float {
        var r: Float = 0
        for j in 0..<d { r += a[i * d + j] * b[k * d + j] }
        return r
    }

    /// Softmax of `l` into `out`; returns its entropy in nats.
    private func softmaxEntropy(_ l: [Float], into out: inout [Float]) -> Float {
        for k in 0..<c { out[k] = l[k] }   // same size: no allocation
        return out.withUnsafeMutableBufferPointer { VectorOps.softmax(inPlace: $0).entropy }
    }

    private func argmax(_ v: [Float]) -> Int {
        var best = 0
        for k in 1..<v.count where v[k] > v[best] { best = k }
        return best
    }

    public var reportsAdaptation: Bool { false }
    public func takeReport() -> AdaptationReport? { nil }

    public struct State: Codable, Sendable {
        public var prototypes: DualPrototypes
    }

    public func checkpoint() -> AdaptationCheckpoint? {
        guard let p = try? PresetCheckpoint(preset: PresetName.dpe.rawValue, key: stateKey, version: version, saving: State(prototypes: prototypes)) else { return nil }
        return AdaptationCheckpoint(preset: p)
    }

    public func restore(_ cp: AdaptationCheckpoint) -> String? {
        guard let p = cp.preset, p.preset == PresetName.dpe.rawValue else { return "the checkpoint holds another preset's state" }
        guard StateKey.matches(p.key, stateKey) else { return "adaptation settings, model or classes changed since the checkpoint" }
        let st: State
        do { st = try p.decodeState(State.self) } catch { return "unreadable dpe state: \(error)" }
        guard st.prototypes.configuration == prototypes.configuration else { return "the checkpoint's prototypes have another shape" }
        prototypes = st.prototypes
        version = p.version
        prototypesChanged = true
        return nil
    }
}
