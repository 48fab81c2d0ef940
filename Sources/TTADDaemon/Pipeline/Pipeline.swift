import Foundation
import Logging
import TTADAdaptation
import TTADModel
import TTADPresets
import TTADProtocol
import TTADSupport

/// The processing loop: takes batches of raw messages from the ingest queue, validates them,
/// predicts, and queues predictions, errors and events for the I/O thread to publish.
///
/// It runs on its own thread (CPU-bound BLAS work does not belong on Swift's cooperative pool)
/// and is the only owner of the classifier, the sequence tracker and the counters, so none of
/// them needs a lock. It beats the health state and the systemd watchdog every round, busy or
/// idle, so a wedged loop is what gets the service restarted.
public final class Pipeline: @unchecked Sendable {
    private let config: DaemonConfig
    private let predictor: any Predictor
    /// The adapted states (one in global scope); the predictor's preset is set to the batch's.
    private let states: PresetStates
    private let stateMetrics: StateMetrics?
    private let decoder: SampleDecoder
    private let ingestQueue: BoundedQueue<IngestItem>
    private let outputQueue: BoundedQueue<OutgoingMessage>
    private let wakeIO: @Sendable () -> Void
    private let metrics: DaemonMetrics
    private let health: HealthState
    private let notifier: SystemdNotifier
    private let checkpointer: Checkpointer
    private let logger: Logger
    private var outputs: OutputBuilder
    private var gapEvents = GapEventLimiter(interval: 1)
    private var drift: DriftReporters?
    private var outliers: OutlierFlagger

    /// State the loop owns; read by `snapshot()` only after the thread has ended.
    private(set) var sequences: SequenceTracker
    private(set) var counters: ProcessingCounters

    private var thread: Thread?
    private let finished = DispatchSemaphore(value: 0)
    private let stopLock = NSLock()
    private var abandon = false

    init(config: DaemonConfig, predictor: any Predictor, states: PresetStates, drift: DriftReporters?, outliers: OutlierFlagger,
         ingestQueue: BoundedQueue<IngestItem>, outputQueue: BoundedQueue<OutgoingMessage>,
         wakeIO: @escaping @Sendable () -> Void, metrics: DaemonMetrics, health: HealthState,
         notifier: SystemdNotifier, checkpointer: Checkpointer, restored: RestoredState, logger: Logger) {
        self.config = config
        self.predictor = predictor
        self.states = states
        stateMetrics = states.section.scope == .stream ? metrics.states : nil
        self.drift = drift
        self.outliers = outliers
        self.decoder = SampleDecoder(limits: config.protocolLimits.decoderLimits(embeddingDimension: predictor.embeddingDimension))
        self.ingestQueue = ingestQueue
        self.outputQueue = outputQueue
        self.wakeIO = wakeIO
        self.metrics = metrics
        self.health = health
        self.notifier = notifier
        self.checkpointer = checkpointer
        self.sequences = restored.sequences
        self.counters = restored.counters
        self.outputs = OutputBuilder(classNames: predictor.classNames)
        self.logger = logger
    }

    public func start() {
        states.start()
        let t = Thread { [self] in
            self.run()
            self.finished.signal()
        }
        t.name = "ttad-pipeline"
        t.stackSize = 4 << 20
        thread = t
        t.start()
    }

    /// Set by the loop as it ends when the preset's worker thread was still busy past its share
    /// of the budget; read only after `join` returned true.
    public private(set) var workerStillRunning = false

    /// Ends the loop after the ingest queue (already closed by the caller) is drained, or
    /// abandons what is left once `timeout` passes. Returns false if the thread did not end.
    @discardableResult
    public func join(timeout: Double) -> Bool {
        if finished.wait(timeout: .now() + timeout) == .success { return true }
        stopLock.lock(); abandon = true; stopLock.unlock()
        return finished.wait(timeout: .now() + 2) == .success
    }

    // MARK: - Loop

    private func run() {
        // Deterministic mode: one sample at a time, so no result depends on batch composition.
        let maxBatch = config.daemon.deterministic ? 1 : config.classifier.maxBatch
        var items: [IngestItem] = []
        items.reserveCapacity(maxBatch)
        var accepted: [SampleHeader] = []
        accepted.reserveCapacity(maxBatch)
        var arrivals: [UInt64] = []
        arrivals.reserveCapacity(maxBatch)
        var flagged: [Bool] = []
        flagged.reserveCapacity(maxBatch)
        var lastCheckpoint = ProcessInfo.processInfo.systemUptime
        let startedAt = lastCheckpoint
        var lastHeartbeat = startedAt
        var sinceCheckpoint = 0

        while true {
            items.removeAll(keepingCapacity: true)
            let alive = ingestQueue.takeBatch(max: maxBatch, timeout: 0.25, into: &items)
            let now = ProcessInfo.processInfo.systemUptime
            health.beat()
            notifier.watchdog(now: now)
            stopLock.lock(); let giveUp = abandon; stopLock.unlock()
            if giveUp {
                let left = ingestQueue.removeAll() + items.count
                counters.drop(.shutdown, Int64(left))
                metrics.dropped[.shutdown]!.increment(by: Int64(left))
                break
            }
            if !items.isEmpty {
                let t0 = DispatchTime.now().uptimeNanoseconds
                var processed = 0
                if states.section.scope == .global {
                    predictor.beginBatch()
                    accepted.removeAll(keepingCapacity: true)
                    arrivals.removeAll(keepingCapacity: true)
                    for item in items {
                        if let header = validate(item), append(item, header) {
                            accepted.append(header)
                            arrivals.append(item.receivedAtNs)
                        }
                    }
                    processed += predictAndLearn(accepted, arrivals: arrivals, state: StateScopeSection.globalName, flagged: &flagged)
                } else {
                    // One batch per state, in the order the states first appear: each is predicted
                    // with and learns into its own state; a stream's samples keep their order.
                    var groups: [(name: String, samples: [(IngestItem, SampleHeader)])] = []
                    for item in items {
                        guard let header = validate(item) else { continue }
                        let name = states.section.stateName(forStream: header.stream)
                        if let g = groups.firstIndex(where: { $0.name == name }) {
                            groups[g].samples.append((item, header))
                        } else {
                            groups.append((name, [(item, header)]))
                        }
                    }
                    for g in groups {
                        usePreset(ofState: g.name)
                        predictor.beginBatch()
                        accepted.removeAll(keepingCapacity: true)
                        arrivals.removeAll(keepingCapacity: true)
                        for (item, header) in g.samples where append(item, header) {
                            accepted.append(header)
                            arrivals.append(item.receivedAtNs)
                        }
                        processed += predictAndLearn(accepted, arrivals: arrivals, state: g.name, flagged: &flagged)
                    }
                }
                counters.samplesProcessed += Int64(processed)
                sinceCheckpoint += processed
                metrics.samplesProcessed.increment(by: Int64(processed))
                metrics.batchSize.record(Double(items.count))
                metrics.batchDuration.record(Double(DispatchTime.now().uptimeNanoseconds &- t0) / 1e9)
                metrics.ingestQueueDepth.set(Double(ingestQueue.count))
            }
            // Live mode: steps and resets the worker finished while no sample came in.
            if items.isEmpty { reportAdaptation() }
            for e in gapEvents.due(now: now) { enqueue(outputs.event(e)) }
            if config.publish.heartbeatSeconds > 0, now - lastHeartbeat >= config.publish.heartbeatSeconds {
                enqueue(outputs.event(EventRecord(kind: EventKind.heartbeat, tsS: Date().timeIntervalSince1970, detail: [
                    JSONMember("samples_processed", .int(counters.samplesProcessed)),
                    JSONMember("uptime_s", .double(((now - startedAt) * 1000).rounded() / 1000)),
                ])))
                wakeIO()
                lastHeartbeat = now
            }
            if !items.isEmpty { wakeIO() }
            if sinceCheckpoint >= config.state.checkpointEverySamples
                || (sinceCheckpoint > 0 && now - lastCheckpoint >= config.state.checkpointEverySeconds) {
                checkpoint(reason: "periodic")
                lastCheckpoint = now
                sinceCheckpoint = 0
            }
            if !alive { break }
        }
        // Gaps still held by the limiter are published, not lost with the loop.
        for e in gapEvents.flushAll() { enqueue(outputs.event(e)) }
        // A share of the shutdown budget: what the worker has not observed by then is counted as
        // dropped, and the final checkpoint takes its last snapshot instead.
        if !states.finish(timeout: config.daemon.shutdownTimeoutSeconds * 0.25) {
            logger.error("adaptation worker did not finish in time")
            workerStillRunning = true
        }
        reportAdaptation()
    }

    /// Predicts the batch the predictor holds (`accepted`, in order), publishes the predictions
    /// and hands the batch to the preset's learning; returns how many were predicted.
    private func predictAndLearn(_ accepted: [SampleHeader], arrivals: [UInt64], state: String, flagged: inout [Bool]) -> Int {
        let results = predictor.finishBatch()
        let done = DispatchTime.now().uptimeNanoseconds
        let version = predictor.preset.version
        flagged.removeAll(keepingCapacity: true)
        for i in 0..<accepted.count {
            let latency = Double(done &- arrivals[i]) / 1e9
            let outlier = outliers.flag(score: OutputBuilder.outlierScore(results[i]), metrics: metrics)
            flagged.append(outlier)
            let msg = outputs.prediction(header: accepted[i], result: results[i], outlier: outlier,
                                         promptVersion: version, latencySeconds: latency)
            enqueue(msg)
            metrics.sampleLatency.record(latency)
            if let record = drift?.observe(state: state, results[i], features: predictor.features(at: i)) {
                enqueue(outputs.drift(record))
            }
        }
        predictor.adaptAfterBatch(outliers: flagged)
        if predictor.preset.reportsAdaptation { reportAdaptation() } else { metrics.promptVersion.set(Double(version)) }
        return accepted.count
    }

    /// Points the predictor at `name`'s state, activating it (a state that cannot be built, which
    /// the start-up build of the same preset makes unlikely, predicts with the source model).
    private func usePreset(ofState name: String) {
        do {
            predictor.preset = try states.preset(named: name)
        } catch {
            logger.error("adaptation state could not be built; its samples are predicted by the source model",
                         metadata: ["state": "\(name)", "error": "\(error)"])
            predictor.preset = FrozenPreset()
        }
        for r in states.takeRefusals() {
            logger.notice("adaptation state starts from the source model", metadata: ["state": "\(r.name)", "reason": "\(r.reason)"])
        }
        stateMetrics?.update(states)
    }

    /// Decodes and checks one raw message; returns its header, or nil after publishing and
    /// counting the rejection.
    private func validate(_ item: IngestItem) -> SampleHeader? {
        let f = item.frames
        guard f.count == 3 else {
            // Let the decoder word the rejection (and recover what context it can).
            if case .failure(let r) = decoder.decode(frames: f) { reject(r) }
            return nil
        }
        // Payload values are checked while they are copied into the batch (readEmbedding), so
        // the decoder skips that scan here.
        switch decoder.decode(topic: f[0], header: f[1], payload: f[2], validatePayloadContents: false) {
        case .failure(let r):
            if let s = r.stream, let q = r.seq { track(stream: s, seq: q) }
            reject(r)
            return nil
        case .success(let header):
            track(stream: header.stream, seq: header.seq)
            guard predictor.accepts(header.encoding) else {
                let need = header.encoding == .f32Embedding ? "embedding" : "image"
                reject(Rejection(reason: .unsupportedEncoding,
                                 detail: "encoding \"\(header.encoding.rawValue)\" needs \(need) mode; this daemon runs in \(config.daemon.mode.rawValue) mode",
                                 header: header))
                return nil
            }
            return header
        }
    }

    /// Copies a validated sample into the predictor's batch; false after publishing and counting
    /// the rejection (a payload that does not decode).
    private func append(_ item: IngestItem, _ header: SampleHeader) -> Bool {
        if let r = predictor.append(payload: item.frames[2], header: header, decoder: decoder) {
            reject(r)
            return false
        }
        return true
    }

    private func track(stream: String, seq: UInt64) {
        let last = sequences.lastSeq(stream: stream)
        switch sequences.observe(stream: stream, seq: seq) {
        case .gap(let missing):
            counters.sequenceMissing += Int64(missing)
            metrics.sequenceMissing.increment(by: Int64(missing))
            gapEvents.note(stream: stream, lastSeq: last ?? 0, seq: seq, missing: missing)
        case .duplicateOrReordered:
            metrics.outOfOrder.increment()
        case .restart:
            metrics.sequenceRestarts.increment()
            // A held gap belongs before the restart: a coalesced span never crosses one.
            if let held = gapEvents.flush(stream: stream, now: ProcessInfo.processInfo.systemUptime) {
                enqueue(outputs.event(held))
            }
            enqueue(outputs.event(EventRecord.restart(stream: stream, lastSeq: last ?? 0, tsS: Date().timeIntervalSince1970)))
        case .first, .inOrder:
            break
        }
    }

    private func reject(_ r: Rejection) {
        counters.reject(r.reason)
        metrics.rejected[r.reason]!.increment()
        enqueue(outputs.error(r))
    }

    private func enqueue(_ m: OutgoingMessage) {
        var result = outputQueue.offer(m, evictOldest: false)
        if result == .full && config.daemon.deterministic {
            // Lossless: let the I/O thread publish what is queued and wait for room. The wait is
            // bounded so a wedged I/O thread still ends in a counted drop, not a hung loop.
            wakeIO()
            result = outputQueue.offerWaiting(m, timeout: 10)
        }
        if result != .accepted {
            metrics.outputsDropped.increment()
        }
    }

    /// Publishes an event. Only while the loop is not running (before `start`, after `join`):
    /// the encoder belongs to the loop.
    func publishEvent(kind: String, detail: [JSONMember]) {
        enqueue(outputs.event(EventRecord(kind: kind, tsS: Date().timeIntervalSince1970, detail: detail)))
        wakeIO()
    }

    /// Turns what adaptation did into metrics, and every collapse reset into a log line and an
    /// `event`.
    /// Every state's report since the last call.
    private func reportAdaptation() {
        let reports = states.takeReports()
        for (name, r) in reports { report(r, state: name) }
        // Several states' workers: the backlog gauges are the sum and the worst of theirs, not
        // whichever reported last.
        if reports.count > 1 {
            let queued = reports.compactMap(\.report.queuedSamples)
            if !queued.isEmpty { metrics.adaptationQueuedSamples.set(Double(queued.reduce(0, +))) }
            if let lag = reports.compactMap(\.report.lagSeconds).max() { metrics.adaptationLagSeconds.set(lag) }
        }
    }

    private func report(_ r: AdaptationReport, state: String) {
        stateMetrics?.record(r, state: state)
        if !r.stepSeconds.isEmpty {
            metrics.adaptationSteps.increment(by: Int64(r.stepSeconds.count))
            for t in r.stepSeconds { metrics.adaptationStepDuration.record(t) }
        }
        if let loss = r.lastLoss { metrics.adaptationLoss.set(Double(loss)) }
        if let n = r.bankItems { metrics.adaptationBankItems.set(Double(n)) }
        if let d = r.distanceFromSource { metrics.adaptationDistance.set(Double(d)) }
        if let v = r.version { metrics.promptVersion.set(Double(v)) }
        if let x = r.labelCorrelation { metrics.adaptationLabelCorrelation.set(x) }
        if r.pausedSamples > 0 { metrics.adaptationPausedSamples.increment(by: Int64(r.pausedSamples)) }
        if r.warmupSamples > 0 { metrics.adaptationWarmupSamples.increment(by: Int64(r.warmupSamples)) }
        if r.gateClosures > 0 { metrics.adaptationGateClosures.increment(by: Int64(r.gateClosures)) }
        if r.droppedSamples > 0 { metrics.adaptationDroppedSamples.increment(by: Int64(r.droppedSamples)) }
        if r.observedSamples > 0 { metrics.adaptationObservedSamples.increment(by: Int64(r.observedSamples)) }
        if let n = r.queuedSamples { metrics.adaptationQueuedSamples.set(Double(n)) }
        if let t = r.lagSeconds { metrics.adaptationLagSeconds.set(t) }
        let resets = r.resets
        for r in resets {
            let d = r.decision
            metrics.adaptationResets[d.reason]?.increment()
            logger.warning("adaptation reset to the source", metadata: [
                "reason": "\(d.reason.label)", "value": "\(d.value)", "threshold": "\(d.threshold)", "sample": "\(d.sample)"])
            var detail = [JSONMember("reason", .string(d.reason.label)), JSONMember("value", .double(d.value)),
                          JSONMember("threshold", .double(d.threshold)), JSONMember("prompt_version", .int(Int64(r.version)))]
            if stateMetrics != nil { detail.append(JSONMember("state", .string(state))) }
            enqueue(outputs.event(EventRecord(kind: EventKind.reset, tsS: Date().timeIntervalSince1970, detail: detail)))
        }
    }

    private func checkpoint(reason: String) {
        guard let info = checkpointer.write(sequences: sequences, counters: counters, drift: drift?.saved ?? .global(nil),
                                            outliers: outliers.calibrator, adaptation: savedAdaptation(),
                                            reason: reason) else { return }
        enqueue(outputs.event(EventRecord(kind: EventKind.checkpoint, tsS: Date().timeIntervalSince1970, detail: [
            JSONMember("id", .int(info.id)), JSONMember("reason", .string(info.reason)),
            JSONMember("samples_processed", .int(info.samplesProcessed)), JSONMember("bytes", .int(Int64(info.bytes))),
            JSONMember("prompt_version", .int(info.promptVersion)),
        ])))
    }

    /// The loop's final state; call only after `join` returned true.
    func finalState() -> (SequenceTracker, ProcessingCounters, SavedDrift, ThresholdCalibrator?, SavedAdaptation) {
        (sequences, counters, drift?.saved ?? .global(nil), outliers.calibrator, savedAdaptation())
    }

    private func savedAdaptation() -> SavedAdaptation {
        if states.section.scope == .global { return .global(states.liveStates.first?.preset.checkpoint()) }
        return .streams(states.checkpoint())
    }
}
