import Foundation
import TTADModel

/// Builds the predictor the configured mode needs, turning every load failure into a
/// `ConfigError` that names the key whose file or value is at fault.
enum PredictorFactory {
    static func make(config c: DaemonConfig) throws -> any Predictor {
        switch c.daemon.mode {
        case .embedding:
            let k = c.classifier
            let classes: ClassEmbeddings
            do {
                classes = try ClassEmbeddings.load(path: k.classEmbeddings, tensorName: k.tensorName, classNamesPath: k.classNames)
            } catch {
                throw ConfigError(key: "classifier.class_embeddings", "\(error)")
            }
            return EmbeddingPredictor(classes: classes, logitScale: Float(k.logitScale ?? 100),
                                      topK: min(k.topK, classes.names.count), maxBatch: k.maxBatch)
        case .image:
            let model: CLIPModel
            do { model = try CLIPModel(folder: c.model.folder) } catch {
                throw ConfigError(key: "model.folder", "\(error)")
            }
            let names = try classNames(c.model)
            let scale = c.classifier.logitScale.map(Float.init) ?? model.logitScale
            do {
                return try ImagePredictor(model: model, classNames: names, template: c.model.promptTemplate,
                                          logitScale: scale, topK: min(c.classifier.topK, names.count),
                                          maxBatch: c.classifier.maxBatch,
                                          decodeLimits: ImageDecodeLimits(maxSide: c.protocolLimits.maxImageSide),
                                          adaptation: c.adaptation, live: !c.daemon.deterministic)
            } catch let e as AdaptationSetupError {
                throw ConfigError(key: "adaptation.preset", e.description)
            } catch {
                throw ConfigError(key: "model.class_names", "\(error)")
            }
        }
    }

    static func classNames(_ m: ModelSection) throws -> [String] {
        guard let file = m.classNamesFile else { return m.classNames }
        let text: String
        do { text = try String(contentsOfFile: file, encoding: .utf8) } catch {
            throw ConfigError(key: "model.class_names_file", "cannot read \(file): \(error.localizedDescription)")
        }
        let names = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !names.isEmpty else { throw ConfigError(key: "model.class_names_file", "\(file) holds no class names") }
        var seen = Set<String>()
        for n in names where !seen.insert(n).inserted {
            throw ConfigError(key: "model.class_names_file", "duplicate class name \"\(n)\" in \(file)")
        }
        return names
    }
}
