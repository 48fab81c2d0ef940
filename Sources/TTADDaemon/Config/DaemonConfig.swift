import Foundation

/// The daemon's whole configuration, typed, with the defaults documented in docs/configuration.md.
///
/// One place holds every knob so that `ttad check-config`, the daemon and the docs agree. Each
/// section mirrors a TOML table of the same name; `ConfigLoader` fills it and names the key of
/// any error.
public struct DaemonConfig: Sendable, Equatable {
    public var daemon = DaemonSection()
    public var ingest = IngestSection()
    public var publish = PublishSection()
    public var protocolLimits = ProtocolSection()
    public var classifier = ClassifierSection()
    public var model = ModelSection()
    public var metrics = MetricsSection()
    public var state = StateSection()
    public var curve = CurveSection()
    public var drift = DriftSection()
    public var adaptation = AdaptationSection()

    public init() {}
}

public enum PredictionMode: String, Sendable, CaseIterable {
    /// Samples carry an f32 embedding computed elsewhere; a frozen classifier scores it against
    /// class embeddings from a file.
    case embedding
    /// Samples carry images (jpeg, png, raw-u8-hwc); the in-process CLIP model embeds them and
    /// scores them against its text tower's embeddings of the configured class prompts.
    case image
}

public struct DaemonSection: Sendable, Equatable {
    public var mode: PredictionMode = .embedding
    /// Where SQLite state lives. systemd's StateDirectory= sets $STATE_DIRECTORY; that wins over
    /// this default when the key is absent from the file.
    public var stateDirectory: String = ProcessInfo.processInfo.environment["STATE_DIRECTORY"] ?? "/var/lib/ttad"
    public var logLevel: String = "info"
    /// Bound on the drain + final checkpoint after SIGTERM; keep below systemd's TimeoutStopSec.
    public var shutdownTimeoutSeconds: Double = 20
    /// Threads OpenBLAS may use for the model. 1 keeps latency predictable beside the I/O thread.
    public var blasThreads: Int = 1
    /// Evaluation and tests: every sample is processed alone and in arrival order (predictions do
    /// not depend on how samples happen to be batched), ingest must be lossless (PULL, block) and
    /// outputs wait for room instead of being dropped. A scenario replayed twice gives identical
    /// predictions. Costs throughput; off in production.
    public var deterministic: Bool = false
    public init() {}
}

public enum IngestPattern: String, Sendable, CaseIterable {
    /// Every sample must be processed: producers PUSH, the daemon PULLs; back-pressure, no loss.
    case pull
    /// Live streams: producers PUB, the daemon SUBscribes to topic prefixes; late samples drop.
    case sub
}

public enum OverflowPolicy: String, Sendable, CaseIterable {
    /// Stop reading from the sockets until the queue has room: ZeroMQ's queues fill, then PUSH
    /// producers block. Nothing is lost inside the daemon.
    case block
    /// Evict the oldest queued sample to make room: freshest data wins (cameras).
    case dropOldest = "drop_oldest"
    /// Refuse the incoming sample: what is queued is processed in order.
    case dropNewest = "drop_newest"
}

public struct IngestSection: Sendable, Equatable {
    public var pattern: IngestPattern = .pull
    public var endpoints: [String] = ["tcp://127.0.0.1:7755"]
    /// true: the daemon binds the endpoints; false: it connects to producers that bind.
    public var bind: Bool = true
    /// SUB topic prefixes (ZeroMQ prefix match on frame 0, the stream id). "" = everything.
    public var topics: [String] = [""]
    public var queueCapacity: Int = 1024
    /// nil = chosen by pattern: block for pull, drop_oldest for sub.
    public var overflow: OverflowPolicy? = nil
    /// Bytes the ZeroMQ receive queues may hold; the high-water mark is derived from it and
    /// `typicalMessageBytes` because HWMs count messages, not bytes.
    public var memoryBudgetBytes: Int = 64 << 20
    public var typicalMessageBytes: Int = 4096
    /// Hard ceiling enforced by libzmq (ZMQ_MAXMSGSIZE): a larger message makes it drop the
    /// peer's connection, so nothing can be answered. Keep it above protocol.max_payload_bytes:
    /// messages between the two get a `payload_too_large` error and a counter instead.
    public var maxMessageBytes: Int = 64 << 20
    public var reconnectIntervalMs: Int = 100
    public var reconnectIntervalMaxMs: Int = 5000
    public var heartbeatIntervalMs: Int = 10_000
    public var heartbeatTimeoutMs: Int = 30_000

    public var effectiveOverflow: OverflowPolicy {
        overflow ?? (pattern == .pull ? .block : .dropOldest)
    }
    public init() {}
}

public struct PublishSection: Sendable, Equatable {
    public var endpoints: [String] = ["tcp://127.0.0.1:7756"]
    public var bind: Bool = true
    /// Per-subscriber queue in messages. PUB drops for a subscriber whose queue is full.
    public var sendHighWaterMark: Int = 100_000
    /// Outputs waiting for the I/O thread; beyond this they are dropped and counted.
    public var queueCapacity: Int = 65_536
    public init() {}
}

public struct ProtocolSection: Sendable, Equatable {
    public var maxHeaderBytes: Int = 4096
    public var maxPayloadBytes: Int = 16 << 20
    public var maxImageSide: Int = 8192
    public var maxEmbeddingDimension: Int = 65_536
    public init() {}
}

public struct ClassifierSection: Sendable, Equatable {
    /// .safetensors (class names in metadata or `classNames`) or .npy (+ `classNames`).
    public var classEmbeddings: String = ""
    public var classNames: String? = nil
    public var tensorName: String? = nil
    /// Cosine similarities are multiplied by this before softmax. nil: the model's learned
    /// exp(logit_scale) in image mode, 100 (what OpenAI's CLIP learned) in embedding mode.
    public var logitScale: Double? = nil
    public var topK: Int = 5
    /// Samples classified together in one matrix product; larger batches raise throughput.
    public var maxBatch: Int = 256
    /// Outlier when 1 − max cosine exceeds this; nil disables the flag (score still published)
    /// unless `outlierCalibrationSamples` calibrates a threshold from the stream.
    public var outlierThreshold: Double? = nil
    /// > 0: set the threshold at the `outlierQuantile` of the first this-many scores (nothing is
    /// flagged until then). Assumes those samples are mostly in-distribution.
    public var outlierCalibrationSamples: Int = 0
    public var outlierQuantile: Double = 0.95
    public init() {}
}

/// The CLIP model of image mode.
public struct ModelSection: Sendable, Equatable {
    /// A Hugging Face CLIP folder: config.json, model.safetensors, vocab.json, merges.txt
    /// (and optionally preprocessor_config.json).
    public var folder: String = ""
    /// Class names, in output order. Either this or `classNamesFile`.
    public var classNames: [String] = []
    /// A UTF-8 file with one class name per line (blank lines ignored).
    public var classNamesFile: String? = nil
    /// Each class name replaces `{}` to make its text prompt.
    public var promptTemplate: String = "a photo of a {}."
    public init() {}
}

public struct MetricsSection: Sendable, Equatable {
    public var enabled: Bool = true
    public var host: String = "127.0.0.1"
    public var port: Int = 7757
    public init() {}
}

public struct StateSection: Sendable, Equatable {
    public var checkpointEverySamples: Int = 100_000
    public var checkpointEverySeconds: Double = 60
    public var keepCheckpoints: Int = 3
    public init() {}
}

public struct CurveSection: Sendable, Equatable {
    public var enabled: Bool = false
    /// czmq-format certificate holding the server's secret key (mode 0600).
    public var serverSecretKeyFile: String = ""
    /// Directory of client public certificates (or files of Z85 keys, one per line).
    public var allowedClientsDirectory: String = ""
    public init() {}
}

/// The drift monitor: windowed statistics of what the daemon predicts, with two change detectors,
/// exported as metrics and published on `drift`.
public struct DriftSection: Sendable, Equatable {
    public var enabled: Bool = true
    /// Samples in the sliding window (and in the reference window the divergence compares with).
    public var window: Int = 512
    /// Publish a `drift` message every this many samples.
    public var publishEverySamples: Int = 512
    /// Page-Hinkley on entropy: magnitude of change tolerated (δ) and alarm threshold (λ).
    public var pageHinkleyDelta: Double = 0.005
    public var pageHinkleyThreshold: Double = 50
    /// ADWIN on confidence: confidence parameter δ (smaller = fewer, surer alarms).
    public var adwinDelta: Double = 0.002
    /// Track the mean embedding (image features, or the input embeddings) for `embedding_shift`.
    public var embeddingShift: Bool = true
    public init() {}
}

/// What adapts online (docs/adaptation.md). `frozen`: nothing, the source model predicts.
/// `ttad`: the image tower's LayerNorm affines, trained on a class-balanced bank of confident
/// samples with STAMP's self-weighted entropy, anchored to the source, reset by the collapse guard.
public enum AdaptationPreset: String, Sendable, CaseIterable {
    case frozen
    case ttad
    /// TDA's training-free cache of confident samples (a peer to compare against).
    case tda
    /// TPT: per sample, one step of the text context on 64 views, then reset (episodic).
    case tpt
    /// DynaPrompt: TPT's step on a buffer of prompts selected per sample, kept across samples.
    case dynaprompt
    /// RoTTA: EMA teacher predicts; the student's affines learn from the teacher on a CSTU bank.
    case rotta
    /// STAMP: SAM-SGD on most affines, self-weighted entropy over a class-balanced replay memory.
    case stamp
}

public struct AdaptationSection: Sendable, Equatable {
    public var preset: AdaptationPreset = .frozen
    /// AdamW learning rate of the LayerNorm affines.
    public var learningRate: Double = 1e-2
    /// λ of the pull-back term (λ/2)·‖θ − θ₀‖² toward the source affines.
    public var anchorWeight: Double = 0.3
    /// One adaptation step (replaying the whole bank) after this many samples.
    public var updateEverySamples: Int = 16
    /// No step until the bank holds this many samples.
    public var minBankItems: Int = 16
    /// Live mode: share of one core the adaptation worker may keep busy (it sleeps to stay under).
    public var workerCPUBudget: Double = 0.5
    public var bank = AdaptationBankSection()
    public var guardSettings = AdaptationGuardSection()
    public var labelGate = AdaptationLabelGateSection()
    /// The other presets' settings: each is read only by its preset.
    public var promptTuning = PromptTuningSection()
    public var rotta = RottaSection()
    public var stamp = StampSection()
    /// Seed of every random choice adaptation makes (views, augmentations, memory eviction).
    public var seed: UInt64 = 0
    public init() {}
}

/// `[adaptation.tpt]`: the `tpt` and `dynaprompt` presets (TPT's and DynaPrompt's defaults).
public struct PromptTuningSection: Sendable, Equatable {
    /// Views per sample: the original plus random resized crops with flips.
    public var views: Int = 64
    /// Share of the views kept by confidence (lowest entropy) for the loss.
    public var keepFraction: Double = 0.1
    /// AdamW learning rate of the context (weight decay 0.01, fresh moments every sample).
    public var learningRate: Double = 5e-3
    /// DynaPrompt's buffer size M.
    public var slots: Int = 10
    public init() {}
}

/// `[adaptation.rotta]`: RoTTA's published defaults.
public struct RottaSection: Sendable, Equatable {
    /// Adam learning rate of the student's affines.
    public var learningRate: Double = 1e-3
    /// Teacher EMA rate ν.
    public var teacherRate: Double = 1e-3
    /// One update after this many samples.
    public var updateEverySamples: Int = 64
    /// Bank capacity N (CSTU).
    public var capacity: Int = 64
    /// λ_t and λ_u of the CSTU score.
    public var timelinessWeight: Double = 1
    public var uncertaintyWeight: Double = 1
    public init() {}
}

/// `[adaptation.stamp]`: STAMP's defaults for the CIFAR-10-C 8/2 split, this model's setting.
public struct StampSection: Sendable, Equatable {
    /// SGD learning rate (cosine-annealed over `cosine_period` updates, periodic like PyTorch's).
    public var learningRate: Double = 0.1
    /// Admission margin α: entropy of the averaged views below α·ln C.
    public var alpha: Double = 0.25
    /// SAM's radius ρ.
    public var rho: Double = 0.05
    /// Views averaged per prediction: the original and views − 1 augmentations.
    public var views: Int = 16
    /// One update (on the whole memory) after this many samples: STAMP's batch size.
    public var updateEverySamples: Int = 64
    public var capacity: Int = 64
    /// T_max of the cosine schedule, in updates.
    public var cosinePeriod: Int = 150
    public init() {}
}

public struct AdaptationBankSection: Sendable, Equatable {
    /// Samples the bank holds (RoTTA's and STAMP's 64); also STAMP's weight total T.
    public var capacity: Int = 64
    /// Bound on the stored encoded images, in bytes.
    public var maxBytes: Int = 16 << 20
    /// Admission: entropy below this fraction of ln C.
    public var entropyFraction: Double = 0.4
    /// Admission: the frozen model must predict the same class.
    public var requireFrozenAgreement: Bool = true
    public init() {}
}

/// Pauses adaptation while the frozen predictions come in runs (label-correlated stream).
public struct AdaptationLabelGateSection: Sendable, Equatable {
    /// Samples of frozen predictions the test looks at; must exceed the runs (0 = off).
    public var window: Int = 2048
    /// Excess of equal neighbours over Σ p̂² above which adaptation pauses.
    public var threshold: Double = 0.15
    /// Excess below which a paused adaptation resumes (≤ threshold).
    public var reopenBelow: Double = 0.10
    public init() {}
}

public struct AdaptationGuardSection: Sendable, Equatable {
    /// e₀ of SAR's entropy-EMA test in nats; nil = 0.2·ln C / ln 1000.
    public var entropyFloor: Double? = nil
    public var window: Int = 256
    public var collapsedClassCount: Int = 2
    public var topShareMargin: Double = 0.1
    public var disagreementBound: Double = 0.5
    public var cooldownSamples: Int = 500
    /// RDumb-style reset every N samples since the last reset (0 = off).
    public var periodicResetSamples: Int = 0
    public init() {}
}
