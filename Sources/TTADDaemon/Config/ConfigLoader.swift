import Foundation
import TTADModel
import TTADPresets
import TOMLKit

/// Reads a TOML configuration file into `DaemonConfig`, then validates it as a whole.
///
/// Every error names the key. Unknown keys are errors: a typo such as `queu_capacity` would
/// otherwise run the daemon on a default nobody asked for. Relative paths are resolved against
/// the directory of the config file, so a config and its class-embedding file travel together.
public enum ConfigLoader {
    public static func load(path: String) throws -> DaemonConfig {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigError(key: "", "cannot read \(path): \(error.localizedDescription)")
        }
        let base = URL(fileURLWithPath: path).deletingLastPathComponent().path
        return try parse(text, baseDirectory: base, source: path)
    }

    public static func parse(_ text: String, baseDirectory: String, source: String = "<string>") throws -> DaemonConfig {
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let e as TOMLParseError {
            throw ConfigError(key: "", "\(source): TOML syntax error at line \(e.source.begin.line), column \(e.source.begin.column): \(e.description)")
        }
        var root = TOMLReader(table: table, path: "")
        var c = DaemonConfig()

        if var t = try root.subtable("daemon") {
            if let v = try t.enumValue("mode", PredictionMode.self) { c.daemon.mode = v }
            if let v = try t.string("state_directory") { c.daemon.stateDirectory = resolve(v, base: baseDirectory) }
            if let v = try t.string("log_level") {
                guard ["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(v) else {
                    throw ConfigError(key: t.key("log_level"), "must be one of trace, debug, info, notice, warning, error, critical; got \"\(v)\"")
                }
                c.daemon.logLevel = v
            }
            if let v = try t.double("shutdown_timeout_s", min: 0, max: 3600, exclusiveMin: true) { c.daemon.shutdownTimeoutSeconds = v }
            if let v = try t.int("blas_threads", min: 1, max: 256) { c.daemon.blasThreads = v }
            if let v = try t.bool("deterministic") { c.daemon.deterministic = v }
            try t.rejectUnknownKeys()
        }
        if var t = try root.subtable("ingest") {
            if let v = try t.enumValue("pattern", IngestPattern.self) { c.ingest.pattern = v }
            if let v = try t.strings("endpoints") { c.ingest.endpoints = v }
            if let v = try t.bool("bind") { c.ingest.bind = v }
            if let v = try t.strings("topics") { c.ingest.topics = v }
            if let v = try t.int("queue_capacity", min: 1, max: 1 << 24) { c.ingest.queueCapacity = v }
            if let v = try t.enumValue("overflow", OverflowPolicy.self) { c.ingest.overflow = v }
            if let v = try t.int("memory_budget_bytes", min: 1 << 16) { c.ingest.memoryBudgetBytes = v }
            if let v = try t.int("typical_message_bytes", min: 1) { c.ingest.typicalMessageBytes = v }
            if let v = try t.int("max_message_bytes", min: 1024) { c.ingest.maxMessageBytes = v }
            if let v = try t.int("reconnect_interval_ms", min: 1) { c.ingest.reconnectIntervalMs = v }
            if let v = try t.int("reconnect_interval_max_ms", min: 0) { c.ingest.reconnectIntervalMaxMs = v }
            if let v = try t.int("heartbeat_interval_ms", min: 0) { c.ingest.heartbeatIntervalMs = v }
            if let v = try t.int("heartbeat_timeout_ms", min: 0) { c.ingest.heartbeatTimeoutMs = v }
            try t.rejectUnknownKeys()
        }
        if var t = try root.subtable("publish") {
            if let v = try t.strings("endpoints") { c.publish.endpoints = v }
            if let v = try t.bool("bind") { c.publish.bind = v }
            if let v = try t.int("send_high_water_mark", min: 0, max: Int(Int32.max)) { c.publish.sendHighWaterMark = v }
            if let v = try t.int("queue_capacity", min: 1, max: 1 << 24) { c.publish.queueCapacity = v }
            if let v = try t.double("heartbeat_s", min: 0, max: 3600) { c.publish.heartbeatSeconds = v }
            try t.rejectUnknownKeys()
        }
        if var t = try root.subtable("protocol") {
            if let v = try t.int("max_header_bytes") {
                // The whole range in the message: the 1 MiB ceiling is a guard, not a header size.
                guard (64...(1 << 20)).contains(v) else {
                    throw ConfigError(key: "protocol.max_header_bytes", "must be 64 to 1048576 (1 MiB), got \(v)")
                }
                c.protocolLimits.maxHeaderBytes = v
            }
            if let v = try t.int("max_payload_bytes", min: 4, max: 1 << 30) { c.protocolLimits.maxPayloadBytes = v }
            if let v = try t.int("max_image_side", min: 1, max: 65_536) { c.protocolLimits.maxImageSide = v }
            if let v = try t.int("max_image_pixels", min: 1, max: 1 << 32) { c.protocolLimits.maxImagePixels = v }
            if let v = try t.int("max_embedding_dimension", min: 1, max: 1 << 24) { c.protocolLimits.maxEmbeddingDimension = v }
            try t.rejectUnknownKeys()
        }
        if var t = try root.subtable("classifier") {
            if let v = try t.string("class_embeddings") { c.classifier.classEmbeddings = resolve(v, base: baseDirectory) }
            if let v = try t.string("class_names") { c.classifier.classNames = resolve(v, base: baseDirectory) }
            if let v = try t.string("tensor") { c.classifier.tensorName = v }
            if let v = try t.double("logit_scale", min: 0, max: 1e4, exclusiveMin: true) { c.classifier.logitScale = v }
            if let v = try t.int("top_k", min: 1, max: 1000) { c.classifier.topK = v }
            if let v = try t.int("max_batch", min: 1, max: 4096) { c.classifier.maxBatch = v }
            if let v = try t.double("outlier_threshold", min: 0, max: 2) { c.classifier.outlierThreshold = v }
            if let v = try t.int("outlier_calibration_samples", min: 0, max: 1 << 24) { c.classifier.outlierCalibrationSamples = v }
            if let v = try t.double("outlier_quantile", min: 0, max: 1, exclusiveMin: true) {
                guard v < 1 else { throw ConfigError(key: t.key("outlier_quantile"), "must be < 1, got \(v)") }
                c.classifier.outlierQuantile = v
            }
            try t.rejectUnknownKeys()
        }
        if var t = try root.subtable("model") {
            if let v = try t.string("folder") { c.model.folder = resolve(v, base: baseDirectory) }
            if let v = try t.strings("class_names") { c.model.classNames = v }
            if let v = try t.string("class_names_file") { c.model.classNamesFile = resolve(v, base: baseDirectory) }
            if let v = try t.string("prompt_template") { c.model.promptTemplate = v }
            if let v = try t.enumValue("precision", CLIPPrecision.self) { c.model.precision = v }
            try t.rejectUnknownKeys()
        }
        if var t = try root.subtable("metrics") {
            if let v = try t.bool("enabled") { c.metrics.enabled = v }
            if let v = try t.string("host") { c.metrics.host = v }
            if let v = try t.int("port", min: 0, max: 65_535) { c.metrics.port = v }
            if let v = try t.int("max_connections", min: 1, max: 65_536) { c.metrics.maxConnections = v }
            if let v = try t.double("header_timeout_s", min: 0, max: 3600, exclusiveMin: true) { c.metrics.headerTimeoutSeconds = v }
            if let v = try t.double("idle_timeout_s", min: 0, max: 86_400, exclusiveMin: true) { c.metrics.idleTimeoutSeconds = v }
            try t.rejectUnknownKeys()
        }
        if var t = try root.subtable("state") {
            if let v = try t.int("checkpoint_every_samples", min: 1) { c.state.checkpointEverySamples = v }
            if let v = try t.double("checkpoint_every_s", min: 0, exclusiveMin: true) { c.state.checkpointEverySeconds = v }
            if let v = try t.int("keep_checkpoints", min: 1, max: 1000) { c.state.keepCheckpoints = v }
            try t.rejectUnknownKeys()
        }
        if var t = try root.subtable("curve") {
            if let v = try t.bool("enabled") { c.curve.enabled = v }
            if let v = try t.string("server_secret_key_file") { c.curve.serverSecretKeyFile = resolve(v, base: baseDirectory) }
            if let v = try t.string("allowed_clients_directory") { c.curve.allowedClientsDirectory = resolve(v, base: baseDirectory) }
            try t.rejectUnknownKeys()
        }
        if var t = try root.subtable("drift") {
            if let v = try t.bool("enabled") { c.drift.enabled = v }
            if let v = try t.int("window", min: 8, max: 1 << 20) { c.drift.window = v }
            if let v = try t.int("publish_every_samples", min: 1, max: 1 << 30) { c.drift.publishEverySamples = v }
            if let v = try t.double("page_hinkley_delta", min: 0) { c.drift.pageHinkleyDelta = v }
            if let v = try t.double("page_hinkley_threshold", min: 0, exclusiveMin: true) { c.drift.pageHinkleyThreshold = v }
            if let v = try t.double("adwin_delta", min: 0, max: 1, exclusiveMin: true) { c.drift.adwinDelta = v }
            if let v = try t.bool("embedding_shift") { c.drift.embeddingShift = v }
            try t.rejectUnknownKeys()
        }
        if var t = try root.subtable("adaptation") {
            if let v = try t.string("preset") {
                guard PresetRegistry.descriptor(PresetName(rawValue: v)) != nil else {
                    let known = PresetRegistry.names.map { "\"\($0)\"" }.joined(separator: ", ")
                    throw ConfigError(key: "adaptation.preset", "must be one of \(known), got \"\(v)\"")
                }
                c.adaptation.preset = PresetName(rawValue: v)
            }
            if let v = try t.double("learning_rate", min: 0, max: 1, exclusiveMin: true) { c.adaptation.learningRate = v }
            if let v = try t.double("anchor_weight", min: 0, max: 1e6) { c.adaptation.anchorWeight = v }
            if let v = try t.double("calibration_rate", min: 0, max: 1) { c.adaptation.calibrationRate = v }
            if let v = try t.int("update_every_samples", min: 1, max: 1 << 24) { c.adaptation.updateEverySamples = v }
            if let v = try t.int("min_bank_items", min: 1, max: 4096) { c.adaptation.minBankItems = v }
            if let v = try t.double("worker_cpu_budget", min: 0, max: 1, exclusiveMin: true) { c.adaptation.workerCPUBudget = v }
            if let v = try t.string("scope") {
                guard let scope = AdaptationScope(rawValue: v) else {
                    throw ConfigError(key: t.key("scope"), "must be \"global\" or \"stream\", got \"\(v)\"")
                }
                c.adaptationStates.scope = scope
            }
            if let v = try t.int("max_live_states", min: 1, max: 256) { c.adaptationStates.maxLiveStates = v }
            if let v = try t.int("max_saved_states", min: 0, max: 1 << 16) { c.adaptationStates.maxSavedStates = v }
            if let v = try t.strings("state_groups") {
                for (i, g) in v.enumerated() where g.isEmpty || g.utf8.count > 256 {
                    throw ConfigError(key: "\(t.key("state_groups"))[\(i)]", "must be a non-empty stream-id prefix of at most 256 bytes")
                }
                c.adaptationStates.groups = v
            }
            if var b = try t.subtable("bank") {
                if let v = try b.int("capacity", min: 1, max: 4096) { c.adaptation.bank.capacity = v }
                if let v = try b.int("max_bytes", min: 1024, max: 1 << 34) { c.adaptation.bank.maxBytes = v }
                if let v = try b.double("entropy_fraction", min: 0, max: 1, exclusiveMin: true) { c.adaptation.bank.entropyFraction = v }
                if let v = try b.bool("require_frozen_agreement") { c.adaptation.bank.requireFrozenAgreement = v }
                try b.rejectUnknownKeys()
            }
            if var g = try t.subtable("guard") {
                if let v = try g.double("entropy_floor", min: 0, max: 100) { c.adaptation.guardSettings.entropyFloor = v }
                if let v = try g.int("window", min: 8, max: 1 << 20) { c.adaptation.guardSettings.window = v }
                if let v = try g.int("collapsed_class_count", min: 0, max: 1 << 20) { c.adaptation.guardSettings.collapsedClassCount = v }
                if let v = try g.double("top_share_margin", min: 0, max: 1) { c.adaptation.guardSettings.topShareMargin = v }
                if let v = try g.double("disagreement_bound", min: 0, max: 1) { c.adaptation.guardSettings.disagreementBound = v }
                if let v = try g.int("cooldown_samples", min: 0, max: 1 << 30) { c.adaptation.guardSettings.cooldownSamples = v }
                if let v = try g.int("periodic_reset_samples", min: 0, max: 1 << 40) { c.adaptation.guardSettings.periodicResetSamples = v }
                try g.rejectUnknownKeys()
            }
            if let v = try t.int("seed", min: 0, max: 1 << 62) { c.adaptation.seed = UInt64(v) }
            if var p = try t.subtable("tpt") {
                if let v = try p.int("views", min: 1, max: 256) { c.adaptation.promptTuning.views = v }
                if let v = try p.double("keep_fraction", min: 0, max: 1, exclusiveMin: true) { c.adaptation.promptTuning.keepFraction = v }
                if let v = try p.double("learning_rate", min: 0, max: 1, exclusiveMin: true) { c.adaptation.promptTuning.learningRate = v }
                if let v = try p.int("slots", min: 1, max: 64) { c.adaptation.promptTuning.slots = v }
                try p.rejectUnknownKeys()
            }
            if var r = try t.subtable("rotta") {
                if let v = try r.double("learning_rate", min: 0, max: 1, exclusiveMin: true) { c.adaptation.rotta.learningRate = v }
                if let v = try r.double("teacher_rate", min: 0, max: 1) { c.adaptation.rotta.teacherRate = v }
                if let v = try r.int("update_every_samples", min: 1, max: 1 << 24) { c.adaptation.rotta.updateEverySamples = v }
                if let v = try r.int("capacity", min: 1, max: 4096) { c.adaptation.rotta.capacity = v }
                if let v = try r.double("timeliness_weight", min: 0, max: 1e6) { c.adaptation.rotta.timelinessWeight = v }
                if let v = try r.double("uncertainty_weight", min: 0, max: 1e6) { c.adaptation.rotta.uncertaintyWeight = v }
                try r.rejectUnknownKeys()
            }
            if var s = try t.subtable("stamp") {
                if let v = try s.double("learning_rate", min: 0, max: 10, exclusiveMin: true) { c.adaptation.stamp.learningRate = v }
                if let v = try s.double("alpha", min: 0, max: 1, exclusiveMin: true) { c.adaptation.stamp.alpha = v }
                if let v = try s.double("rho", min: 0, max: 10, exclusiveMin: true) { c.adaptation.stamp.rho = v }
                if let v = try s.int("views", min: 1, max: 256) { c.adaptation.stamp.views = v }
                if let v = try s.int("update_every_samples", min: 1, max: 1 << 24) { c.adaptation.stamp.updateEverySamples = v }
                if let v = try s.int("capacity", min: 1, max: 4096) { c.adaptation.stamp.capacity = v }
                if let v = try s.int("cosine_period", min: 1, max: 1 << 30) { c.adaptation.stamp.cosinePeriod = v }
                try s.rejectUnknownKeys()
            }
            if var l = try t.subtable("label_gate") {
                if let v = try l.int("window", min: 0, max: 1 << 20) {
                    guard v == 0 || v >= 16 else { throw ConfigError(key: l.key("window"), "must be 0 (off) or ≥ 16, got \(v)") }
                    c.adaptation.labelGate.window = v
                }
                if let v = try l.double("threshold", min: 0, max: 1, exclusiveMin: true) {
                    guard v < 1 else { throw ConfigError(key: l.key("threshold"), "must be < 1 (the excess never reaches 1), got \(v)") }
                    c.adaptation.labelGate.threshold = v
                }
                if let v = try l.double("reopen_below", min: -1, max: 1) { c.adaptation.labelGate.reopenBelow = v }
                if c.adaptation.labelGate.reopenBelow > c.adaptation.labelGate.threshold {
                    throw ConfigError(key: l.key("reopen_below"), "\(c.adaptation.labelGate.reopenBelow) exceeds threshold \(c.adaptation.labelGate.threshold)")
                }
                // The warm-up's defaults follow a smaller window or threshold; values set here must fit them.
                let gate = c.adaptation.labelGate
                if let v = try l.int("warmup_samples", min: 0, max: 1 << 20) {
                    guard v == 0 || v >= 2 else { throw ConfigError(key: l.key("warmup_samples"), "must be 0 (off) or ≥ 2, got \(v)") }
                    guard gate.window == 0 || v <= gate.window else {
                        throw ConfigError(key: l.key("warmup_samples"), "\(v) exceeds window \(gate.window)")
                    }
                    c.adaptation.labelGate.warmupSamples = v
                } else if gate.window > 0 {
                    c.adaptation.labelGate.warmupSamples = min(gate.warmupSamples, gate.window)
                }
                if let v = try l.double("mixed_below", min: -1, max: 1) {
                    guard v <= gate.threshold else { throw ConfigError(key: l.key("mixed_below"), "\(v) exceeds threshold \(gate.threshold)") }
                    c.adaptation.labelGate.mixedBelow = v
                } else {
                    c.adaptation.labelGate.mixedBelow = min(gate.mixedBelow, gate.threshold)
                }
                if let v = try l.double("mixed_classes", min: 1, max: 1e6) { c.adaptation.labelGate.mixedClasses = v }
                try l.rejectUnknownKeys()
            }
            try t.rejectUnknownKeys()
        }
        try root.rejectUnknownKeys()
        try validate(c)
        return c
    }

    /// Cross-key checks, run after parsing and again after command-line overrides.
    public static func validate(_ c: DaemonConfig) throws {
        guard let preset = PresetRegistry.descriptor(c.adaptation.preset) else {
            throw ConfigError(key: "adaptation.preset", "unknown preset \"\(c.adaptation.preset)\"")
        }
        if c.daemon.mode != .image && !preset.worksOnEmbeddings {
            let ok = PresetRegistry.names.filter { PresetRegistry.descriptor($0)?.worksOnEmbeddings == true }
            throw ConfigError(key: "adaptation.preset", "\"\(c.adaptation.preset)\" adapts the image tower and needs daemon.mode = \"image\"; "
                              + "embedding mode runs one of " + ok.map(\.rawValue).joined(separator: ", "))
        }
        if c.adaptation.minBankItems > c.adaptation.bank.capacity {
            throw ConfigError(key: "adaptation.min_bank_items", "\(c.adaptation.minBankItems) exceeds adaptation.bank.capacity \(c.adaptation.bank.capacity)")
        }
        if c.ingest.endpoints.isEmpty { throw ConfigError(key: "ingest.endpoints", "needs at least one endpoint") }
        for (i, e) in c.ingest.endpoints.enumerated() { try checkEndpoint(e, key: "ingest.endpoints[\(i)]") }
        if c.publish.endpoints.isEmpty { throw ConfigError(key: "publish.endpoints", "needs at least one endpoint") }
        for (i, e) in c.publish.endpoints.enumerated() { try checkEndpoint(e, key: "publish.endpoints[\(i)]") }
        if c.ingest.pattern == .sub && c.ingest.topics.isEmpty {
            throw ConfigError(key: "ingest.topics", "a SUB socket receives nothing without a subscription; use [\"\"] for every stream")
        }
        for (i, t) in c.ingest.topics.enumerated() where t.utf8.count > 64 {
            throw ConfigError(key: "ingest.topics[\(i)]", "longer than a stream id can be (64 bytes)")
        }
        if c.ingest.maxMessageBytes < c.protocolLimits.maxHeaderBytes {
            throw ConfigError(key: "ingest.max_message_bytes", "smaller than protocol.max_header_bytes")
        }
        if c.classifier.outlierThreshold != nil && c.classifier.outlierCalibrationSamples > 0 {
            throw ConfigError(key: "classifier.outlier_calibration_samples", "set either classifier.outlier_threshold (fixed) or outlier_calibration_samples (calibrated), not both")
        }
        if c.daemon.deterministic {
            if c.ingest.pattern != .pull {
                throw ConfigError(key: "daemon.deterministic", "needs lossless ingest: ingest.pattern = \"pull\" (SUB drops late samples)")
            }
            if c.ingest.effectiveOverflow != .block {
                throw ConfigError(key: "daemon.deterministic", "needs lossless ingest: ingest.overflow = \"block\", got \"\(c.ingest.effectiveOverflow.rawValue)\"")
            }
        }
        switch c.daemon.mode {
        case .embedding:
            if c.classifier.classEmbeddings.isEmpty {
                throw ConfigError(key: "classifier.class_embeddings", "required in embedding mode: a .safetensors or .npy file of class embeddings")
            }
        case .image:
            if c.model.folder.isEmpty {
                throw ConfigError(key: "model.folder", "required in image mode: a Hugging Face CLIP folder (config.json, model.safetensors, vocab.json, merges.txt)")
            }
            if c.model.classNames.isEmpty == (c.model.classNamesFile == nil) {
                throw ConfigError(key: "model.class_names", "image mode needs exactly one of model.class_names or model.class_names_file")
            }
            if c.model.promptTemplate.components(separatedBy: "{}").count != 2 {
                throw ConfigError(key: "model.prompt_template", "must contain {} exactly once, got \"\(c.model.promptTemplate)\"")
            }
            var seen = Set<String>()
            for (i, n) in c.model.classNames.enumerated() {
                if n.trimmingCharacters(in: .whitespaces).isEmpty { throw ConfigError(key: "model.class_names[\(i)]", "is empty") }
                if !seen.insert(n).inserted { throw ConfigError(key: "model.class_names[\(i)]", "duplicate class name \"\(n)\"") }
            }
        }
        if c.curve.enabled {
            if c.curve.serverSecretKeyFile.isEmpty {
                throw ConfigError(key: "curve.server_secret_key_file", "required when curve.enabled = true")
            }
            if c.curve.allowedClientsDirectory.isEmpty {
                throw ConfigError(key: "curve.allowed_clients_directory", "required when curve.enabled = true (an empty directory admits nobody)")
            }
        }
        if c.metrics.host.isEmpty { throw ConfigError(key: "metrics.host", "must not be empty") }
    }

    static func checkEndpoint(_ e: String, key: String) throws {
        let schemes = ["tcp://", "ipc://", "inproc://"]
        guard let s = schemes.first(where: { e.hasPrefix($0) }), e.count > s.count else {
            throw ConfigError(key: key, "\"\(e)\" is not a ZeroMQ endpoint (tcp://host:port, ipc:///path or inproc://name)")
        }
    }

    static func resolve(_ p: String, base: String) -> String {
        if p.isEmpty || p.hasPrefix("/") { return p }
        return URL(fileURLWithPath: base).appendingPathComponent(p).standardized.path
    }
}
