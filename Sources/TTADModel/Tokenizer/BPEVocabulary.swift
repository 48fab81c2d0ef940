import Foundation

/// A byte-level BPE model read from a Hugging Face model folder's `vocab.json` and `merges.txt`.
///
/// BPE works on *symbols*: a symbol is the id of a vocabulary string, or a negative id for a string
/// the vocabulary lacks (a merge result or byte symbol missing from a hand-made vocabulary), which
/// encodes as the unknown token, as HF's `encoder.get(token, unk)` does.
struct BPEVocabulary: Sendable {
    struct Merge: Sendable {
        var rank: Int32
        var result: Int32
    }

    /// Token string -> id.
    let ids: [String: Int32]
    /// Id -> token string (for decoding).
    let tokens: [Int32: String]
    /// (left symbol, right symbol) packed by `pairKey` -> rank and merged symbol.
    let merges: [UInt64: Merge]
    /// Symbol of byte b as a non-final / final ("</w>") piece of a word.
    let byteSymbols: [Int32]
    let finalByteSymbols: [Int32]

    static let endOfWord = "</w>"

    @inline(__always)
    static func pairKey(_ a: Int32, _ b: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: a)) << 32 | UInt64(UInt32(bitPattern: b))
    }

    init(vocabPath: String, mergesPath: String) throws {
        let vocab = try Self.readVocab(vocabPath)
        ids = vocab
        var reverse: [Int32: String] = [:]
        reverse.reserveCapacity(vocab.count)
        for (token, id) in vocab { reverse[id] = token }
        tokens = reverse

        var synthetic: [String: Int32] = [:]
        func symbol(_ s: String) -> Int32 {
            if let id = vocab[s] { return id }
            if let id = synthetic[s] { return id }
            let id = -Int32(synthetic.count) - 1
            synthetic[s] = id
            return id
        }
        var table: [UInt64: Merge] = [:]
        var rank: Int32 = 0
        for (a, b) in try Self.readMerges(mergesPath) {
            // Later duplicates replace earlier ones, as in HF's dict(zip(merges, range(...))).
            table[Self.pairKey(symbol(a), symbol(b))] = Merge(rank: rank, result: symbol(a + b))
            rank += 1
        }
        merges = table
        byteSymbols = (0...255).map { symbol(ByteToUnicode.symbol(forByte: UInt8($0))) }
        finalByteSymbols = (0...255).map { symbol(ByteToUnicode.symbol(forByte: UInt8($0)) + Self.endOfWord) }
    }

    private static func readFile(_ path: String) throws -> [UInt8] {
        do {
            return [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            let reason = FileManager.default.fileExists(atPath: path) ? "\(error.localizedDescription)" : "no such file"
            throw CLIPTokenizerError.unreadableFile(file: path, reason: reason)
        }
    }

    /// vocab.json: one JSON object mapping token strings to non-negative integer ids.
    static func readVocab(_ path: String) throws -> [String: Int32] {
        let vocab: [String: Int32]
        do {
            vocab = try VocabJSONParser.parse(try readFile(path))
        } catch let failure as VocabJSONParser.Failure {
            throw CLIPTokenizerError.malformedVocab(file: path, reason: failure.message)
        }
        if vocab.isEmpty {
            throw CLIPTokenizerError.malformedVocab(file: path, reason: "empty vocabulary")
        }
        if let (token, id) = vocab.first(where: { $0.value < 0 }) {
            throw CLIPTokenizerError.malformedVocab(file: path, reason: "negative id \(id) for token \(token.debugDescription)")
        }
        return vocab
    }

    /// merges.txt: an optional first line starting with "#" ("#version: 0.2"), then one merge per
    /// line, two symbols separated by whitespace (Python's `str.split()`), highest priority first.
    /// Blank lines are ignored.
    static func readMerges(_ path: String) throws -> [(String, String)] {
        let bytes = try readFile(path)
        var merges: [(String, String)] = []
        merges.reserveCapacity(bytes.count / 10)
        var lineNumber = 0
        var start = 0
        while start < bytes.count {
            var end = start
            while end < bytes.count, bytes[end] != 0x0A { end += 1 }
            lineNumber += 1
            defer { start = end + 1 }
            let line = bytes[start..<end]
            if lineNumber == 1, line.first == UInt8(ascii: "#") { continue }
            guard let text = String(validating: line, as: UTF8.self) else {
                throw CLIPTokenizerError.malformedMerges(file: path, line: lineNumber, reason: "not valid UTF-8")
            }
            let fields = text.unicodeScalars.split(whereSeparator: isPythonSpace)
            if fields.isEmpty { continue }
            guard fields.count == 2 else {
                let shown = text.count > 80 ? String(text.prefix(80)) + "…" : text
                throw CLIPTokenizerError.malformedMerges(
                    file: path, line: lineNumber,
                    reason: "expected two space-separated symbols, found \(fields.count): \(shown.debugDescription)")
            }
            merges.append((String(Substring(fields[0])), String(Substring(fields[1]))))
        }
        if merges.isEmpty {
            throw CLIPTokenizerError.malformedMerges(file: path, line: max(lineNumber, 1), reason: "no merges")
        }
        return merges
    }

    /// Python's `str.isspace()`: White_Space plus U+001C...U+001F.
    static func isPythonSpace(_ s: Unicode.Scalar) -> Bool {
        s.properties.isWhitespace || (0x1C...0x1F).contains(s.value)
    }
}
