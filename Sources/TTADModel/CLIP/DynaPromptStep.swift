import TTADEngine

/// The per-sample computation of DynaPrompt (Xiao et al., ICLR 2025, as the official code) for
/// one test image given as `V` preprocessed views, view 0 the original. The prompt buffer itself
/// (which slots exist, LRU order, which prompts are "relevant") is the caller's: this class only
/// sees the buffer's residuals, `m` rows of `contextCount × D_text` floats, and prompt i's text
/// context is `initialContext + residual_i`. The image tower is frozen.
///
/// Two phases per sample, because the buffer decides between them what to select and whether a
/// fresh prompt takes a slot:
///
/// 1. `score`: encode the views once (kept for phase 2); for every slot prompt and the fresh
///    prompt (residual 0, i.e. the initial context) the mean per-view entropy E and the mean
///    max-logit drop D from view 0 to the augmented views (the code's `plpd`).
/// 2. `update`: for the selected slots, keep the views of lowest entropy averaged over the
///    selected prompts, loss = mean over selected prompts of the entropy of their mean
///    probability on the kept views, one AdamW step on the whole residual block (fresh moments,
///    weight decay on every row as torch's AdamW over the `(M, n_ctx, D)` parameter), then view
///    0's logits averaged over the selected prompts under the updated residuals.
///
/// A step whose loss or gradient is not finite is skipped (as the official code's AMP grad
/// scaler skips it) and predicts with the residuals it started from.
///
/// After the first call at a given view count and slot count nothing is allocated: buffers are
/// grown once, and one AdamW per slot count seen is built once (the buffer's slot count only
/// grows to its capacity). Not thread-safe; one instance per adaptation worker.
public final class DynaPromptStep {
    public let text: CLIPTextTrainer
    public let vision: CLIPVisionEncoder
    public let keepFraction: Double
    public let learningRate: Double
    /// Floats per residual row: `contextCount × D_text`.
    public let residualLength: Int
    public var classCount: Int { text.classCount }
    public var imageFloatCount: Int { vision.imageFloatCount }
    /// The loss of the last `update`, the views it kept (most confident first) and whether it
    /// changed the residuals.
    public private(set) var lastLoss: Float = .nan
    public var lastKept: [Int] { Array(kept[0..<lastKeptCount]) }
    public private(set) var lastUpdated = false

    private let scale: Float
    private let dim: Int
    private let initialContext: FloatBuffer
    /// What the last `score` saw: its view count (0 before any) and slot count.
    private var scoredViews = 0
    private var scoredSlots = 0
    private var lastKeptCount = 0
    private var lastSlotCount = 0
    private var kept: [Int] = []
    private var identity: [Int] = []
    /// AdamW over an `m × residualLength` block (parameter and gradient), one per slot count.
    private var optimizers: [Int: AdamW] = [:]
    // Scratch, grown to the largest view, slot and selection counts seen.
    private let imageFeatures = ScratchBuffer(), imageNormalized = ScratchBuffer()
    private let textFeatures = ScratchBuffer(), textNormalized = ScratchBuffer(), textNorms = ScratchBuffer()
    private let scoredLogits = ScratchBuffer(), scoredResiduals = ScratchBuffer()
    private let selectedLogits = ScratchBuffer(), viewEntropies = ScratchBuffer(), meanEntropies = ScratchBuffer()
    private let keptNormalized = ScratchBuffer(), keptLogits = ScratchBuffer(), keptLogitGradient = ScratchBuffer()
    private let lossScratch = ScratchBuffer()
    private let textGradient = ScratchBuffer(), textNormalizedGradient = ScratchBuffer()

    /// - `classPrompts`: token ids of each class prompt whose positions 1…`contextCount` hold the
    ///   phrase the context replaces (as `TPTStep`).
    /// - `initialContext`: `contextCount × D_text` floats, the context of a fresh prompt
    ///   (`TPTStep.initialContext(model:phrase:)` of "a photo of a").
    public init(model: CLIPModel, classPrompts: [[Int32]], contextCount: Int, initialContext: [Float],
                keepFraction: Double = 0.1, learningRate: Double = 5e-3, sharePrefix: Bool = true) throws(CLIPModelError) {
        let dt = model.config.text.hiddenSize
        guard initialContext.count == contextCount * dt else {
            throw .badInput(detail: "initial context has \(initialContext.count) floats, expected \(contextCount) × \(dt)")
        }
        guard keepFraction > 0 && keepFraction <= 1 else { throw .badInput(detail: "keep fraction \(keepFraction) outside (0, 1]") }
        guard learningRate >= 0 && learningRate.isFinite else { throw .badInput(detail: "learning rate \(learningRate)") }
        text = try CLIPTextTrainer(config: model.config, weights: model.weights.text, sequences: classPrompts,
                                   contextCount: contextCount, sharePrefix: sharePrefix)
        vision = model.makeVisionEncoder()
        self.initialContext = FloatBuffer(initialContext)
        residualLength = contextCount * dt
        self.keepFraction = keepFraction
        self.learningRate = learningRate
        scale = model.logitScale
        dim = model.config.projectionDim
    }

    // MARK: Phase 1

    /// Encodes `viewCount` views (each `imageFloatCount` floats, view 0 the original) and keeps
    /// them for `update`. For the `m` slot prompts (`residuals`: `m × residualLength` floats) and
    /// then the fresh prompt, writes `m + 1` values each into `entropies` (E: mean over all views
    /// of the per-view softmax entropy) and `differences` (D: mean over views 1..<V of
    /// max_c z(x₀) − max_c z(xⱼ), on logits as the official code). With a single view there is
    /// no augmented view to compare and D is 0 (the official code's empty mean would be NaN).
    public func score(views: UnsafePointer<Float>, viewCount v: Int, residuals: UnsafePointer<Float>, slotCount m: Int,
                      entropies: UnsafeMutablePointer<Float>, differences: UnsafeMutablePointer<Float>) {
        precondition(v > 0, "DynaPromptStep.score: no views")
        precondition(m >= 0, "DynaPromptStep.score: negative slot count \(m)")
        let c = classCount, p = dim, l = residualLength
        let img = imageFeatures.pointer(atLeast: v * p), imgN = imageNormalized.pointer(atLeast: v * p)
        vision.encode(images: views, batch: v, features: img)
        CLIPLogits.normalize(img, rows: v, dim: p, into: imgN, norms: nil)
        scoredViews = v
        scoredSlots = m
        // The residuals as scored: `update` reuses a prompt's logits while its row is unchanged.
        scoredResiduals.pointer(atLeast: m * l).update(from: residuals, count: m * l)

        let z = scoredLogits.pointer(atLeast: (m + 1) * v * c), h = viewEntropies.pointer(atLeast: v)
        for i in 0...m {
            let zi = z + i * v * c
            viewLogits(residual: i < m ? residuals + i * l : nil, views: v, into: zi)
            Losses.entropy(logits: zi, rows: v, classes: c, entropies: h)
            var sum = 0.0
            for j in 0..<v { sum += Double(h[j]) }
            entropies[i] = Float(sum / Double(v))
            differences[i] = v > 1 ? maxLogitDrop(zi, views: v, classes: c) : 0
        }
    }

    // MARK: Phase 2

    /// Adapts the `selected` slots (distinct, each < `m`; a slot the fresh prompt was just put
    /// in holds a zero residual) on the views of the last `score`, updating `residuals` (`m ×
    /// residualLength`) in place, and writes the prediction (view 0's logits averaged over the
    /// selected prompts under the updated residuals, `classCount` floats) into `logits`.
    /// Returns the loss before the update.
    @discardableResult
    public func update(residuals: UnsafeMutablePointer<Float>, slotCount m: Int, selected: [Int],
                       logits out: UnsafeMutablePointer<Float>) -> Float {
        let v = scoredViews
        precondition(v > 0, "DynaPromptStep.update: no views scored")
        precondition(!selected.isEmpty, "DynaPromptStep.update: no prompt selected")
        for (a, slot) in selected.enumerated() {
            precondition(slot >= 0 && slot < m, "DynaPromptStep.update: slot \(slot) outside 0..<\(m)")
            for b in 0..<a { precondition(selected[b] != slot, "DynaPromptStep.update: slot \(slot) selected twice") }
        }
        let c = classCount, p = dim, l = residualLength, s = selected.count
        let k = Losses.confidentCount(rows: v, fraction: keepFraction)
        if kept.count < k { kept = [Int](repeating: 0, count: k); identity = Array(0..<k) }
        let optimizer = self.optimizer(slots: m)
        lastSlotCount = m

        // 1. Each selected prompt's logits on every view at the current residuals.
        let zs = selectedLogits.pointer(atLeast: s * v * c)
        for (a, slot) in selected.enumerated() {
            let row = residuals + slot * l, za = zs + a * v * c
            if let source = scoredPrompt(slot: slot, residual: row) {
                za.update(from: scoredLogits.storage.pointer + source * v * c, count: v * c)
            } else {
                viewLogits(residual: row, views: v, into: za)
            }
        }

        // 2. The confident views, by entropy averaged over the selected prompts (not differentiated).
        let h = viewEntropies.pointer(atLeast: v), hBar = meanEntropies.pointer(atLeast: v)
        hBar.update(repeating: 0, count: v)
        for a in 0..<s {
            Losses.entropy(logits: zs + a * v * c, rows: v, classes: c, entropies: h)
            Elementwise.add(h, into: hBar, count: v)
        }
        VectorOps.scale(UnsafeMutableBufferPointer(start: hBar, count: v), by: 1 / Float(s))
        kept.withUnsafeMutableBufferPointer { Losses.selectLowestEntropy(entropies: hBar, rows: v, count: k, indices: $0.baseAddress!) }
        lastKeptCount = k
        let imgN = imageNormalized.storage.pointer, keptN = keptNormalized.pointer(atLeast: k * p)
        for j in 0..<k { (keptN + j * p).update(from: imgN + kept[j] * p, count: p) }

        // 3. The loss is a sum of per-prompt terms, so each prompt's backward on its own (the
        //    trainer holds one tape) is exact. The 1/s of the mean rides on the logit scale.
        let gradient = optimizer.gradients[0].pointer
        gradient.update(repeating: 0, count: m * l)
        let txt = textFeatures.pointer(atLeast: c * p), txtN = textNormalized.pointer(atLeast: c * p)
        let txtNorms = textNorms.pointer(atLeast: c)
        let zk = keptLogits.pointer(atLeast: k * c), dz = keptLogitGradient.pointer(atLeast: k * c)
        let dTxtN = textNormalizedGradient.pointer(atLeast: c * p), dTxt = textGradient.pointer(atLeast: c * p)
        var total = 0.0
        for slot in selected {
            setContext(residual: residuals + slot * l)
            text.zeroGradients()
            text.encode(features: txt, record: true)
            CLIPLogits.normalize(txt, rows: c, dim: p, into: txtN, norms: txtNorms)
            CLIPLogits.forward(images: keptN, batch: k, texts: txtN, classes: c, dim: p, scale: scale, logits: zk)
            let term = identity.withUnsafeBufferPointer { all in
                Losses.marginalEntropy(logits: zk, rows: k, classes: c, selected: UnsafeBufferPointer(rebasing: all[0..<k]),
                                       scratch: lossScratch.pointer(atLeast: c), dLogits: dz)
            }
            total += Double(term)
            guard term.isFinite else { break }   // the step is skipped anyway
            CLIPLogits.backward(dLogits: dz, images: keptN, batch: k, texts: txtN, classes: c, dim: p,
                                scale: scale / Float(s), dImages: nil, dTexts: dTxtN)
            CLIPLogits.normalizeBackward(dy: dTxtN, y: txtN, norms: txtNorms, rows: c, dim: p, dx: dTxt)
            text.backward(dFeatures: dTxt)
            (gradient + slot * l).update(from: text.contextGradient.pointer, count: l)
        }
        let loss = Float(total / Double(s))
        lastLoss = loss

        // 4. One AdamW step from fresh moments over the whole block, unless something is not finite.
        lastUpdated = loss.isFinite && UnsafeBufferPointer(start: gradient, count: m * l).allSatisfy(\.isFinite)
        if lastUpdated {
            let parameter = optimizer.parameters[0].pointer
            parameter.update(from: residuals, count: m * l)
            optimizer.reset()
            optimizer.step()
            residuals.update(from: parameter, count: m * l)
        }

        // 5. The prediction: view 0 under each selected prompt, averaged.
        out.update(repeating: 0, count: c)
        for (a, slot) in selected.enumerated() {
            if lastUpdated {
                let z0 = keptLogits.pointer(atLeast: k * c)   // free again after the backward
                setContext(residual: residuals + slot * l)
                text.encode(features: txt, record: false)
                CLIPLogits.normalize(txt, rows: c, dim: p, into: txtN, norms: nil)
                CLIPLogits.forward(images: imgN, batch: 1, texts: txtN, classes: c, dim: p, scale: scale, logits: z0)
                Elementwise.add(z0, into: out, count: c)
            } else {
                Elementwise.add(zs + a * v * c, into: out, count: c)   // row 0: view 0, residuals unchanged
            }
        }
        VectorOps.scale(UnsafeMutableBufferPointer(start: out, count: c), by: 1 / Float(s))
        return loss
    }

    /// dL/d(residuals) of the last `update` (`m × residualLength`, zero rows for the slots not
    /// selected), for tests and tools.
    public var lastGradient: [Float] { optimizers[lastSlotCount]?.gradients[0].array ?? [] }

    // MARK: Helpers

    /// The text context of the prompt with this residual (nil: the fresh prompt).
    private func setContext(residual: UnsafePointer<Float>?) {
        if let residual {
            Elementwise.sum(initialContext.pointer, residual, into: text.context.pointer, count: residualLength)
        } else {
            text.context.copy(from: initialContext)
        }
    }

    /// Logits `[views, C]` of the scored views under the prompt with this residual, without a tape.
    private func viewLogits(residual: UnsafePointer<Float>?, views v: Int, into z: UnsafeMutablePointer<Float>) {
        let c = classCount, p = dim
        let txt = textFeatures.pointer(atLeast: c * p), txtN = textNormalized.pointer(atLeast: c * p)
        setContext(residual: residual)
        text.encode(features: txt, record: false)
        CLIPLogits.normalize(txt, rows: c, dim: p, into: txtN, norms: nil)
        CLIPLogits.forward(images: imageNormalized.storage.pointer, batch: v, texts: txtN, classes: c, dim: p,
                           scale: scale, logits: z)
    }

    /// The official `plpd`: mean over j ≥ 1 of max_c z₀ − max_c zⱼ.
    private func maxLogitDrop(_ z: UnsafePointer<Float>, views v: Int, classes c: Int) -> Float {
        let top0 = VectorOps.max(UnsafeBufferPointer(start: z, count: c))
        var sum = 0.0
        for j in 1..<v { sum += Double(top0 - VectorOps.max(UnsafeBufferPointer(start: z + j * c, count: c))) }
        return Float(sum / Double(v - 1))
    }

    /// Which scored prompt's logits hold for this slot's current residual: the slot's own when
    /// its row is what `score` saw, the fresh prompt's when the row is zero (the fresh prompt
    /// was just put there), nil when it must be encoded again.
    private func scoredPrompt(slot: Int, residual: UnsafePointer<Float>) -> Int? {
        let l = residualLength
        if slot < scoredSlots {
            let saved = scoredResiduals.storage.pointer + slot * l
            if (0..<l).allSatisfy({ saved[$0] == residual[$0] }) { return slot }
        }
        if (0..<l).allSatisfy({ residual[$0] == 0 }) { return scoredSlots }
        return nil
    }

    /// The AdamW over `m` residual rows, built the first time `m` is seen (torch AdamW defaults
    /// as TPT/DynaPrompt use them: betas (0.9, 0.999), eps 1e-8, weight decay 0.01).
    private func optimizer(slots m: Int) -> AdamW {
        if let existing = optimizers[m] { return existing }
        let n = m * residualLength
        let made = AdamW(parameters: [FloatBuffer(count: n)], gradients: [FloatBuffer(count: n)], learningRate: learningRate,
                         betas: (0.9, 0.999), eps: 1e-8, weightDecay: 0.01)
        optimizers[m] = made
        return made
    }
}
