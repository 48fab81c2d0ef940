import Foundation
import TTADAdaptation
import TTADEngine
import TTADModel

/// The `dota` preset (DOTA, Han et al., NeurIPS 2025): estimates each class's feature
/// distribution online from the stream and blends the Gaussian classifier it gives with the
/// zero-shot one, trusting it more as evidence accumulates.
///
/// - **Learn** (after publishing, never from flagged outliers): each sample's unit feature is
///   added to every class k whose zero-shot probability pₖ is at least `minimumWeight`, with
///   weight pₖ (one soft E-step from CLIP's posterior, as DOTA: the estimate is driven by the
///   source model's probabilities, not by its own predictions, so it cannot confirm itself).
/// - **Predict**: logits = s·(x·tₖ + λ·gₖ) for the unit feature x, s the logit scale, tₖ the class
///   embedding, gₖ the `ClassGaussians` score (shared diagonal covariance: a departure from
///   DOTA's full covariance that keeps the cost O(C·d) per sample), λ = min(ρ·n, η) with n the
///   soft count so far. Both terms are linear in x, so they are folded into one classifier matrix
///   (rebuilt only when the estimates or λ change) and a batch costs one product, as zero-shot.
///   A class with no estimate yet takes the estimated classes' average score: the Gaussian term
///   neither favours nor penalises a class it has not seen. λ = 0 until two classes have estimates.
///
/// Defaults (`DOTAPreset.Parameters`): ρ = 0.002, η = 0.5, minimum weight 0.1, shrinkage 0.5.
/// State: C means, C counts, d deviations (checkpointed as `adaptation.preset`). Works on
/// features alone, so in embedding and image mode alike; all on the processing thread.
public final class DOTAPreset: AdaptationPreset {
    static let descriptor = PresetDescriptor(name: .dota, worksOnEmbeddings: true,
                                             summary: "DOTA: online class Gaussians blended with zero-shot, more as evidence grows") { c in
        try DOTAPreset(classes: c.classes, logitScale: c.logitScale, topK: c.topK, maxBatch: c.maxBatch,
                       model: c.image?.model.folder ?? c.classes.source)
    }

    public struct Parameters: Codable, Equatable, Sendable, CustomStringConvertible {
        /// λ grows by this per unit of soft count…
        public var growth: Float = 0.002
        /// …up to this.
        public var maximumWeight: Float = 0.5
        /// Classes below this zero-shot probability get no share of a sample.
        public var minimumWeight: Float = 0.1
        public var shrinkage: Float = 0.5
        public var description: String { "growth=\(growth) max=\(maximumWeight) min_weight=\(minimumWeight) shrinkage=\(shrinkage)" }
    }

    private(set) var gaussians: ClassGaussians
    let parameters: Parameters
    public private(set) var version = 0
    let stateKey: String
    private let logitScale: Float
    private let topK: Int
    private let classCount: Int, dimension: Int
    /// The fused classifier's rows and biases, rebuilt when the estimates or λ changed.
    private var weights: [Float], biases: [Float], precisions: [Float]
    private var stale = true, builtLambda: Float = -1
    /// The unit class embeddings (the zero-shot classifier's rows).
    private let textRows: [Float]
    /// Per-batch scratch: unit rows and their Gaussian scores.
    private var units: [Float], scores: [Float]
    private var top: [(index: Int, value: Float)] = []

    init(classes: ClassEmbeddings, logitScale: Float, topK: Int, maxBatch: Int, model: String,
         parameters: Parameters = Parameters()) throws {
        gaussians = ClassGaussians(configuration: try ClassGaussians.Configuration(
            classCount: classes.count, dimension: classes.dimension, shrinkage: parameters.shrinkage))
        self.parameters = parameters
        self.logitScale = logitScale
        self.topK = topK
        classCount = classes.count
        dimension = classes.dimension
        weights = [Float](repeating: 0, count: classes.count * classes.dimension)
        textRows = classes.matrix.storage
        biases = [Float](repeating: 0, count: classes.count)
        precisions = [Float](repeating: 1, count: classes.dimension)
        units = [Float](repeating: 0, count: max(1, maxBatch) * classes.dimension)
        scores = [Float](repeating: 0, count: max(1, maxBatch) * classes.count)
        top.reserveCapacity(topK)
        stateKey = "dota \(parameters) model=\(model) classes=\(classes.names)"
    }

    /// The weight of the Gaussian term now.
    var lambda: Float {
        gaussians.estimatedClassCount < 2 ? 0 : min(parameters.growth * gaussians.totalCount, parameters.maximumWeight)
    }

    public func rescore(_ batch: PresetBatch, results: inout [ClassificationResult]) {
        guard lambda > 0, batch.count > 0 else { return }
        if batch.count > units.count / dimension {
            units = [Float](repeating: 0, count: batch.count * dimension)
            scores = [Float](repeating: 0, count: batch.count * classCount)
        }
        refreshWeights()
        let n = batch.count, d = dimension, c = classCount
        // One product gives the fused logits: the blend is linear in the unit feature.
        units.withUnsafeMutableBufferPointer { u in
            for i in 0..<n {
                let row = UnsafeMutableBufferPointer(rebasing: u[(i * d)..<((i + 1) * d)])
                _ = row.initialize(fromContentsOf: batch.features(at: i))
                VectorOps.l2Normalize(inPlace: row)
            }
            scores.withUnsafeMutableBufferPointer { s in
                weights.withUnsafeBufferPointer { w in
                    if n == 1 {
                        BLAS.sgemv(trans: false, m: c, n: d, alpha: 1, a: w.baseAddress!, lda: d, x: u.baseAddress!, beta: 0, y: s.baseAddress!)
                    } else {
                        BLAS.sgemm(transA: false, transB: true, m: n, n: c, k: d, alpha: 1, a: u.baseAddress!, lda: d,
                                   b: w.baseAddress!, ldb: d, beta: 0, c: s.baseAddress!, ldc: c)
                    }
                }
                for i in 0..<n {
                    let l = UnsafeMutableBufferPointer(rebasing: s[(i * c)..<((i + 1) * c)])
                    for k in 0..<c { l[k] += biases[k] }
                    results[i].rescore(logits: l, topK: topK, top: &top)
                }
            }
        }
    }

    public func learn(_ batch: PresetBatch, results: ArraySlice<ClassificationResult>, outliers: [Bool]) {
        let d = dimension
        var changed = false
        for i in 0..<batch.count where !(i < outliers.count && outliers[i]) {
            units.withUnsafeMutableBufferPointer { u in
                let row = UnsafeMutableBufferPointer(rebasing: u[0..<d])
                _ = row.initialize(fromContentsOf: batch.features(at: i))
                VectorOps.l2Normalize(inPlace: row)
                batch.classifier.withProbabilities(ofRow: i) { p in
                    for k in 0..<classCount where p[k] >= parameters.minimumWeight {
                        // A non-finite feature is refused by `add` and simply not learned from.
                        if (try? gaussians.add(UnsafeBufferPointer(row), toClass: k, weight: p[k])) != nil { changed = true }
                    }
                }
            }
        }
        if changed {
            version += 1
            stale = true
        }
    }

    /// Rebuilds the fused classifier: row k = s·tₖ + λ·s·(pⱼ μₖⱼ)ⱼ with bias λ·s·bₖ (s the logit
    /// scale); a class without an estimate takes the estimated classes' average Gaussian row.
    private func refreshWeights() {
        let lambda = self.lambda
        guard stale || lambda != builtLambda else { return }
        let d = dimension, c = classCount, s = logitScale
        precisions.withUnsafeMutableBufferPointer { gaussians.precisions(into: $0) }
        precisions.withUnsafeBufferPointer { p in
            weights.withUnsafeMutableBufferPointer { w in
                biases.withUnsafeMutableBufferPointer { b in gaussians.scoringWeights(precisions: p, weights: w, biases: b) }
            }
        }
        var meanRow = [Float](repeating: 0, count: d), meanBias: Float = 0, estimated = 0
        for k in 0..<c where gaussians.isEstimated(k) {
            for j in 0..<d { meanRow[j] += weights[k * d + j] }
            meanBias += biases[k]
            estimated += 1
        }
        let inv = 1 / Float(max(estimated, 1))
        for k in 0..<c {
            let own = gaussians.isEstimated(k)
            for j in 0..<d {
                let g = own ? weights[k * d + j] : meanRow[j] * inv
                weights[k * d + j] = s * textRows[k * d + j] + lambda * s * g
            }
            biases[k] = lambda * s * (own ? biases[k] : meanBias * inv)
        }
        builtLambda = lambda
        stale = false
    }

    public var reportsAdaptation: Bool { false }
    public func takeReport() -> AdaptationReport? { nil }

    public struct State: Codable, Sendable {
        public var gaussians: ClassGaussians
    }

    public func checkpoint() -> AdaptationCheckpoint? {
        guard let p = try? PresetCheckpoint(preset: PresetName.dota.rawValue, key: stateKey, version: version, saving: State(gaussians: gaussians)) else { return nil }
        return AdaptationCheckpoint(preset: p)
    }

    public func restore(_ c: AdaptationCheckpoint) -> String? {
        guard let p = c.preset, p.preset == PresetName.dota.rawValue else { return "the checkpoint holds another preset's state" }
        guard StateKey.matches(p.key, stateKey) else { return "adaptation settings, model or classes changed since the checkpoint" }
        let s: State
        do { s = try p.decodeState(State.self) } catch { return "unreadable dota state: \(error)" }
        guard s.gaussians.configuration == gaussians.configuration else { return "the checkpoint's class statistics have another shape" }
        gaussians = s.gaussians
        version = p.version
        stale = true
        return nil
    }
}
