/// Why a CLIP tokenizer could not be built from its model files. Every case names the file.
public enum CLIPTokenizerError: Error, Equatable, CustomStringConvertible, Sendable {
    /// The file is missing or could not be read.
    case unreadableFile(file: String, reason: String)
    /// vocab.json is not a JSON object of token string -> non-negative integer id.
    case malformedVocab(file: String, reason: String)
    /// A line of merges.txt is not two space-separated symbols (line numbers are 1-based).
    case malformedMerges(file: String, line: Int, reason: String)
    /// vocab.json lacks `<|startoftext|>` or `<|endoftext|>`.
    case missingSpecialToken(file: String, token: String)

    /// The file the error is about.
    public var fileName: String {
        switch self {
        case .unreadableFile(let file, _), .malformedVocab(let file, _), .malformedMerges(let file, _, _),
             .missingSpecialToken(let file, _):
            return file
        }
    }

    public var description: String {
        switch self {
        case .unreadableFile(let file, let reason):
            return "cannot read tokenizer file \(file): \(reason)"
        case .malformedVocab(let file, let reason):
            return "malformed vocabulary \(file): \(reason)"
        case .malformedMerges(let file, let line, let reason):
            return "malformed merges \(file) line \(line): \(reason)"
        case .missingSpecialToken(let file, let token):
            return "vocabulary \(file) has no \(token) token"
        }
    }
}
