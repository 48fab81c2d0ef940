import TTADModel

/// Where a preset's learning runs: on the processing thread after each batch (deterministic
/// mode: replays are bit-identical), or on a worker thread of its own within a CPU budget (live
/// mode: a prediction never waits for a step).
public enum AdaptationExecution: String, Sendable, CaseIterable {
    case inline
    case worker
}

/// Everything a preset is built from.
public struct PresetContext {
    public var settings: AdaptationSection
    /// The classes the classifier scores, and its logit scale and top-k.
    public var classes: ClassEmbeddings
    public var logitScale: Float
    public var topK: Int
    public var maxBatch: Int
    public var execution: AdaptationExecution
    /// Image mode's model; nil in embedding mode.
    public var image: ImageModel?
    /// Share of `settings.workerCPUBudget` this preset's worker may use: 1 with one state, 1/n
    /// when n states may be live, so all workers together stay within the configured budget.
    public var workerShare: Double = 1

    /// The CPU budget of this preset's worker (share of one core).
    public var workerCPUBudget: Double { settings.workerCPUBudget * workerShare }

    /// The in-process CLIP model, its class prompts and the ingest's decode limits.
    public struct ImageModel {
        public var model: CLIPModel
        public var prompts: ClassPromptEncoder
        public var decodeLimits: ImageDecodeLimits

        public init(model: CLIPModel, prompts: ClassPromptEncoder, decodeLimits: ImageDecodeLimits) {
            self.model = model
            self.prompts = prompts
            self.decodeLimits = decodeLimits
        }
    }

    public init(settings: AdaptationSection, classes: ClassEmbeddings, logitScale: Float, topK: Int, maxBatch: Int,
                execution: AdaptationExecution, image: ImageModel? = nil) {
        self.settings = settings
        self.classes = classes
        self.logitScale = logitScale
        self.topK = topK
        self.maxBatch = maxBatch
        self.execution = execution
        self.image = image
    }

    /// The image model, or the setup error an image-only preset reports in embedding mode.
    public func requireImage(_ preset: String) throws -> ImageModel {
        guard let image else {
            throw AdaptationSetupError("\"\(preset)\" adapts the image tower and needs daemon.mode = \"image\"")
        }
        return image
    }
}
