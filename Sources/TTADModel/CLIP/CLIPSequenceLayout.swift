/// How the packed rows of one tower batch split into attention sequences, for `CLIPEncoderTape`.
///
/// Rows `0 ..< prefixLength` are an optional shared causal prefix (see `CLIPPrefixAttention`);
/// sequence `s` occupies rows `offsets[s] ..< offsets[s+1]` after it. Without a prefix every
/// sequence is self-contained (vision: one image each; text: one whole prompt each). Built once per
/// batch shape and reused, so the per-step code reads it without allocating.
struct CLIPSequenceLayout {
    let prefixLength: Int
    /// `offsets[0] == prefixLength`, `offsets.last == rows`.
    let offsets: [Int]
    let causal: Bool
    /// Start of each sequence's attention probabilities inside one layer's block; the prefix's
    /// `heads × P × P` come first.
    let probOffsets: [Int]
    /// Floats of attention probabilities per layer.
    let probsPerLayer: Int
    /// Floats the attention backward needs as scratch (the largest per-head score block).
    let attentionScratch: Int

    var rows: Int { offsets[offsets.count - 1] }
    var sequenceCount: Int { offsets.count - 1 }

    init(prefixLength: Int, lengths: [Int], causal: Bool, heads: Int) {
        precondition(prefixLength == 0 || causal, "CLIPSequenceLayout: a shared prefix needs the causal mask")
        precondition(lengths.allSatisfy { $0 > 0 }, "CLIPSequenceLayout: empty sequence")
        self.prefixLength = prefixLength
        self.causal = causal
        var offsets = [prefixLength], probOffsets = [Int]()
        var probs = heads * prefixLength * prefixLength
        var scratch = prefixLength * prefixLength
        for n in lengths {
            offsets.append(offsets[offsets.count - 1] + n)
            probOffsets.append(probs)
            let block = n * (prefixLength + n)    // S × (P + S); T × T without a prefix
            probs += heads * block
            scratch = max(scratch, block)
        }
        self.offsets = offsets
        self.probOffsets = probOffsets
        probsPerLayer = probs
        attentionScratch = scratch
    }

    /// `count` independent sequences of `length` rows each (the vision tower's batches).
    init(uniform count: Int, length: Int, causal: Bool, heads: Int) {
        self.init(prefixLength: 0, lengths: [Int](repeating: length, count: count), causal: causal, heads: heads)
    }
}
