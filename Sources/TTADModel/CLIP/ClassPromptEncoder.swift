import TTADEngine

/// Turns class names into the text side of zero-shot classification: each name is put into a
/// prompt template ("a photo of a {}."), tokenised, encoded by the text tower and normalised.
///
/// The result is cached per prompt version: adaptation changes the learned context (the
/// vectors replacing the template's leading tokens) and bumps the version; predictions between
/// two updates reuse the cached matrix instead of re-running the text tower per sample.
public final class ClassPromptEncoder {
    public let classNames: [String]
    public let template: String
    /// Token ids of each class prompt, start and end tokens included.
    public let prompts: [[Int32]]
    private let encoder: CLIPTextEncoder
    private var cached: (version: Int, classes: ClassEmbeddings)?

    public static let placeholder = "{}"

    public init(model: CLIPModel, classNames: [String], template: String) throws(CLIPModelError) {
        guard !classNames.isEmpty else { throw .badInput(detail: "no class names") }
        guard template.components(separatedBy: Self.placeholder).count == 2 else {
            throw .badInput(detail: "prompt template \"\(template)\" must contain \(Self.placeholder) exactly once")
        }
        self.classNames = classNames
        self.template = template
        prompts = classNames.map { model.tokenize(template.replacingOccurrences(of: Self.placeholder, with: $0)) }
        encoder = model.makeTextEncoder()
    }

    /// Unit-length class embeddings for prompt `version`; `context` (`contextCount × D` floats)
    /// replaces the template's first `contextCount` tokens. Recomputed only when the version
    /// differs from the cached one.
    public func classEmbeddings(version: Int = 0, context: [Float] = [], contextCount: Int = 0) throws -> ClassEmbeddings {
        if let cached, cached.version == version { return cached.classes }
        let features = try encoder.encode(sequences: prompts, context: context, contextCount: contextCount)
        let p = encoder.config.projectionDim
        let classes = try ClassEmbeddings(names: classNames, matrix: Tensor(shape: [classNames.count, p], storage: features),
                                          source: "text tower, prompt version \(version)")
        cached = (version, classes)
        return classes
    }

    public var cachedVersion: Int? { cached?.version }
}
