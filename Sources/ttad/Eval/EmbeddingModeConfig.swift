import Foundation
import TTADDaemon

/// `ttad eval --config <image-mode config> --as-embeddings MODEL_DIR`: the daemon runs in
/// embedding mode against the class embeddings the image mode would score against (MODEL_DIR's
/// text tower on the config's class names and prompt template, at its logit scale), so the two
/// modes see the same features and the same classifier. An embedding-mode config is used as is:
/// its class embeddings are the user's to match with the model.
enum EmbeddingModeConfig {
    static let classFileName = "as-embeddings-classes.safetensors"

    static func convert(_ config: inout DaemonConfig, embedder: ScenarioEmbedder) throws {
        guard config.daemon.mode == .image else { return }
        let names = try config.model.resolvedClassNames()
        let dir = config.daemon.stateDirectory
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o750])
        let path = dir + "/" + classFileName
        try embedder.writeClassEmbeddings(classNames: names, template: config.model.promptTemplate, to: path)
        config.daemon.mode = .embedding
        config.classifier.classEmbeddings = path
        config.classifier.classNames = nil
        config.classifier.tensorName = nil
        config.classifier.logitScale = config.classifier.logitScale ?? Double(embedder.model.logitScale)
        try ConfigLoader.validate(config)
    }
}
