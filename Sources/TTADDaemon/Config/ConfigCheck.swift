import Foundation
import TTADPresets
import TTADModel
import TTADZMQ

/// What `ttad check-config` does beyond parsing: open the files the config names, and print the
/// effective configuration as TOML (which parses back to the same configuration).
public enum ConfigCheck {
    public static func checkFiles(_ c: DaemonConfig) throws {
        _ = try PredictorFactory.make(config: c)
        if c.curve.enabled {
            do {
                let cert = try ZMQCertificate.load(path: c.curve.serverSecretKeyFile)
                if cert.secretKey == nil { throw ConfigError(key: "curve.server_secret_key_file", "no secret-key in \(c.curve.serverSecretKeyFile)") }
            } catch let e as ConfigError { throw e } catch {
                throw ConfigError(key: "curve.server_secret_key_file", "\(error)")
            }
            do { _ = try ZAPAuthenticator.loadAllowList(directory: c.curve.allowedClientsDirectory) } catch {
                throw ConfigError(key: "curve.allowed_clients_directory", "\(error)")
            }
        }
    }

    public static func describe(_ c: DaemonConfig) -> String {
        var out: [String] = []
        func table(_ name: String, _ rows: [(String, String?)]) {
            out.append("[\(name)]")
            for (k, v) in rows { if let v { out.append("\(k) = \(v)") } }
            out.append("")
        }
        func s(_ x: String) -> String {
            "\"" + x.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
        func a(_ x: [String]) -> String { "[" + x.map(s).joined(separator: ", ") + "]" }
        func d(_ x: Double) -> String { x == x.rounded() && abs(x) < 1e15 ? String(format: "%.1f", x) : "\(x)" }
        table("daemon", [("mode", s(c.daemon.mode.rawValue)), ("state_directory", s(c.daemon.stateDirectory)),
                         ("log_level", s(c.daemon.logLevel)), ("shutdown_timeout_s", d(c.daemon.shutdownTimeoutSeconds)),
                         ("blas_threads", "\(c.daemon.blasThreads)"), ("deterministic", "\(c.daemon.deterministic)")])
        table("ingest", [("pattern", s(c.ingest.pattern.rawValue)), ("endpoints", a(c.ingest.endpoints)),
                         ("bind", "\(c.ingest.bind)"), ("topics", a(c.ingest.topics)),
                         ("queue_capacity", "\(c.ingest.queueCapacity)"), ("overflow", s(c.ingest.effectiveOverflow.rawValue)),
                         ("memory_budget_bytes", "\(c.ingest.memoryBudgetBytes)"),
                         ("typical_message_bytes", "\(c.ingest.typicalMessageBytes)"),
                         ("max_message_bytes", "\(c.ingest.maxMessageBytes)"),
                         ("reconnect_interval_ms", "\(c.ingest.reconnectIntervalMs)"),
                         ("reconnect_interval_max_ms", "\(c.ingest.reconnectIntervalMaxMs)"),
                         ("heartbeat_interval_ms", "\(c.ingest.heartbeatIntervalMs)"),
                         ("heartbeat_timeout_ms", "\(c.ingest.heartbeatTimeoutMs)")])
        table("publish", [("endpoints", a(c.publish.endpoints)), ("bind", "\(c.publish.bind)"),
                          ("send_high_water_mark", "\(c.publish.sendHighWaterMark)"),
                          ("heartbeat_s", d(c.publish.heartbeatSeconds)),
                          ("queue_capacity", "\(c.publish.queueCapacity)")])
        table("protocol", [("max_header_bytes", "\(c.protocolLimits.maxHeaderBytes)"),
                           ("max_payload_bytes", "\(c.protocolLimits.maxPayloadBytes)"),
                           ("max_image_side", "\(c.protocolLimits.maxImageSide)"),
                           ("max_image_pixels", "\(c.protocolLimits.maxImagePixels)"),
                           ("max_embedding_dimension", "\(c.protocolLimits.maxEmbeddingDimension)")])
        table("classifier", [("class_embeddings", s(c.classifier.classEmbeddings)), ("class_names", c.classifier.classNames.map(s)),
                             ("tensor", c.classifier.tensorName.map(s)), ("logit_scale", c.classifier.logitScale.map(d)),
                             ("top_k", "\(c.classifier.topK)"), ("max_batch", "\(c.classifier.maxBatch)"),
                             ("outlier_threshold", c.classifier.outlierThreshold.map(d)),
                             ("outlier_calibration_samples", "\(c.classifier.outlierCalibrationSamples)"),
                             ("outlier_quantile", d(c.classifier.outlierQuantile))])
        table("model", [("folder", s(c.model.folder)), ("class_names", a(c.model.classNames)),
                        ("class_names_file", c.model.classNamesFile.map(s)), ("prompt_template", s(c.model.promptTemplate)),
                        ("precision", s(c.model.precision.rawValue))])
        table("metrics", [("enabled", "\(c.metrics.enabled)"), ("host", s(c.metrics.host)), ("port", "\(c.metrics.port)"),
                          ("max_connections", "\(c.metrics.maxConnections)"),
                          ("header_timeout_s", d(c.metrics.headerTimeoutSeconds)),
                          ("idle_timeout_s", d(c.metrics.idleTimeoutSeconds))])
        table("state", [("checkpoint_every_samples", "\(c.state.checkpointEverySamples)"),
                        ("checkpoint_every_s", d(c.state.checkpointEverySeconds)),
                        ("keep_checkpoints", "\(c.state.keepCheckpoints)")])
        table("curve", [("enabled", "\(c.curve.enabled)"), ("server_secret_key_file", s(c.curve.serverSecretKeyFile)),
                        ("allowed_clients_directory", s(c.curve.allowedClientsDirectory))])
        table("drift", [("enabled", "\(c.drift.enabled)"), ("window", "\(c.drift.window)"),
                        ("publish_every_samples", "\(c.drift.publishEverySamples)"),
                        ("page_hinkley_delta", d(c.drift.pageHinkleyDelta)),
                        ("page_hinkley_threshold", d(c.drift.pageHinkleyThreshold)),
                        ("adwin_delta", d(c.drift.adwinDelta)), ("embedding_shift", "\(c.drift.embeddingShift)")])
        let ad = c.adaptation, g = ad.guardSettings
        table("adaptation", [("preset", s(ad.preset.rawValue)), ("learning_rate", d(ad.learningRate)),
                             ("anchor_weight", d(ad.anchorWeight)), ("calibration_rate", d(ad.calibrationRate)), ("update_every_samples", "\(ad.updateEverySamples)"),
                             ("min_bank_items", "\(ad.minBankItems)"), ("worker_cpu_budget", d(ad.workerCPUBudget)),
                             ("seed", "\(ad.seed)"), ("scope", s(c.adaptationStates.scope.rawValue)),
                             ("max_live_states", "\(c.adaptationStates.maxLiveStates)"),
                             ("max_saved_states", "\(c.adaptationStates.maxSavedStates)"),
                             ("state_groups", "[" + c.adaptationStates.groups.map(s).joined(separator: ", ") + "]")])
        table("adaptation.bank", [("capacity", "\(ad.bank.capacity)"), ("max_bytes", "\(ad.bank.maxBytes)"),
                                  ("entropy_fraction", d(ad.bank.entropyFraction)),
                                  ("require_frozen_agreement", "\(ad.bank.requireFrozenAgreement)")])
        table("adaptation.guard", [("entropy_floor", g.entropyFloor.map(d)), ("window", "\(g.window)"),
                                   ("collapsed_class_count", "\(g.collapsedClassCount)"), ("top_share_margin", d(g.topShareMargin)),
                                   ("disagreement_bound", d(g.disagreementBound)), ("cooldown_samples", "\(g.cooldownSamples)"),
                                   ("periodic_reset_samples", "\(g.periodicResetSamples)")])
        table("adaptation.label_gate", [("window", "\(ad.labelGate.window)"), ("threshold", d(ad.labelGate.threshold)),
                                        ("reopen_below", d(ad.labelGate.reopenBelow)), ("warmup_samples", "\(ad.labelGate.warmupSamples)"),
                                        ("mixed_below", d(ad.labelGate.mixedBelow)), ("mixed_classes", d(ad.labelGate.mixedClasses))])
        let pt = ad.promptTuning, r = ad.rotta, st = ad.stamp
        table("adaptation.tpt", [("views", "\(pt.views)"), ("keep_fraction", d(pt.keepFraction)),
                                 ("learning_rate", d(pt.learningRate)), ("slots", "\(pt.slots)")])
        table("adaptation.rotta", [("learning_rate", d(r.learningRate)), ("teacher_rate", d(r.teacherRate)),
                                   ("update_every_samples", "\(r.updateEverySamples)"), ("capacity", "\(r.capacity)"),
                                   ("timeliness_weight", d(r.timelinessWeight)), ("uncertainty_weight", d(r.uncertaintyWeight))])
        table("adaptation.stamp", [("learning_rate", d(st.learningRate)), ("alpha", d(st.alpha)), ("rho", d(st.rho)),
                                   ("views", "\(st.views)"), ("update_every_samples", "\(st.updateEverySamples)"),
                                   ("capacity", "\(st.capacity)"), ("cosine_period", "\(st.cosinePeriod)")])
        return out.joined(separator: "\n")
    }
}
