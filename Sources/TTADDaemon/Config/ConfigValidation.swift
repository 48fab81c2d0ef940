import Foundation
import TTADPresets

/// The checks that involve more than one key, which the key table (`ConfigKeys`) cannot express.
extension ConfigLoader {
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


    /// `[adaptation.label_gate]`'s keys that must stay under another; when unset, the warm-up's
    /// defaults follow a smaller window or threshold instead (applied only when the table is
    /// present, as the defaults fit each other).
    static func applyLabelGateRules(_ c: inout DaemonConfig, _ l: TOMLReader) throws {
        let gate = c.adaptation.labelGate
        if gate.reopenBelow > gate.threshold {
            throw ConfigError(key: l.key("reopen_below"), "\(gate.reopenBelow) exceeds threshold \(gate.threshold)")
        }
        if l.has("warmup_samples") {
            guard gate.window == 0 || gate.warmupSamples <= gate.window else {
                throw ConfigError(key: l.key("warmup_samples"), "\(gate.warmupSamples) exceeds window \(gate.window)")
            }
        } else if gate.window > 0 {
            c.adaptation.labelGate.warmupSamples = min(gate.warmupSamples, gate.window)
        }
        if l.has("mixed_below") {
            guard gate.mixedBelow <= gate.threshold else {
                throw ConfigError(key: l.key("mixed_below"), "\(gate.mixedBelow) exceeds threshold \(gate.threshold)")
            }
        } else {
            c.adaptation.labelGate.mixedBelow = min(gate.mixedBelow, gate.threshold)
        }
    }
}
