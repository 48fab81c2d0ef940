import Foundation

/// CLIP's byte-level BPE tokenizer, matching Hugging Face `transformers`' slow `CLIPTokenizer`
/// with `ftfy` installed, on the files of an HF CLIP model folder. (OpenAI's own tokenizer also
/// runs `html.unescape` twice after ftfy; it differs only on HTML-entity edge cases such as "&amp"
/// without ";" or entities on a line containing "<".)
///
/// Encoding: the text is split on the literal special tokens `<|startoftext|>` / `<|endoftext|>`
/// (which encode as themselves); every other piece is cleaned (`CLIPTextCleanup`: ftfy.fix_text
/// minus mojibake repair, whitespace collapse, lowercase), pre-tokenised with CLIP's pattern
/// (`CLIPPreTokenizer`) and each word byte-level-BPE-encoded (`BPEMerger`). The result is wrapped
/// in `startToken` … `endToken`.
///
/// Known differences from HF + ftfy:
///  * ftfy's `fix_encoding` (mojibake repair, e.g. "CafÃ©" -> "Café") is not implemented; such
///    text is tokenised as written.
///  * Letter/number classes come from the Swift runtime's Unicode data and lowercase mappings
///    from it too, while Python uses the `regex` module's and its own (Unicode 14 for 3.11) data.
///    They disagree only on code points unassigned in Unicode 14 (assigned in later versions).
///    NFC uses Python's Unicode 14 tables (`UnicodeNFCTables`), so it matches exactly.
///
/// Thread safety: every method may be called from any thread at the same time. All state is
/// immutable except the per-word BPE cache, which is guarded by a mutex (see `BPEMerger`).
public final class CLIPTokenizer: @unchecked Sendable {
    /// Id of `<|startoftext|>` (49406 for OpenAI CLIP).
    public let startToken: Int32
    /// Id of `<|endoftext|>` (49407 for OpenAI CLIP); also the unknown and padding token.
    public let endToken: Int32
    /// Number of entries in vocab.json.
    public let vocabularySize: Int

    public static let startTokenString = "<|startoftext|>"
    public static let endTokenString = "<|endoftext|>"

    private let merger: BPEMerger

    public init(vocabPath: String, mergesPath: String) throws {
        let vocabulary = try BPEVocabulary(vocabPath: vocabPath, mergesPath: mergesPath)
        guard let start = vocabulary.ids[Self.startTokenString] else {
            throw CLIPTokenizerError.missingSpecialToken(file: vocabPath, token: Self.startTokenString)
        }
        guard let end = vocabulary.ids[Self.endTokenString] else {
            throw CLIPTokenizerError.missingSpecialToken(file: vocabPath, token: Self.endTokenString)
        }
        startToken = start
        endToken = end
        vocabularySize = vocabulary.ids.count
        merger = BPEMerger(vocabulary: vocabulary, unknownToken: end)
    }

    /// Reads `vocab.json` and `merges.txt` from a Hugging Face model folder.
    public convenience init(modelFolder: String) throws {
        let folder = URL(fileURLWithPath: modelFolder)
        try self.init(vocabPath: folder.appendingPathComponent("vocab.json").path,
                      mergesPath: folder.appendingPathComponent("merges.txt").path)
    }

    /// Token ids of `text`, starting with `startToken` and ending with `endToken`, untruncated.
    public func encode(_ text: String) -> [Int32] {
        var ids: [Int32] = [startToken]
        var bytes: [UInt8] = []
        let scalars = Array(text.unicodeScalars)
        for piece in Self.splitOnSpecialTokens(scalars) {
            switch piece {
            case .start: ids.append(startToken)
            case .end: ids.append(endToken)
            case .text(let range):
                let cleaned = CLIPTextCleanup.clean(scalars[range])
                for word in CLIPPreTokenizer.split(cleaned) {
                    switch word.kind {
                    case .startOfText: ids.append(startToken)
                    case .endOfText: ids.append(endToken)
                    case .word:
                        bytes.removeAll(keepingCapacity: true)
                        for s in cleaned[word.range] { bytes.append(contentsOf: UTF8.encode(s)!) }
                        merger.encode(word: bytes, into: &ids)
                    }
                }
            }
        }
        ids.append(endToken)
        return ids
    }

    /// `encode(text)` cut to at most `contextLength` ids, keeping `endToken` last (as HF with
    /// `truncation=True, max_length=contextLength`). No padding. A `contextLength` below 2 leaves
    /// room for no text: the first `max(contextLength, 0)` ids are returned.
    public func encode(_ text: String, contextLength: Int) -> [Int32] {
        let ids = encode(text)
        if ids.count <= contextLength { return ids }
        if contextLength < 2 { return Array(ids.prefix(max(contextLength, 0))) }
        return Array(ids.prefix(contextLength - 1)) + [endToken]
    }

    /// Text of `ids`: special tokens and ids outside the vocabulary are skipped, the bytes are
    /// decoded as UTF-8 (invalid sequences become U+FFFD), "</w>" becomes " " and the ends are
    /// trimmed — HF's `decode(ids, skip_special_tokens=True)` without tokenization-space cleanup.
    /// Decoding gives the cleaned, lowercased text, not the original.
    public func decode(_ ids: [Int32]) -> String {
        var bytes: [UInt8] = []
        for id in ids where id != startToken && id != endToken {
            guard let token = merger.vocabulary.tokens[id],
                  token != Self.startTokenString, token != Self.endTokenString else { continue }
            ByteToUnicode.appendBytes(of: token, to: &bytes)
        }
        let text = String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: BPEVocabulary.endOfWord, with: " ")
        let scalars = text.unicodeScalars
        guard let first = scalars.firstIndex(where: { !BPEVocabulary.isPythonSpace($0) }),
              let last = scalars.lastIndex(where: { !BPEVocabulary.isPythonSpace($0) }) else { return "" }
        return String(scalars[first...last])
    }

    /// Number of words currently in the BPE cache (for diagnostics).
    public var cachedWordCount: Int { merger.cachedWordCount }

    enum Piece: Equatable {
        case start, end
        case text(Range<Int>)
    }

    private static let startScalars = Array(startTokenString.unicodeScalars)
    private static let endScalars = Array(endTokenString.unicodeScalars)

    /// HF's added-token split: exact, case-sensitive occurrences of the two special tokens in the
    /// raw text (compared scalar by scalar), before any cleanup, so each piece between them is
    /// cleaned on its own.
    static func splitOnSpecialTokens(_ text: [Unicode.Scalar]) -> [Piece] {
        var pieces: [Piece] = []
        var textStart = 0
        var i = 0
        while i < text.count {
            guard text[i] == "<" else {
                i += 1
                continue
            }
            let special: (literal: [Unicode.Scalar], piece: Piece)?
            if text[i...].starts(with: startScalars) {
                special = (startScalars, .start)
            } else if text[i...].starts(with: endScalars) {
                special = (endScalars, .end)
            } else {
                special = nil
            }
            guard let special else {
                i += 1
                continue
            }
            if textStart < i { pieces.append(.text(textStart..<i)) }
            pieces.append(special.piece)
            i += special.literal.count
            textStart = i
        }
        if textStart < text.count { pieces.append(.text(textStart..<text.count)) }
        return pieces
    }
}
