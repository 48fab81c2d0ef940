import TTADEngine
import TTADModel

extension ClassificationResult {
    /// Replaces the scores with those of `logits` (softmax in place: `logits` holds the
    /// probabilities afterwards): top classes, entropy and the predicted class. `maxCosine` is
    /// left as it was — the zero-shot cosine — so outlier scores mean the same in every preset.
    /// `top` is scratch of capacity k, reused across calls.
    public mutating func rescore(logits l: UnsafeMutableBufferPointer<Float>, topK: Int, top: inout [(index: Int, value: Float)]) {
        VectorOps.topK(UnsafeBufferPointer(l), k: topK, into: &top)
        let stats = VectorOps.softmax(inPlace: l)
        entropy = stats.entropy
        predicted = top[0].index
        self.top.removeAll(keepingCapacity: true)
        for t in top { self.top.append((index: t.index, probability: l[t.index])) }
    }
}
