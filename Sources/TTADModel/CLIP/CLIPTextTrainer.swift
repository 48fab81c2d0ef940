import TTADEngine

/// The text tower in training mode over a fixed list of class prompts: the forward of
/// `CLIPTextEncoder` (context vectors replacing the token embeddings at positions 1…n_ctx,
/// sequences cut at their pooled end token) that can record a tape, and the backward from
/// ∂L/∂features (`C × projectionDim`) to ∂L/∂context (`[n_ctx, D]`), summed over all classes.
/// Every weight of the tower is frozen.
///
/// Shared prefix (`sharePrefix`, the default): the start token and the context vectors are the
/// same rows at the same positions in every class prompt, and under the causal mask their
/// activations cannot depend on what follows. They are therefore run once per forward, as one
/// sequence of `1 + n_ctx` rows, and each class runs only its suffix (class-name tokens, ".", end
/// token), whose attention reads the prefix's keys and values (`CLIPPrefixAttention`). The
/// prefix's gradient collects every class's contribution through those keys and values. Each
/// class saves `1 + n_ctx` rows: for "a photo of a {class}." 5 of its ≈ 10–12 (1000 benchmark
/// class names: 7115 rows instead of 12110), and rows are what a TPT step at 1000 classes pays
/// for. `sharePrefix: false` runs every prompt whole (the straightforward form, kept for
/// verification); both agree to float rounding.
///
/// The layout is built once in `init` (the class list does not change between steps), so
/// `encode`/`backward` allocate nothing once their buffers have grown. All classes go through
/// one packed batch: recording 1000 prompts at ViT-B text width keeps ≈ 1.6 GB of activations
/// (12 layers × 7115 rows × 4608 floats; torch's TPT, padding to 77, needs > 20 GB there).
public final class CLIPTextTrainer {
    public let config: CLIPConfiguration
    public let weights: CLIPTextWeights
    public let classCount: Int
    public let contextCount: Int
    /// Whether the start token and context run once for all classes (see above).
    public let sharesPrefix: Bool
    /// `[contextCount, D]` context vectors and their gradient (accumulated by `backward`).
    public let context: FloatBuffer
    public let contextGradient: FloatBuffer
    /// Token rows one forward runs.
    public var rowCount: Int { layout.rows }

    private let tape: CLIPEncoderTape
    private let layout: CLIPSequenceLayout
    /// Per row: its token id, or `-1 - j` for context vector j; and its position.
    private let rowTokens: [Int32]
    private let rowPositions: [Int]
    /// The row each class is pooled at (its end token: the last row of its sequence).
    private let pooledRows: [Int]
    private var recorded = false
    private var finalStates: UnsafeMutablePointer<Float>?
    private let pooled = ScratchBuffer()
    private let finalStats = ScratchBuffer()
    private let pooledGradient = ScratchBuffer()

    public init(config: CLIPConfiguration, weights: CLIPTextWeights, sequences: [[Int32]], contextCount: Int,
                sharePrefix: Bool = true) throws(CLIPModelError) {
        guard !sequences.isEmpty else { throw .badInput(detail: "no class prompts") }
        guard contextCount >= 0 else { throw .badInput(detail: "negative context count \(contextCount)") }
        var pools = [Int]()
        for (s, ids) in sequences.enumerated() {
            guard !ids.isEmpty else { throw .badTokenIDs(detail: "sequence \(s) is empty") }
            guard ids.count <= config.maxPositions else {
                throw .badTokenIDs(detail: "sequence \(s) has \(ids.count) tokens; the model's context is \(config.maxPositions)")
            }
            for id in ids where id < 0 || Int(id) >= config.vocabSize {
                throw .badTokenIDs(detail: "sequence \(s) has token id \(id) outside the vocabulary (0..<\(config.vocabSize))")
            }
            let pool = CLIPTextEncoder.poolingIndex(ids, eosTokenID: config.eosTokenID)
            guard pool >= contextCount + 1 else {
                throw .badTokenIDs(detail: "sequence \(s) ends at position \(pool), not after its \(contextCount) context positions")
            }
            pools.append(pool)
        }
        self.config = config
        self.weights = weights
        classCount = sequences.count
        self.contextCount = contextCount
        let first = sequences[0][0]
        sharesPrefix = sharePrefix && sequences.allSatisfy { $0[0] == first }

        // Row tables: the shared prefix (if any), then each class's rows.
        let prefix = sharesPrefix ? 1 + contextCount : 0
        var tokens = [Int32](), positions = [Int](), lengths = [Int](), poolRows = [Int]()
        func token(_ ids: [Int32], _ j: Int) -> Int32 { j >= 1 && j <= contextCount ? Int32(-j) : ids[j] }
        for j in 0..<prefix { tokens.append(token(sequences[0], j)); positions.append(j) }
        for (s, ids) in sequences.enumerated() {
            for j in prefix...pools[s] { tokens.append(token(ids, j)); positions.append(j) }
            lengths.append(pools[s] + 1 - prefix)
            poolRows.append(tokens.count - 1)
        }
        rowTokens = tokens
        rowPositions = positions
        pooledRows = poolRows
        layout = CLIPSequenceLayout(prefixLength: prefix, lengths: lengths, causal: true, heads: config.text.heads)
        tape = CLIPEncoderTape(config: config.text, layers: weights.layers)
        context = FloatBuffer(count: contextCount * config.text.hiddenSize)
        contextGradient = FloatBuffer(count: contextCount * config.text.hiddenSize)
    }

    /// Class features (`classCount × projectionDim`, not normalised) with the current context.
    /// With `record`, keeps what `backward` needs.
    public func encode(features: UnsafeMutablePointer<Float>, record: Bool) {
        let t = config.text, d = t.hiddenSize
        let h0 = tape.begin(layout: layout, record: record)
        for row in 0..<layout.rows {
            let id = rowTokens[row]
            let token = id >= 0 ? weights.tokenEmbedding.pointer + Int(id) * d : context.pointer + Int(-1 - id) * d
            Elementwise.sum(token, weights.positionEmbedding.pointer + rowPositions[row] * d, into: h0 + row * d, count: d)
        }
        let h = tape.forward()
        // The final LayerNorm is per row: only the pooled rows need it.
        let p = pooled.pointer(atLeast: classCount * d), stats = finalStats.pointer(atLeast: 2 * classCount)
        for c in 0..<classCount {
            LayerNorm.forward(x: h + pooledRows[c] * d, y: p + c * d, rows: 1, dim: d, weight: weights.finalNormWeight.pointer,
                              bias: weights.finalNormBias.pointer, eps: t.layerNormEps, mean: stats + c, rstd: stats + classCount + c)
        }
        Linear.forward(x: p, rows: classCount, inDim: d, weight: weights.projection.pointer, bias: nil,
                       outDim: config.projectionDim, y: features)
        finalStates = h
        recorded = record
    }

    /// Adds ∂L/∂context into `contextGradient`, given `dFeatures` (`classCount × projectionDim`)
    /// for the last `encode(record: true)`.
    public func backward(dFeatures: UnsafePointer<Float>) {
        precondition(recorded, "CLIPTextTrainer.backward needs encode(record: true) first")
        let d = config.text.hiddenSize, h = finalStates!, stats = finalStats.storage.pointer
        let dPooled = pooledGradient.pointer(atLeast: classCount * d)
        Linear.backwardInput(dy: dFeatures, rows: classCount, outDim: config.projectionDim, weight: weights.projection.pointer,
                             inDim: d, dx: dPooled, accumulate: false)
        let g = tape.outputGradient()
        g.update(repeating: 0, count: layout.rows * d)
        for c in 0..<classCount {
            LayerNorm.backward(dy: dPooled + c * d, x: h + pooledRows[c] * d, mean: stats + c, rstd: stats + classCount + c,
                               weight: weights.finalNormWeight.pointer, rows: 1, dim: d,
                               dx: g + pooledRows[c] * d, dWeight: nil, dBias: nil)
        }
        tape.backward()
        // The context rows' input gradient (once in the shared prefix, else once per class).
        for row in 0..<layout.rows where rowTokens[row] < 0 {
            Elementwise.add(g + row * d, into: contextGradient.pointer + Int(-1 - rowTokens[row]) * d, count: d)
        }
    }

    public func zeroGradients() { contextGradient.fill(0) }

    /// Convenience for tests and tools: the features at the current context.
    public func encode(record: Bool = false) -> [Float] {
        var out = [Float](repeating: 0, count: classCount * config.projectionDim)
        out.withUnsafeMutableBufferPointer { encode(features: $0.baseAddress!, record: record) }
        return out
    }
}
