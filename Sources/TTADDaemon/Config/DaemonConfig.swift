import Foundation
import TTADModel
import TTADPresets

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
    /// `[adaptation]`'s scope keys: which samples share one adapted state.
    public var adaptationStates = StateScopeSection()

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
    /// Seconds between `heartbeat` events (0: none): a subscriber's positive sign that its
    /// subscription is live, which the `started` event cannot give (it precedes every subscriber).
    public var heartbeatSeconds: Double = 5
    public init() {}
}

public struct ProtocolSection: Sendable, Equatable {
    public var maxHeaderBytes: Int = 4096
    public var maxPayloadBytes: Int = 16 << 20
    public var maxImageSide: Int = 8192
    /// Largest H × W accepted; the default, 8192², lets every image within `maxImageSide` through.
    public var maxImagePixels: Int = 8192 * 8192
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
    /// Precision of the image tower's prediction forwards: `f32` (exact against transformers)
    /// or `int8` (the vision block linears in int8; adaptation's gradient forwards stay F32).
    public var precision: CLIPPrecision = .f32
    public init() {}
}

public struct MetricsSection: Sendable, Equatable {
    public var enabled: Bool = true
    public var host: String = "127.0.0.1"
    public var port: Int = 7757
    /// A scraper and a probe need a few connections; the cap keeps idle clients from using up
    /// the descriptors ZeroMQ and SQLite need (the unit's LimitNOFILE is 4096).
    public var maxConnections: Int = 64
    /// Time a new connection has to deliver its first complete request.
    public var headerTimeoutSeconds: Double = 5
    /// Time a connection may stay silent after a response; above common scrape intervals (15 s)
    /// so a scraper's keep-alive connection is reused.
    public var idleTimeoutSeconds: Double = 30

    public var connectionLimits: HTTPConnectionLimits {
        HTTPConnectionLimits(maxConnections: maxConnections, headerTimeoutSeconds: headerTimeoutSeconds,
                             idleTimeoutSeconds: idleTimeoutSeconds)
    }
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
