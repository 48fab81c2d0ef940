import TTADEngine

/// The head of CLIPModel between the towers and the loss: each feature row is L2-normalised and
/// the logits are `scale · cos`, i.e. `logits[i, c] = scale · ⟨x̂ᵢ, t̂_c⟩` with
/// `scale = exp(logit_scale)` (frozen: it gets no gradient here).
///
/// Split into the normalisation and the scaled product so each side's backward can be run on
/// its own (TPT needs only the text side's, TPT with visual prompts both).
public enum CLIPLogits {
    /// `y = x / ‖x‖₂` per row (`rows × dim`; `y` may alias `x`), as `x / x.norm(dim=-1)` (no ε).
    /// `norms`, when given, receives each row's ‖x‖ (the backward needs it).
    public static func normalize(_ x: UnsafePointer<Float>, rows: Int, dim: Int,
                                 into y: UnsafeMutablePointer<Float>, norms: UnsafeMutablePointer<Float>?) {
        for r in 0..<rows {
            let xr = x + r * dim, yr = y + r * dim
            let norm = VectorOps.dot(UnsafeBufferPointer(start: xr, count: dim), UnsafeBufferPointer(start: xr, count: dim)).squareRoot()
            norms?[r] = norm
            if yr != UnsafeMutablePointer(mutating: xr) { yr.update(from: xr, count: dim) }
            VectorOps.scale(UnsafeMutableBufferPointer(start: yr, count: dim), by: 1 / norm)
        }
    }

    /// Backward of `normalize`: `dx = (dy − y·⟨y, dy⟩) / ‖x‖` per row, given the normalised `y`
    /// and the norms `normalize` wrote. Overwrites `dx`, which may alias `dy`.
    public static func normalizeBackward(dy: UnsafePointer<Float>, y: UnsafePointer<Float>, norms: UnsafePointer<Float>,
                                         rows: Int, dim: Int, dx: UnsafeMutablePointer<Float>) {
        for r in 0..<rows {
            let dyr = dy + r * dim, yr = y + r * dim, dxr = dx + r * dim
            let dot = VectorOps.dot(UnsafeBufferPointer(start: yr, count: dim), UnsafeBufferPointer(start: dyr, count: dim))
            let inv = 1 / norms[r]
            for j in 0..<dim { dxr[j] = (dyr[j] - yr[j] * dot) * inv }
        }
    }

    /// `logits = scale · images · textsᵀ` for normalised `images` (`batch × dim`) and `texts`
    /// (`classes × dim`), into `logits` (`batch × classes`).
    public static func forward(images: UnsafePointer<Float>, batch: Int, texts: UnsafePointer<Float>, classes: Int,
                               dim: Int, scale: Float, logits: UnsafeMutablePointer<Float>) {
        BLAS.sgemm(transA: false, transB: true, m: batch, n: classes, k: dim, alpha: scale, a: images, lda: dim,
                   b: texts, ldb: dim, beta: 0, c: logits, ldc: classes)
    }

    /// Backward of `forward`: `dImages = scale · dLogits · texts` and `dTexts = scale · dLogitsᵀ ·
    /// images` (gradients with respect to the *normalised* rows), each written when given.
    public static func backward(dLogits: UnsafePointer<Float>, images: UnsafePointer<Float>, batch: Int,
                                texts: UnsafePointer<Float>, classes: Int, dim: Int, scale: Float,
                                dImages: UnsafeMutablePointer<Float>?, dTexts: UnsafeMutablePointer<Float>?) {
        if let dImages {
            BLAS.sgemm(transA: false, transB: false, m: batch, n: dim, k: classes, alpha: scale, a: dLogits, lda: classes,
                       b: texts, ldb: dim, beta: 0, c: dImages, ldc: dim)
        }
        if let dTexts {
            BLAS.sgemm(transA: true, transB: false, m: classes, n: dim, k: batch, alpha: scale, a: dLogits, lda: classes,
                       b: images, ldb: dim, beta: 0, c: dTexts, ldc: dim)
        }
    }
}
