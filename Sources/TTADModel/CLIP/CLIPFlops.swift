/// Multiply-add work of the CLIP forward, counted as 2 FLOPs per multiply-accumulate over the
/// matrix products only (patch embedding, q/k/v/out projections, QKᵀ and PV, the MLP, the final
/// projection) — the work BLAS does, which is what a roofline compares against. Element-wise
/// ops (LayerNorm, GELU, softmax) are a few percent and not counted. Causal attention is counted
/// at the full T×T the kernels compute.
public enum CLIPFlops {
    /// One transformer block on one sequence of `t` tokens.
    public static func block(_ c: CLIPTowerConfiguration, tokens t: Int) -> Double {
        let t = Double(t), d = Double(c.hiddenSize), i = Double(c.intermediateSize)
        let projections = 2 * t * d * (3 * d) + 2 * t * d * d
        let attention = 2 * (2 * t * t * d)
        let mlp = 2 * (2 * t * d * i)
        return projections + attention + mlp
    }

    /// One image through the vision tower and its projection.
    public static func image(_ c: CLIPConfiguration, visualPrompts: Int = 0) -> Double {
        let t = c.visionSequenceLength + visualPrompts
        let patchIn = Double(c.channels * c.patchSize * c.patchSize)
        let patch = 2 * Double(c.patchCount) * patchIn * Double(c.vision.hiddenSize)
        return patch + Double(c.vision.layers) * block(c.vision, tokens: t) + 2 * Double(c.vision.hiddenSize * c.projectionDim)
    }

    /// One text sequence of `tokens` tokens through the text tower and its projection.
    public static func text(_ c: CLIPConfiguration, tokens: Int) -> Double {
        Double(c.text.layers) * block(c.text, tokens: tokens) + 2 * Double(c.text.hiddenSize * c.projectionDim)
    }

    /// The (m, n, k) of every product one forward of `rows` packed token rows runs through a
    /// tower's blocks, for measuring sgemm alone at exactly those shapes.
    public static func blockProductShapes(_ c: CLIPTowerConfiguration, rows: Int) -> [(m: Int, n: Int, k: Int)] {
        let d = c.hiddenSize, i = c.intermediateSize
        return [(rows, 3 * d, d), (rows, d, d), (rows, i, d), (rows, d, i)]
    }
}
