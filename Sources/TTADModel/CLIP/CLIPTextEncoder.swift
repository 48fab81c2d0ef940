import TTADEngine

/// The text tower: token and position embeddings, causal transformer blocks, final LayerNorm,
/// pooling at the end-of-text token and the projection — Hugging Face's `CLIPTextTransformer`
/// followed by `text_projection`.
///
/// Each sequence is cut right after the token it is pooled at. Under the causal mask no position
/// sees anything after itself, so the pooled output is exactly what the reference computes on
/// the sequence padded to the full context — for a fraction of the work (a class prompt is ~8
/// tokens, the reference pads to 77).
///
/// Prompt context (CoOp-style): `contextCount` learned vectors replace the token embeddings at
/// positions 1…contextCount (right after the start token) of every sequence — the tokens of an
/// initial phrase such as "a photo of a"; position embeddings are still added.
public final class CLIPTextEncoder {
    public let config: CLIPConfiguration
    public let weights: CLIPTextWeights
    /// Token rows per packed forward; bounds activation memory for large class lists.
    public var maxRowsPerChunk = 4096
    /// Cut each sequence after its pooled token (the default, exact under the causal mask).
    /// `false` runs every given token, as the reference does with padded input — kept only so
    /// benchmarks can measure what the truncation saves.
    public var stopAtEndToken = true
    private let scratch = CLIPEncoderScratch()
    private let hidden = ScratchBuffer()
    private let pooled = ScratchBuffer()

    public init(config: CLIPConfiguration, weights: CLIPTextWeights) {
        self.config = config
        self.weights = weights
    }

    /// The position HF pools at: the first `eos_token_id`, except for the legacy id 2 (OpenAI's
    /// converted checkpoints), where HF takes argmax(ids) — the first end-of-text token when that
    /// is the largest id, as in CLIP's vocabulary. 0 when no end token is present (HF's result too).
    public static func poolingIndex(_ ids: [Int32], eosTokenID: Int) -> Int {
        if eosTokenID == 2 {
            var best = 0
            for (i, id) in ids.enumerated() where id > ids[best] { best = i }
            return best
        }
        return ids.firstIndex(of: Int32(truncatingIfNeeded: eosTokenID)) ?? 0
    }

    /// Encodes token sequences (each starting with the start token; padding after the end token
    /// is allowed and ignored) into `features` (`count × projectionDim`, not normalised).
    public func encode(
        sequences: [[Int32]], context: UnsafePointer<Float>? = nil, contextCount: Int = 0,
        features: UnsafeMutablePointer<Float>
    ) throws(CLIPModelError) {
        precondition(contextCount >= 0 && (contextCount == 0 || context != nil))
        var lengths = [Int](), pools = [Int]()
        lengths.reserveCapacity(sequences.count)
        pools.reserveCapacity(sequences.count)
        for (s, ids) in sequences.enumerated() {
            guard !ids.isEmpty else { throw .badTokenIDs(detail: "sequence \(s) is empty") }
            guard ids.count <= config.maxPositions else {
                throw .badTokenIDs(detail: "sequence \(s) has \(ids.count) tokens; the model's context is \(config.maxPositions)")
            }
            for id in ids where id < 0 || Int(id) >= config.vocabSize {
                throw .badTokenIDs(detail: "sequence \(s) has token id \(id) outside the vocabulary (0..<\(config.vocabSize))")
            }
            let pool = Self.poolingIndex(ids, eosTokenID: config.eosTokenID)
            guard contextCount == 0 || pool >= contextCount + 1 else {
                throw .badTokenIDs(detail: "sequence \(s) ends at position \(pool), not after its \(contextCount) context positions")
            }
            lengths.append(stopAtEndToken ? pool + 1 : ids.count)
            pools.append(pool)
        }
        var start = 0
        while start < sequences.count {
            var end = start, rows = 0
            while end < sequences.count && (end == start || rows + lengths[end] <= maxRowsPerChunk) {
                rows += lengths[end]; end += 1
            }
            encodeChunk(sequences, lengths, pools, start..<end, rows: rows, context: context, contextCount: contextCount,
                        features: features + start * config.projectionDim)
            start = end
        }
    }

    private func encodeChunk(
        _ sequences: [[Int32]], _ lengths: [Int], _ pools: [Int], _ range: Range<Int>, rows: Int,
        context: UnsafePointer<Float>?, contextCount: Int, features: UnsafeMutablePointer<Float>
    ) {
        let t = config.text, d = t.hiddenSize
        let h = hidden.pointer(atLeast: rows * d)
        var offsets = [0]
        offsets.reserveCapacity(range.count + 1)
        var row = 0
        for s in range {
            let ids = sequences[s]
            for j in 0..<lengths[s] {
                let dst = h + (row + j) * d
                let token: UnsafePointer<Float>
                if j >= 1 && j <= contextCount, let context {
                    token = context + (j - 1) * d
                } else {
                    token = UnsafePointer(weights.tokenEmbedding.pointer + Int(ids[j]) * d)
                }
                Elementwise.sum(token, weights.positionEmbedding.pointer + j * d, into: dst, count: d)
            }
            row += lengths[s]
            offsets.append(row)
        }
        offsets.withUnsafeBufferPointer { o in
            CLIPEncoder.forward(hidden: h, offsets: o, config: t, layers: weights.layers, causal: true, scratch: scratch)
        }
        // The final LayerNorm is per row, so normalising only the pooled rows is exact.
        let p = pooled.pointer(atLeast: range.count * d)
        for (i, s) in range.enumerated() {
            LayerNorm.forward(x: h + (offsets[i] + pools[s]) * d, y: p + i * d, rows: 1, dim: d,
                              weight: weights.finalNormWeight.pointer, bias: weights.finalNormBias.pointer, eps: t.layerNormEps)
        }
        Linear.forward(x: p, rows: range.count, inDim: d, weight: weights.projection.pointer, bias: nil,
                       outDim: config.projectionDim, y: features)
    }

    /// Convenience for tests and tools.
    public func encode(sequences: [[Int32]], context: [Float] = [], contextCount: Int = 0) throws(CLIPModelError) -> [Float] {
        guard context.count == contextCount * config.text.hiddenSize else {
            throw .badInput(detail: "context has \(context.count) floats, expected \(contextCount) × \(config.text.hiddenSize)")
        }
        var out = [Float](repeating: 0, count: sequences.count * config.projectionDim)
        try context.withUnsafeBufferPointer { (c) throws(CLIPModelError) in
            try out.withUnsafeMutableBufferPointer { (o) throws(CLIPModelError) in
                try encode(sequences: sequences, context: contextCount > 0 ? c.baseAddress : nil,
                           contextCount: contextCount, features: o.baseAddress!)
            }
        }
        return out
    }
}
