import Foundation
import TTADModel
import TTADPresets

/// Builds the predictor the configured mode needs, with its adaptation preset from the
/// `PresetRegistry`, turning every load failure into a `ConfigError` that names the key whose
/// file or value is at fault.
enum PredictorFactory {
    static func make(config c: DaemonConfig) throws -> any Predictor {
        // Live mode learns on a worker thread so predictions never wait; deterministic mode
        // learns inline so a replay gives the same predictions.
        let execution: AdaptationExecution = c.daemon.deterministic ? .inline : .worker
        switch c.daemon.mode {
        case .embedding:
            let k = c.classifier
            let classes: ClassEmbeddings
            do {
                classes = try ClassEmbeddings.load(path: k.classEmbeddings, tensorName: k.tensorName, classNamesPath: k.classNames)
            } catch {
                throw ConfigError(key: "classifier.class_embeddings", "\(error)")
            }
            let scale = Float(k.logitScale ?? 100), topK = min(k.topK, classes.names.count)
            var context = PresetContext(settings: c.adaptation, classes: classes, logitScale: scale, topK: topK,
                                        maxBatch: k.maxBatch, execution: execution)
            context.workerShare = workerShare(c)
            let preset = try makePreset(context)
            return EmbeddingPredictor(classes: classes, logitScale: scale, topK: topK, maxBatch: k.maxBatch, preset: preset,
                                      makePreset: { [context] in try makePreset(context) })
        case .image:
            let model: CLIPModel
            do { model = try CLIPModel(folder: c.model.folder, precision: c.model.precision) } catch {
                throw ConfigError(key: "model.folder", "\(error)")
            }
            let names = try classNames(c.model)
            let scale = c.classifier.logitScale.map(Float.init) ?? model.logitScale
            let topK = min(c.classifier.topK, names.count), maxBatch = c.classifier.maxBatch
            do {
                return try ImagePredictor(model: model, classNames: names, template: c.model.promptTemplate, logitScale: scale,
                                          topK: topK, maxBatch: maxBatch,
                                          decodeLimits: c.protocolLimits.imageDecodeLimits) { image, classes in
                    var context = PresetContext(settings: c.adaptation, classes: classes, logitScale: scale, topK: topK,
                                                maxBatch: maxBatch, execution: execution, image: image)
                    context.workerShare = workerShare(c)
                    return try makePreset(context)
                }
            } catch let e as ConfigError {
                throw e
            } catch {
                throw ConfigError(key: "model.class_names", "\(error)")
            }
        }
    }

    /// Each live state's worker gets an equal share of the budget, so all of them together never
    /// keep more than `worker_cpu_budget` of a core busy.
    private static func workerShare(_ c: DaemonConfig) -> Double {
        c.adaptationStates.scope == .global ? 1 : 1 / Double(c.adaptationStates.maxLiveStates)
    }

    private static func makePreset(_ context: PresetContext) throws -> any AdaptationPreset {
        do { return try PresetRegistry.make(context.settings.preset, context: context) } catch let e as AdaptationSetupError {
            throw ConfigError(key: "adaptation.preset", e.description)
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

extension ModelSection {
    /// The class names image mode scores, from `class_names` or `class_names_file` (for clients
    /// that make the same classes elsewhere, e.g. `ttad eval --as-embeddings`).
    public func resolvedClassNames() throws -> [String] { try PredictorFactory.classNames(self) }
}
