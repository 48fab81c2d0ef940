import TTADEngine

/// One sample's classification. Reused across calls: `classify` overwrites every field and
/// refills `top` in place (keeping its capacity), so a sized results array costs no allocation.
public struct ClassificationResult: Sendable {
    /// The k most probable classes, most probable first; ties resolve to the lower class index.
    public var top: [(index: Int, probability: Float)]
    /// Entropy of the full softmax distribution, in nats (0 … log C).
    public var entropy: Float
    /// Largest cosine similarity between the sample and any class embedding (−1 … 1). Low values
    /// mean the sample is far from every class — the basis for an outlier score.
    public var maxCosine: Float
    /// Index of the most probable class (== top[0].index).
    public var predicted: Int

    public init(topKCapacity: Int = 0) {
        top = []
        top.reserveCapacity(topKCapacity)
        entropy = .nan
        maxCosine = .nan
        predicted = -1
    }
}

/// Frozen zero-shot classifier over precomputed image embeddings (CLIP-style):
///
///     logits = logitScale · cos(x, class_c)   for every class c
///     p      = softmax(logits)
///
/// Per batch this is one sgemm, [n, D] × [C, D]ᵀ (sgemv for a batch of one), into a preallocated
/// logits buffer, followed by
/// per-row top-k (on the logits, which are exact where probabilities may underflow to equal
/// zeros), softmax, and entropy (a by-product of the softmax; no extra logarithms).
///
/// `logitScale` is CLIP's learned temperature exp(t); OpenAI's CLIP checkpoints saturate it at
/// 100 during training, which is why 100 is the conventional value for zero-shot inference. A
/// smaller scale gives softer (higher-entropy) distributions; it does not change the ranking.
///
/// Inputs need not be normalised: each row is copied into scratch and L2-normalised there. A
/// zero-norm row (which the protocol layer rejects earlier anyway) is left as zeros, giving all
/// cosines 0 → a uniform distribution, entropy log C, `maxCosine` 0, `predicted` 0 — never NaN.
/// Rows containing NaN/∞ are garbage in, garbage (NaN) out.
///
/// Not thread-safe: it owns mutable scratch buffers. Give each pipeline thread its own instance
/// (the class matrix is copied per instance; 2 MB for C=1000, D=512).
public final class EmbeddingClassifier {
    public let classes: ClassEmbeddings
    public let logitScale: Float
    /// Entries reported in `ClassificationResult.top` (≤ classCount).
    public let topK: Int
    /// Rows per sgemm; larger batches are processed in chunks of this size.
    public let maxBatch: Int

    public var dimension: Int { dim }
    public var classCount: Int { classTotal }

    // Stored copies of hot constants, so the hot loop reads plain stored properties.
    private let dim: Int
    private let classTotal: Int
    /// [C, D] unit rows, 64-byte aligned (cache-line aligned rows help sgemm packing a little).
    private let weights: UnsafeMutablePointer<Float>
    /// [maxBatch, D] normalised copies of the current chunk's inputs.
    private let unitInputs: UnsafeMutablePointer<Float>
    /// [maxBatch, C] logits, overwritten by probabilities row by row.
    private let scores: UnsafeMutablePointer<Float>
    private var topScratch: [(index: Int, value: Float)]
    private var lastChunkRows = 0

    public init(classes: ClassEmbeddings, logitScale: Float = 100, topK: Int = 5, maxBatch: Int = 256) {
        precondition(logitScale.isFinite && logitScale > 0, "EmbeddingClassifier: logitScale must be finite and > 0, got \(logitScale)")
        precondition(topK >= 1, "EmbeddingClassifier: topK must be ≥ 1, got \(topK)")
        precondition(maxBatch >= 1, "EmbeddingClassifier: maxBatch must be ≥ 1, got \(maxBatch)")
        self.classes = classes
        self.logitScale = logitScale
        self.classTotal = classes.count
        self.dim = classes.dimension
        self.topK = min(topK, classes.count)
        self.maxBatch = maxBatch
        let w = Self.allocate(classes.count * classes.dimension)
        classes.matrix.withUnsafeBufferPointer { w.update(from: $0.baseAddress!, count: $0.count) }
        weights = w
        unitInputs = Self.allocate(maxBatch * classes.dimension)
        scores = Self.allocate(maxBatch * classes.count)
        topScratch = []
        topScratch.reserveCapacity(self.topK)
    }

    deinit {
        weights.deallocate()
        unitInputs.deallocate()
        scores.deallocate()
    }

    /// Results array ready for batches of up to `count` samples (with `top` capacity reserved).
    public func makeResults(count: Int) -> [ClassificationResult] {
        (0..<count).map { _ in ClassificationResult(topKCapacity: topK) }
    }

    /// Classifies `count` embeddings stored row-major in `embeddings` (`count × dimension`
    /// floats, any norm). `results[i]` receives sample i; `results` is grown if shorter than
    /// `count` (allocation happens only then) and never shrunk. Allocation-free once sized, as
    /// long as the caller does not hold other copies of `results` (copy-on-write would copy).
    public func classify(batch embeddings: UnsafeBufferPointer<Float>, count: Int,
                         results: inout [ClassificationResult]) {
        precondition(count >= 0, "EmbeddingClassifier: negative count")
        precondition(embeddings.count >= count * dim,
                     "EmbeddingClassifier: \(embeddings.count) floats for \(count) × \(dim)")
        if count == 0 { return }
        while results.count < count { results.append(ClassificationResult(topKCapacity: topK)) }
        let input = embeddings.baseAddress!
        var start = 0
        while start < count {
            let rows = min(maxBatch, count - start)
            runChunk(input + start * dim, rows: rows, results: &results, firstResult: start)
            start += rows
        }
    }

    /// Single-sample convenience (same arithmetic as a batch of one).
    public func classify(_ embedding: UnsafeBufferPointer<Float>, into result: inout ClassificationResult) {
        precondition(embedding.count == dim, "EmbeddingClassifier: \(embedding.count) floats, expected \(dim)")
        runChunk(embedding.baseAddress!, rows: 1, firstResult: 0) { _, fill in fill(&result) }
    }

    /// The full probability vector (C entries) of row `row` of the most recent chunk — for a
    /// batch of ≤ `maxBatch` samples, sample `row`. Valid only inside `body` and until the next
    /// `classify`.
    public func withProbabilities<R>(ofRow row: Int, _ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        precondition(row >= 0 && row < lastChunkRows, "EmbeddingClassifier: row \(row) not in last chunk (\(lastChunkRows) rows)")
        return try body(UnsafeBufferPointer(start: scores + row * classTotal, count: classTotal))
    }

    // MARK: Hot path

    private func runChunk(_ input: UnsafePointer<Float>, rows: Int,
                          results: inout [ClassificationResult], firstResult: Int) {
        runChunk(input, rows: rows, firstResult: firstResult) { r, fill in fill(&results[firstResult + r]) }
    }

    /// Normalise → one sgemm → per-row post-processing. `deliver(r, fill)` hands the caller's
    /// storage for row r to `fill`; the indirection lets the batch and single-sample entry
    /// points share this code without copying results around.
    @inline(__always)
    private func runChunk(_ input: UnsafePointer<Float>, rows: Int, firstResult: Int,
                          deliver: (Int, (inout ClassificationResult) -> Void) -> Void) {
        let d = dim, c = classTotal
        unitInputs.update(from: input, count: rows * d)
        for r in 0..<rows {
            VectorOps.l2Normalize(inPlace: UnsafeMutableBufferPointer(start: unitInputs + r * d, count: d))
        }
        if rows == 1 {
            // Same product as a 1-row sgemm, but OpenBLAS's sgemm packs the whole [C, D] matrix
            // on every call, which for a single row costs more than the arithmetic (measured
            // 3x slower than sgemv with Haswell kernels). sgemv streams the matrix once.
            BLAS.sgemv(trans: false, m: c, n: d, alpha: logitScale, a: weights, lda: d,
                       x: unitInputs, beta: 0, y: scores)
        } else {
            BLAS.sgemm(transA: false, transB: true, m: rows, n: c, k: d,
                       alpha: logitScale, a: unitInputs, lda: d, b: weights, ldb: d,
                       beta: 0, c: scores, ldc: c)
        }
        lastChunkRows = rows
        let inverseScale = 1 / logitScale
        for r in 0..<rows {
            let row = UnsafeMutableBufferPointer(start: scores + r * c, count: c)
            VectorOps.topK(UnsafeBufferPointer(row), k: topK, into: &topScratch)
            let stats = VectorOps.softmax(inPlace: row)
            deliver(r) { result in
                result.entropy = stats.entropy
                result.maxCosine = stats.max * inverseScale
                result.predicted = topScratch[0].index
                result.top.removeAll(keepingCapacity: true)
                for entry in topScratch {
                    result.top.append((index: entry.index, probability: row[entry.index]))
                }
            }
        }
    }

    private static func allocate(_ count: Int) -> UnsafeMutablePointer<Float> {
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(1, count) * MemoryLayout<Float>.stride, alignment: 64)
        return raw.initializeMemory(as: Float.self, repeating: 0, count: count)
    }
}
