import TTADModel
import TTADPresets

/// Every configuration key, declared once: the loader reads and range-checks these, `check-config`
/// prints them, and `ConfigDocsTests` compares them with docs/configuration.md. Tables appear in
/// the order of their first key; `[adaptation]`'s keys are declared by the presets' settings.
enum ConfigKeys {
    typealias K = SettingKey<DaemonConfig>

    static var all: [K] {
        daemon + ingest + publish + protocolLimits + classifier + model + metrics + state + curve + drift
            + AdaptationSection.settingKeys.map { $0.lifted(\DaemonConfig.adaptation) }
            + StateScopeSection.settingKeys.map { $0.lifted(\DaemonConfig.adaptationStates) }
    }

    /// `all`, grouped by table in the order tables first appear.
    static var byTable: [(table: String, keys: [K])] {
        var out: [(table: String, keys: [K])] = []
        for k in all {
            if let i = out.firstIndex(where: { $0.table == k.table }) { out[i].keys.append(k) } else { out.append((k.table, [k])) }
        }
        return out
    }

    static let logLevels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]

    private static var daemon: [K] {
        let t = "daemon"
        return [
            .choice(t, "mode", \.daemon.mode, "What samples carry: embeddings, or images for the in-process model."),
            .string(t, "state_directory", \.daemon.stateDirectory, isPath: true, defaultDoc: "`$STATE_DIRECTORY`, else `/var/lib/ttad`",
                    "Where the SQLite state lives."),
            K(t, "log_level", .choice(logLevels), doc: "Least severe level logged.",
              get: { .string($0.daemon.logLevel) }, set: { if case .string(let s) = $1 { $0.daemon.logLevel = s } }),
            .double(t, "shutdown_timeout_s", \.daemon.shutdownTimeoutSeconds, min: 0, max: 3600, openMin: true,
                    "Bound on the drain and final checkpoint after SIGTERM."),
            .int(t, "blas_threads", \.daemon.blasThreads, min: 1, max: 256, "OpenBLAS threads for the model's matrix products."),
            .bool(t, "deterministic", \.daemon.deterministic, "Evaluation: samples one at a time, in order, lossless."),
        ]
    }

    private static var ingest: [K] {
        let t = "ingest"
        return [
            .choice(t, "pattern", \.ingest.pattern, "pull (PUSH producers, lossless) or sub (PUB producers, live)."),
            .strings(t, "endpoints", \.ingest.endpoints, "ZeroMQ endpoints of the ingest socket."),
            .bool(t, "bind", \.ingest.bind, "Bind the endpoints, or connect to producers that bind."),
            .strings(t, "topics", \.ingest.topics, "SUB subscriptions: stream-id prefixes."),
            .int(t, "queue_capacity", \.ingest.queueCapacity, min: 1, max: 1 << 24, "Samples held between the I/O thread and processing."),
            // Unset, the policy follows the pattern; printing the effective one as a value would
            // pin it, so check-config's output would no longer follow a changed pattern.
            K(t, "overflow", .choice(OverflowPolicy.allCases.map(\.rawValue)), doc: "What a full ingest queue does.",
              defaultDoc: "`block` for pull, `drop_oldest` for sub",
              unsetNote: { "overflow = \"\($0.ingest.effectiveOverflow.rawValue)\" (unset: follows pattern)" },
              get: { $0.ingest.overflow.map { .string($0.rawValue) } },
              set: { if case .string(let s) = $1 { $0.ingest.overflow = OverflowPolicy(rawValue: s) } }),
            .int(t, "memory_budget_bytes", \.ingest.memoryBudgetBytes, min: 1 << 16, "Bytes ZeroMQ's receive queue may hold."),
            .int(t, "typical_message_bytes", \.ingest.typicalMessageBytes, min: 1, "Expected size of one input message."),
            .int(t, "max_message_bytes", \.ingest.maxMessageBytes, min: 1024, "ZMQ_MAXMSGSIZE: larger messages drop the connection."),
            .int(t, "reconnect_interval_ms", \.ingest.reconnectIntervalMs, min: 1, "ZMQ_RECONNECT_IVL."),
            .int(t, "reconnect_interval_max_ms", \.ingest.reconnectIntervalMaxMs, min: 0, "ZMQ_RECONNECT_IVL_MAX."),
            .int(t, "heartbeat_interval_ms", \.ingest.heartbeatIntervalMs, min: 0, "ZMTP heartbeat interval; 0 = off."),
            .int(t, "heartbeat_timeout_ms", \.ingest.heartbeatTimeoutMs, min: 0, "ZMTP heartbeat TTL and timeout."),
        ]
    }

    private static var publish: [K] {
        let t = "publish"
        return [
            .strings(t, "endpoints", \.publish.endpoints, "The PUB socket's endpoints."),
            .bool(t, "bind", \.publish.bind, "Bind, or connect (to an XSUB proxy)."),
            .int(t, "send_high_water_mark", \.publish.sendHighWaterMark, min: 0, max: Int(Int32.max), "Per-subscriber queue in messages."),
            .double(t, "heartbeat_s", \.publish.heartbeatSeconds, min: 0, max: 3600, "Seconds between heartbeat events; 0 = none."),
            .int(t, "queue_capacity", \.publish.queueCapacity, min: 1, max: 1 << 24, "Outputs waiting for the I/O thread."),
        ]
    }

    private static var protocolLimits: [K] {
        let t = "protocol"
        return [
            .int(t, "max_header_bytes", \.protocolLimits.maxHeaderBytes, min: 64, max: 1 << 20, rangeNote: "1 MiB",
                 "Larger header frames: header_too_large."),
            .int(t, "max_payload_bytes", \.protocolLimits.maxPayloadBytes, min: 4, max: 1 << 30, rangeNote: "1 GiB",
                 "Larger payloads: payload_too_large."),
            .int(t, "max_image_side", \.protocolLimits.maxImageSide, min: 1, max: 65_536, "Largest image height or width."),
            .int(t, "max_image_pixels", \.protocolLimits.maxImagePixels, min: 1, max: 1 << 32, "Largest H × W."),
            .int(t, "max_embedding_dimension", \.protocolLimits.maxEmbeddingDimension, min: 1, max: 1 << 24, "Largest embedding D."),
        ]
    }

    private static var classifier: [K] {
        let t = "classifier"
        return [
            .string(t, "class_embeddings", \.classifier.classEmbeddings, isPath: true, defaultDoc: "required",
                    "Embedding mode: .safetensors or .npy of class embeddings."),
            .string(t, "class_names", \.classifier.classNames, isPath: true, defaultDoc: "none", "Text file of class names, one per line."),
            .string(t, "tensor", \.classifier.tensorName, defaultDoc: "`class_embeddings`, or the file's only tensor",
                    "Tensor name inside a safetensors file."),
            .double(t, "logit_scale", \.classifier.logitScale, min: 0, max: 1e4, openMin: true, defaultDoc: "model's / `100`",
                    "Multiplies cosine similarities before the softmax."),
            .int(t, "top_k", \.classifier.topK, min: 1, max: 1000, "Classes listed per prediction."),
            .int(t, "max_batch", \.classifier.maxBatch, min: 1, max: 4096, "Samples classified in one matrix product."),
            .double(t, "outlier_threshold", \.classifier.outlierThreshold, min: 0, max: 2, defaultDoc: "none",
                    "Fixed outlier threshold on 1 − max cosine."),
            .int(t, "outlier_calibration_samples", \.classifier.outlierCalibrationSamples, min: 0, max: 1 << 24,
                 "Calibrate the outlier threshold on this many first scores; 0 = off."),
            .double(t, "outlier_quantile", \.classifier.outlierQuantile, min: 0, max: 1, openMin: true, openMax: true,
                    "Quantile of the calibration scores used as threshold."),
        ]
    }

    private static var model: [K] {
        let t = "model"
        return [
            .string(t, "folder", \.model.folder, isPath: true, defaultDoc: "required", "Image mode: a Hugging Face CLIP folder."),
            .strings(t, "class_names", \.model.classNames, defaultDoc: "one of the two", "Class names in output order."),
            .string(t, "class_names_file", \.model.classNamesFile, isPath: true, defaultDoc: "one of the two",
                    "File of class names, one per line."),
            .string(t, "prompt_template", \.model.promptTemplate, "Each class name replaces {} to make its prompt."),
            .choice(t, "precision", \.model.precision, "Precision of the image tower's prediction forwards."),
        ]
    }

    private static var metrics: [K] {
        let t = "metrics"
        return [
            .bool(t, "enabled", \.metrics.enabled, "Serve /metrics, /healthz, /readyz."),
            .string(t, "host", \.metrics.host, "Bind address."),
            .int(t, "port", \.metrics.port, min: 0, max: 65_535, "TCP port; 0 = ephemeral."),
            .int(t, "max_connections", \.metrics.maxConnections, min: 1, max: 65_536, "HTTP connections open at once."),
            .double(t, "header_timeout_s", \.metrics.headerTimeoutSeconds, min: 0, max: 3600, openMin: true,
                    "Time a new connection has for its first request."),
            .double(t, "idle_timeout_s", \.metrics.idleTimeoutSeconds, min: 0, max: 86_400, openMin: true,
                    "Time an idle connection is kept."),
        ]
    }

    private static var state: [K] {
        let t = "state"
        return [
            .int(t, "checkpoint_every_samples", \.state.checkpointEverySamples, min: 1, "Checkpoint after this many samples."),
            .double(t, "checkpoint_every_s", \.state.checkpointEverySeconds, min: 0, openMin: true, "…or this many seconds."),
            .int(t, "keep_checkpoints", \.state.keepCheckpoints, min: 1, max: 1000, "Checkpoints kept."),
        ]
    }

    private static var curve: [K] {
        let t = "curve"
        return [
            .bool(t, "enabled", \.curve.enabled, "CURVE on both sockets."),
            .string(t, "server_secret_key_file", \.curve.serverSecretKeyFile, isPath: true, defaultDoc: "required when enabled",
                    "Certificate with the server's secret key."),
            .string(t, "allowed_clients_directory", \.curve.allowedClientsDirectory, isPath: true, defaultDoc: "required when enabled",
                    "Directory of allowed client public keys."),
        ]
    }

    private static var drift: [K] {
        let t = "drift"
        return [
            .bool(t, "enabled", \.drift.enabled, "The drift monitor and its messages."),
            .int(t, "window", \.drift.window, min: 8, max: 1 << 20, "Samples in the sliding and reference windows."),
            .int(t, "publish_every_samples", \.drift.publishEverySamples, min: 1, max: 1 << 30, "A drift message every this many samples."),
            .double(t, "page_hinkley_delta", \.drift.pageHinkleyDelta, min: 0, "Page-Hinkley δ."),
            .double(t, "page_hinkley_threshold", \.drift.pageHinkleyThreshold, min: 0, openMin: true, "Page-Hinkley λ."),
            .double(t, "adwin_delta", \.drift.adwinDelta, min: 0, max: 1, openMin: true, "ADWIN's confidence δ."),
            .bool(t, "embedding_shift", \.drift.embeddingShift, "Track the mean embedding."),
        ]
    }
}
