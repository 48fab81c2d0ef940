import Synchronization

/// Byte-level BPE of single pre-tokenised words, with a bounded per-word cache.
///
/// A word's UTF-8 bytes start as byte symbols, the last one carrying "</w>". Then, as in
/// OpenAI's and HF's `bpe()`, the adjacent pair with the lowest merge rank is merged at every
/// non-overlapping occurrence, left to right, until no adjacent pair has a rank.
///
/// Thread safety: the cache sits behind a `Mutex`, held only to look up or store; the merge
/// itself runs unlocked, so concurrent callers never block each other for long. When the cache
/// reaches `cacheLimit` words it is emptied (prompts reuse a small set of words).
final class BPEMerger: Sendable {
    let vocabulary: BPEVocabulary
    let unknownToken: Int32
    let cacheLimit: Int
    /// Longer words are not cached.
    static let maxCachedWordBytes = 64
    private let cache = Mutex<[[UInt8]: [Int32]]>([:])

    init(vocabulary: BPEVocabulary, unknownToken: Int32, cacheLimit: Int = 20_000) {
        self.vocabulary = vocabulary
        self.unknownToken = unknownToken
        self.cacheLimit = cacheLimit
    }

    var cachedWordCount: Int { cache.withLock { $0.count } }

    /// Appends the token ids of one word (its UTF-8 bytes) to `out`.
    func encode(word bytes: [UInt8], into out: inout [Int32]) {
        guard !bytes.isEmpty else { return }
        let cacheable = bytes.count <= Self.maxCachedWordBytes
        if cacheable, let hit = cache.withLock({ $0[bytes] }) {
            out.append(contentsOf: hit)
            return
        }
        let ids = merge(bytes).map { $0 >= 0 ? $0 : unknownToken }
        if cacheable {
            cache.withLock { cache in
                if cache.count >= cacheLimit { cache.removeAll(keepingCapacity: true) }
                cache[bytes] = ids
            }
        }
        out.append(contentsOf: ids)
    }

    /// The BPE symbols of one word.
    func merge(_ bytes: [UInt8]) -> [Int32] {
        var word = bytes.dropLast().map { vocabulary.byteSymbols[Int($0)] }
        word.append(vocabulary.finalByteSymbols[Int(bytes[bytes.count - 1])])
        let merges = vocabulary.merges
        while word.count > 1 {
            var best: BPEVocabulary.Merge?
            var bestLeft: Int32 = 0
            var bestRight: Int32 = 0
            for i in 0..<(word.count - 1) {
                if let m = merges[BPEVocabulary.pairKey(word[i], word[i + 1])], m.rank < (best?.rank ?? .max) {
                    best = m
                    bestLeft = word[i]
                    bestRight = word[i + 1]
                }
            }
            guard let merge = best else { break }
            var merged: [Int32] = []
            merged.reserveCapacity(word.count)
            var i = 0
            while i < word.count {
                if i < word.count - 1, word[i] == bestLeft, word[i + 1] == bestRight {
                    merged.append(merge.result)
                    i += 2
                } else {
                    merged.append(word[i])
                    i += 1
                }
            }
            word = merged
        }
        return word
    }
}
