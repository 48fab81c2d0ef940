import Foundation
import Logging
import TTADAdaptation
import TTADEngine
import TTADModel
import TTADPresets
import TTADProtocol
import TTADState
import TTADSupport
import TTADZMQ

/// The assembled service: classifier, state, I/O thread and processing loop, started and stopped
/// in a fixed order. `DaemonService` runs it under swift-service-lifecycle; tests drive it
/// directly.
public final class Daemon: @unchecked Sendable {
    public static let version = "0.1.0"

    public let config: DaemonConfig
    public let metrics: DaemonMetrics
    public let health: HealthState
    private let notifier: SystemdNotifier
    let logger: Logger

    private var context: ZMQContext?
    var io: IOThread?
    private var pipeline: Pipeline?
    private var checkpointer: Checkpointer?
    private var ingestQueue: BoundedQueue<IngestItem>?
    let lifecycleLock = NSLock()
    private(set) var running = false
    private(set) var stopped = false
    public private(set) var openOutcome: StateOpenOutcome?
    /// The checkpoint the daemon continued from (nil: it started from fresh state).
    public private(set) var restoredCheckpoint: CheckpointInfo?
    /// Why the adapted state of that checkpoint could not be taken over (adaptation then starts
    /// from the source model), or nil.
    public private(set) var adaptationNotRestored: String?

    public init(config: DaemonConfig, logger: Logger, metrics: DaemonMetrics? = nil,
                notifier: SystemdNotifier = SystemdNotifier()) {
        self.config = config
        self.logger = logger
        self.metrics = metrics ?? DaemonMetrics(version: Daemon.version, mode: config.daemon.mode.rawValue,
                                                driftPerState: config.adaptationStates.scope == .stream)
        self.health = HealthState()
        self.notifier = notifier
    }

    /// Continues the checkpoint's adapted state(s) in the configured scope. A checkpoint written
    /// in the other scope is not converted: adaptation starts from the source, and says why.
    private func restoreAdaptation(_ restored: RestoredState, into states: PresetStates, predictor: any Predictor) throws {
        switch config.adaptationStates.scope {
        case .global:
            if let state = restored.adaptation {
                if let why = predictor.preset.restore(state) {
                    adaptationNotRestored = why
                    logger.notice("adaptation starts from the source model: \(why)")
                } else {
                    logger.info("adaptation continues from the checkpoint", metadata: ["prompt_version": "\(state.version)"])
                    metrics.promptVersion.set(Double(state.version))
                }
            } else if restored.adaptationStates != nil {
                adaptationNotRestored = "the checkpoint holds per-stream states (adaptation.scope = \"stream\") and this daemon runs one global state"
                logger.notice("adaptation starts from the source model: \(adaptationNotRestored!)")
            }
        case .stream:
            if let c = restored.adaptationStates {
                let refused = try states.restore(c)
                for r in refused {
                    logger.notice("adaptation state starts from the source model", metadata: ["state": "\(r.name)", "reason": "\(r.reason)"])
                }
                if !refused.isEmpty {
                    adaptationNotRestored = refused.map { "\($0.name): \($0.reason)" }.joined(separator: "; ")
                }
                logger.info("adaptation continues from the checkpoint", metadata: ["states": "\(c.states.count)", "live": "\(states.liveCount)"])
            } else if restored.adaptation != nil {
                adaptationNotRestored = "the checkpoint holds one global state (adaptation.scope = \"global\") and this daemon keeps one per stream"
                logger.notice("adaptation starts from the source model: \(adaptationNotRestored!)")
            }
        }
    }

    /// Endpoints actually bound (tcp port 0 resolved), once started.
    public var endpoints: IOThread.Endpoints { io?.endpoints ?? .init(ingest: [], publish: []) }

    /// Loads the model and state, opens the sockets and starts both threads. Throws with a clear
    /// message on anything that would make the daemon useless (bad model file, port in use).
    public func start() throws {
        lifecycleLock.lock(); defer { lifecycleLock.unlock() }
        precondition(!running && !stopped, "a Daemon starts once")
        BLAS.threadCount = config.daemon.blasThreads
        notifier.status(config.daemon.mode == .image ? "loading the CLIP model" : "loading class embeddings")
        let predictor = try PredictorFactory.make(config: config)
        logger.info("classifier ready", metadata: ["mode": "\(config.daemon.mode.rawValue)", "classes": "\(predictor.classNames.count)"])
        let driftConfiguration: DriftMonitor.Configuration?
        do {
            driftConfiguration = config.drift.enabled
                ? try DriftReporter.configuration(config.drift, classCount: predictor.classNames.count, featureDimension: predictor.featureDimension)
                : nil
        } catch {
            throw ConfigError(key: "drift", "\(error)")
        }

        // Everything that can fail on configuration comes before the state directory is locked.
        let curve = try loadCurve()
        notifier.status("opening state")
        var storeOptions = StateStoreOptions()
        storeOptions.keepCheckpoints = config.state.keepCheckpoints
        storeOptions.creatorVersion = "ttad \(Daemon.version)"
        let (store, outcome) = try StateStore.open(directory: config.daemon.stateDirectory,
                                                   fingerprint: try FingerprintMaker.make(config: config),
                                                   logger: logger, options: storeOptions)
        openOutcome = outcome
        let checkpointer = Checkpointer(store: store, metrics: metrics, health: health, logger: logger)
        var restored = checkpointer.restore()
        restoredCheckpoint = restored.fromCheckpoint
        restored.counters.restarts += restored.fromCheckpoint == nil ? 0 : 1
        self.checkpointer = checkpointer
        let states = PresetStates(section: config.adaptationStates, first: predictor.preset, make: predictor.makePreset)
        if config.adaptation.preset != .frozen {
            do {
                try restoreAdaptation(restored, into: states, predictor: predictor)
            } catch {
                try? store.close()
                throw ConfigError(key: "adaptation.preset", "cannot build the checkpoint's adapted states: \(error)")
            }
        }
        let outliers: OutlierFlagger
        do {
            outliers = try OutlierFlagger(section: config.classifier, restored: restored.outliers, logger: logger)
        } catch {
            try? store.close()
            throw ConfigError(key: "classifier.outlier_calibration_samples", "\(error)")
        }

        let context: ZMQContext
        do { context = try ZMQContext(ioThreads: 1) } catch {
            try? store.close()
            throw error
        }
        self.context = context
        let ingestQueue = BoundedQueue<IngestItem>(capacity: config.ingest.queueCapacity)
        let outputQueue = BoundedQueue<OutgoingMessage>(capacity: config.publish.queueCapacity)
        metrics.ingestQueueCapacity.set(Double(ingestQueue.capacity))
        let io = IOThread(config: config, context: context, ingestQueue: ingestQueue, outputQueue: outputQueue,
                          metrics: metrics, curve: curve, logger: logger)
        do {
            try io.start()
        } catch {
            context.terminate()
            try? store.close()
            throw error
        }
        ingestQueue.onRoom = { [weak io] in io?.wake() }
        self.io = io
        self.ingestQueue = ingestQueue

        let drift = driftConfiguration.map { [metrics] in
            DriftReporters(section: config.drift, configuration: $0, scope: config.adaptationStates, restored: restored.drift,
                           metrics: metrics.drift, label: { metrics.states.label($0) }, logger: logger)
        }
        metrics.outlierThreshold.set(outliers.threshold.map(Double.init) ?? .nan)
        let pipeline = Pipeline(config: config, predictor: predictor, states: states, drift: drift, outliers: outliers, ingestQueue: ingestQueue, outputQueue: outputQueue,
                                wakeIO: { [weak io] in io?.wake() }, metrics: metrics, health: health,
                                notifier: notifier, checkpointer: checkpointer, restored: restored, logger: logger)
        self.pipeline = pipeline
        let detail = startDetail(outcome: outcome, restored: restored)
        try? store.appendEvent(StateEvent(kind: "start", severity: .info, detail: detail.json, at: Date()))
        // Before the loop starts: publishEvent uses the loop's encoder, which the loop owns once running.
        pipeline.publishEvent(kind: EventKind.started, detail: detail.values)
        pipeline.start()
        running = true
        logger.info("ttad started", metadata: [
            "ingest": "\(io.endpoints.ingest)", "publish": "\(io.endpoints.publish)",
            "state": "\(store.path)", "restored_samples": "\(restored.counters.samplesProcessed)",
        ])
    }

    /// Marks the daemon ready (sockets up, state loaded, metrics port listening).
    public func markReady() {
        health.setReady(true)
        metrics.ready.set(1.0)
        notifier.ready(status: "processing; ingest \(endpoints.ingest.joined(separator: ",")), publish \(endpoints.publish.joined(separator: ","))")
    }

    /// Set by `stop` when the processing loop or the adaptation worker was still busy when the
    /// shutdown budget ran out: the process must then end without running exit handlers (which
    /// would free what those threads still use); `ttad run` does that (`_exit`).
    public private(set) var threadsStillRunning = false

    /// Graceful stop: stop reading input, drain the queue, write the final checkpoint, flush the
    /// outputs, close the sockets. Bounded by `daemon.shutdown_timeout_s`. Says whether something
    /// had to be abandoned, and whether that was the state itself.
    @discardableResult
    public func stop(reason: String) -> StopOutcome {
        lifecycleLock.lock(); defer { lifecycleLock.unlock() }
        guard running, !stopped else { return .clean }
        stopped = true
        let deadline = config.daemon.shutdownTimeoutSeconds
        notifier.stopping(status: "stopping: \(reason)")
        health.setStopping(reason)
        metrics.ready.set(0.0)
        logger.info("stopping", metadata: ["reason": "\(reason)"])
        var clean = true
        var stateSaved = true
        io?.stopIngest()
        ingestQueue?.close()
        if let p = pipeline, !p.join(timeout: deadline * 0.7) {
            // The loop is inside a batch longer than the budget and still owns the predictor,
            // the preset and the counters: reading them now would race it. The last periodic
            // checkpoint stands; the process must end without touching that state.
            logger.error("processing loop still busy past the shutdown budget: final checkpoint skipped, the last periodic checkpoint stands")
            clean = false
            stateSaved = false
            threadsStillRunning = true
        } else if let p = pipeline {
            if p.workerStillRunning {
                // Its state is only read through the snapshot it leaves under its lock.
                clean = false
                threadsStillRunning = true
            }
            let (sequences, counters, drift, outliers, adaptation) = p.finalState()
            if let info = checkpointer?.write(sequences: sequences, counters: counters, drift: drift, outliers: outliers,
                                              adaptation: adaptation, reason: "shutdown") {
                logger.info("final checkpoint written", metadata: ["samples": "\(info.samplesProcessed)"])
            } else {
                clean = false
                stateSaved = false
            }
            let detail = [JSONMember("reason", .string(reason)),
                          JSONMember("samples_processed", .int(counters.samplesProcessed))]
            p.publishEvent(kind: EventKind.stopping, detail: detail)
            try? checkpointer?.store.appendEvent(StateEvent(kind: "stop", severity: .info,
                                                            detail: JSONValue.object(detail).description, at: Date()))
        }
        if let io, !io.quit(timeout: max(1, deadline * 0.2)) {
            logger.error("I/O thread did not stop in time; context shut down")
            clean = false
        }
        if threadsStillRunning {
            // The loop may be writing a periodic checkpoint: leave the store open; SQLite's WAL
            // keeps it consistent whenever the process ends.
            logger.error("a thread is still running: state store left open for the process exit")
        } else {
            do { try checkpointer?.store.close() } catch {
                logger.error("closing state store: \(error)")
                clean = false
            }
        }
        context?.terminate()
        running = false
        logger.info("stopped", metadata: ["clean": "\(clean)"])
        return !stateSaved ? .stateNotSaved : (clean ? .clean : .incomplete)
    }

    private func loadCurve() throws -> IOThread.CurveSetup? {
        guard config.curve.enabled else { return nil }
        guard ZMQContext.has("curve") else {
            throw ConfigError(key: "curve.enabled", "this libzmq was built without CURVE support")
        }
        // File errors become ConfigErrors naming the key, as in `check-config`: `ttad run` exits
        // 78 (EX_CONFIG) for them, and systemd does not restart into the same missing file.
        let cert: ZMQCertificate
        do { cert = try ZMQCertificate.load(path: config.curve.serverSecretKeyFile) } catch {
            throw ConfigError(key: "curve.server_secret_key_file", "\(error)")
        }
        guard let secret = cert.secretKey else {
            throw ConfigError(key: "curve.server_secret_key_file", "\(config.curve.serverSecretKeyFile) holds no secret-key")
        }
        let allowed: Set<[UInt8]>
        do { allowed = try ZAPAuthenticator.loadAllowList(directory: config.curve.allowedClientsDirectory) } catch {
            throw ConfigError(key: "curve.allowed_clients_directory", "\(error)")
        }
        if allowed.isEmpty {
            logger.warning("CURVE allow-list is empty: no client can connect", metadata: ["directory": "\(config.curve.allowedClientsDirectory)"])
        }
        metrics.curve.allowedClients.set(Double(allowed.count))
        return IOThread.CurveSetup(serverSecretKey: secret, allowedClientKeys: allowed)
    }

    private func startDetail(outcome: StateOpenOutcome, restored: RestoredState) -> (values: [JSONMember], json: String) {
        var v = [
            JSONMember("version", .string(Daemon.version)),
            JSONMember("mode", .string(config.daemon.mode.rawValue)),
            JSONMember("samples_processed", .int(restored.counters.samplesProcessed)),
            JSONMember("restarts", .int(restored.counters.restarts)),
        ]
        switch outcome {
        case .created: v.append(JSONMember("state", .string("created")))
        case .restored: v.append(JSONMember("state", .string("restored")))
        case .movedAside(let reason, let path):
            v.append(JSONMember("state", .string("moved_aside")))
            v.append(JSONMember("moved_aside_reason", .string(reason)))
            v.append(JSONMember("moved_aside_to", .string(path)))
        }
        return (v, JSONValue.object(v).description)
    }
}
