import TTADEngine

/// One test-time prompt-tuning step (TPT, Shu et al. 2022, as the official code) for one test
/// image given as `V` preprocessed views, view 0 the original:
///
/// 1. encode all views (no tape: the image tower is frozen unless visual prompts train) and
///    every class prompt with the current context (recorded), cosine logits `[V, C]`;
/// 2. keep the `int(V·ρ)` views of lowest entropy (ρ = 0.1: 6 of 64);
/// 3. loss = entropy of the kept views' mean probability; backward to the context (and, when
///    they train, to the visual prompts, re-encoding only the kept views with a tape);
/// 4. one AdamW step (lr 5e-3, betas (0.9, 0.999), weight decay 0.01: TPT's defaults);
/// 5. predict on view 0 with the updated prompts: its logits `[C]` are the result.
///
/// Episodic by default, as TPT: every step starts from the initial prompts and fresh AdamW
/// moments. With `episodic = false` the prompts and moments carry over (online variants).
///
/// A step whose loss is not finite skips the update (as TPT's AMP grad scaler skips steps with
/// non-finite gradients) and predicts with the prompts it started from.
///
/// After the first step at a given view count nothing is allocated: buffers are grown once and
/// reused. Not thread-safe; one instance per adaptation worker.
public final class TPTStep {
    public let text: CLIPTextTrainer
    public let vision: CLIPVisionTrainer
    public let optimizer: AdamW
    public let keepFraction: Double
    public let trainsVisualPrompts: Bool
    public var episodic: Bool
    public var classCount: Int { text.classCount }
    /// The loss of the last step and the views it kept (most confident first).
    public private(set) var lastLoss: Float = .nan
    public var lastKept: [Int] { Array(selected[0..<lastKeptCount]) }
    private var lastKeptCount = 0

    private let scale: Float
    private let initialContext: FloatBuffer
    private let initialPrompts: FloatBuffer
    private let dim: Int
    // Scratch, grown to the largest view count seen.
    private let imageFeatures = ScratchBuffer(), imageNormalized = ScratchBuffer(), imageNorms = ScratchBuffer()
    private let textFeatures = ScratchBuffer(), textNormalized = ScratchBuffer(), textNorms = ScratchBuffer()
    private let logits = ScratchBuffer(), entropies = ScratchBuffer()
    private let keptImages = ScratchBuffer(), keptFeatures = ScratchBuffer(), keptNormalized = ScratchBuffer()
    private let keptNorms = ScratchBuffer(), keptLogits = ScratchBuffer(), keptLogitGradient = ScratchBuffer()
    private let lossScratch = ScratchBuffer()
    private let textGradient = ScratchBuffer(), textNormalizedGradient = ScratchBuffer()
    private let keptGradient = ScratchBuffer(), keptNormalizedGradient = ScratchBuffer()
    private var selected: [Int] = []
    private var identity: [Int] = []

    /// - `classPrompts`: token ids of each class prompt whose positions 1…`contextCount` hold the
    ///   phrase the context replaces (e.g. `ClassPromptEncoder.prompts` for "a photo of a {}.").
    /// - `initialContext`: `contextCount × D_text` floats (see `initialContext(model:phrase:)`).
    /// - `visualPrompts`: `n × D_vision` floats used in every image forward; trained with the
    ///   context when `trainVisualPrompts` (AdamW over both), fixed otherwise.
    public init(model: CLIPModel, classPrompts: [[Int32]], contextCount: Int, initialContext: [Float],
                visualPrompts: [Float] = [], trainVisualPrompts: Bool = false, keepFraction: Double = 0.1,
                learningRate: Double = 5e-3, episodic: Bool = true, sharePrefix: Bool = true) throws(CLIPModelError) {
        let dt = model.config.text.hiddenSize, dv = model.config.vision.hiddenSize
        guard initialContext.count == contextCount * dt else {
            throw .badInput(detail: "initial context has \(initialContext.count) floats, expected \(contextCount) × \(dt)")
        }
        guard visualPrompts.count % dv == 0 else {
            throw .badInput(detail: "visual prompts have \(visualPrompts.count) floats, not a multiple of \(dv)")
        }
        guard keepFraction > 0 && keepFraction <= 1 else { throw .badInput(detail: "keep fraction \(keepFraction) outside (0, 1]") }
        guard !trainVisualPrompts || !visualPrompts.isEmpty else { throw .badInput(detail: "no visual prompts to train") }
        text = try CLIPTextTrainer(config: model.config, weights: model.weights.text, sequences: classPrompts,
                                   contextCount: contextCount, sharePrefix: sharePrefix)
        vision = CLIPVisionTrainer(config: model.config, weights: model.weights.vision, promptCount: visualPrompts.count / dv)
        self.initialContext = FloatBuffer(initialContext)
        initialPrompts = FloatBuffer(visualPrompts)
        trainsVisualPrompts = trainVisualPrompts
        var parameters = [text.context], gradients = [text.contextGradient]
        if trainVisualPrompts { parameters.append(vision.prompts); gradients.append(vision.promptGradient) }
        optimizer = AdamW(parameters: parameters, gradients: gradients, learningRate: learningRate,
                          betas: (0.9, 0.999), eps: 1e-8, weightDecay: 0.01)
        self.keepFraction = keepFraction
        self.episodic = episodic
        scale = model.logitScale
        dim = model.config.projectionDim
        reset()
    }

    /// The token embeddings of `phrase` ("a photo of a"): TPT's `ctx_init`. Its token count is the
    /// context count.
    public static func initialContext(model: CLIPModel, phrase: String) -> (count: Int, values: [Float]) {
        let ids = model.tokenize(phrase)
        let tokens = ids.dropFirst().prefix { $0 != model.tokenizer.endToken }
        let d = model.config.text.hiddenSize
        var values = [Float]()
        for id in tokens { values += UnsafeBufferPointer(start: model.weights.text.tokenEmbedding.pointer + Int(id) * d, count: d) }
        return (tokens.count, values)
    }

    /// Back to the initial prompts and fresh optimizer moments.
    public func reset() {
        text.context.copy(from: initialContext)
        vision.prompts.copy(from: initialPrompts)
        optimizer.reset()
    }

    /// Runs one step on `viewCount` views (each `vision.imageFloatCount` floats, view 0 the
    /// original) and writes view 0's logits under the updated prompts into `logits` (`classCount`
    /// floats). Returns the TPT loss before the update.
    @discardableResult
    public func step(views: UnsafePointer<Float>, viewCount v: Int, logits out: UnsafeMutablePointer<Float>) -> Float {
        precondition(v > 0, "TPTStep: no views")
        if episodic { reset() }
        text.zeroGradients()
        vision.zeroGradients()
        let c = classCount, p = dim, k = Losses.confidentCount(rows: v, fraction: keepFraction)
        if selected.count < k { selected = [Int](repeating: 0, count: k); identity = Array(0..<k) }

        // 1. Every view without a tape; every class with one.
        let img = imageFeatures.pointer(atLeast: v * p), imgN = imageNormalized.pointer(atLeast: v * p)
        let imgNorms = imageNorms.pointer(atLeast: v)
        vision.encode(images: views, batch: v, features: img, record: false)
        CLIPLogits.normalize(img, rows: v, dim: p, into: imgN, norms: imgNorms)
        let txt = textFeatures.pointer(atLeast: c * p), txtN = textNormalized.pointer(atLeast: c * p)
        let txtNorms = textNorms.pointer(atLeast: c)
        text.encode(features: txt, record: true)
        CLIPLogits.normalize(txt, rows: c, dim: p, into: txtN, norms: txtNorms)

        // 2. Confidence selection.
        let z = logits.pointer(atLeast: v * c), h = entropies.pointer(atLeast: v)
        CLIPLogits.forward(images: imgN, batch: v, texts: txtN, classes: c, dim: p, scale: scale, logits: z)
        Losses.entropy(logits: z, rows: v, classes: c, entropies: h)
        selected.withUnsafeMutableBufferPointer { Losses.selectLowestEntropy(entropies: h, rows: v, count: k, indices: $0.baseAddress!) }

        // 3. Loss on the kept views and its gradient.
        let keptN = keptNormalized.pointer(atLeast: k * p), keptN2 = keptNorms.pointer(atLeast: k)
        if trainsVisualPrompts {
            // Re-encode just the kept views, recording, so the prompts' backward has its tape.
            let n = vision.imageFloatCount, images = keptImages.pointer(atLeast: k * n), f = keptFeatures.pointer(atLeast: k * p)
            for i in 0..<k { (images + i * n).update(from: views + selected[i] * n, count: n) }
            vision.encode(images: images, batch: k, features: f, record: true)
            CLIPLogits.normalize(f, rows: k, dim: p, into: keptN, norms: keptN2)
        } else {
            for i in 0..<k { (keptN + i * p).update(from: imgN + selected[i] * p, count: p) }
        }
        let zk = keptLogits.pointer(atLeast: k * c), dz = keptLogitGradient.pointer(atLeast: k * c)
        CLIPLogits.forward(images: keptN, batch: k, texts: txtN, classes: c, dim: p, scale: scale, logits: zk)
        let loss = identity.withUnsafeBufferPointer { all in
            Losses.marginalEntropy(logits: zk, rows: k, classes: c, selected: UnsafeBufferPointer(rebasing: all[0..<k]),
                                   scratch: lossScratch.pointer(atLeast: c), dLogits: dz)
        }
        lastLoss = loss
        lastKeptCount = k

        // 4. Backward and the update, unless the loss is unusable.
        if loss.isFinite {
            let dTxtN = textNormalizedGradient.pointer(atLeast: c * p), dTxt = textGradient.pointer(atLeast: c * p)
            let dKeptN = trainsVisualPrompts ? keptNormalizedGradient.pointer(atLeast: k * p) : nil
            CLIPLogits.backward(dLogits: dz, images: keptN, batch: k, texts: txtN, classes: c, dim: p, scale: scale,
                                dImages: dKeptN, dTexts: dTxtN)
            CLIPLogits.normalizeBackward(dy: dTxtN, y: txtN, norms: txtNorms, rows: c, dim: p, dx: dTxt)
            text.backward(dFeatures: dTxt)
            if let dKeptN {
                let dKept = keptGradient.pointer(atLeast: k * p)
                CLIPLogits.normalizeBackward(dy: dKeptN, y: keptN, norms: keptN2, rows: k, dim: p, dx: dKept)
                vision.backward(dFeatures: dKept)
            }
            optimizer.step()
        }

        // 5. Prediction on the original view with the updated prompts.
        text.encode(features: txt, record: false)
        CLIPLogits.normalize(txt, rows: c, dim: p, into: txtN, norms: txtNorms)
        if trainsVisualPrompts {
            vision.encode(images: views, batch: 1, features: img, record: false)
            CLIPLogits.normalize(img, rows: 1, dim: p, into: imgN, norms: imgNorms)
        }
        CLIPLogits.forward(images: imgN, batch: 1, texts: txtN, classes: c, dim: p, scale: scale, logits: out)
        return loss
    }

    /// Convenience for tests and tools: `[Float]` in, view 0's logits out.
    @discardableResult
    public func step(views: [Float], viewCount: Int) -> [Float] {
        precondition(views.count == viewCount * vision.imageFloatCount, "TPTStep: \(views.count) floats for \(viewCount) views")
        var out = [Float](repeating: 0, count: classCount)
        views.withUnsafeBufferPointer { v in
            out.withUnsafeMutableBufferPointer { _ = step(views: v.baseAddress!, viewCount: viewCount, logits: $0.baseAddress!) }
        }
        return out
    }
}
