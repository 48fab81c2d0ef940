import Foundation
import TTADEngine
import TTADModel
import TTADProtocol
import TTADSupport

/// Live mode's adaptation: its own thread runs everything the `ttad` preset does besides
/// predicting — the frozen model's prediction of each sample (the reference for admission, the
/// collapse guard and the label gate), the bank, and the replay steps — so a prediction never
/// waits for a step.
///
/// Hand-off: after publishing a batch the processing thread `submit`s it (payloads are
/// references, nothing is copied) and never blocks: when the worker is behind and its queue is
/// full the batch is not observed, and that is counted (`droppedSamples`). After every step or
/// reset the worker copies the new LayerNorm affines into a published set under a lock; the
/// processing thread `refresh`es its prediction learner from it between batches (a few thousand
/// floats), so every batch is predicted with one consistent version and carries its number.
///
/// Rounds and CPU budget: each round takes the queued batches (up to 64), runs the source model on them in
/// chunks of up to 32, observes every sample, and then takes at most one step (if due). After a
/// round the worker sleeps so that its busy time stays under `cpuBudget` of one core (1 = never
/// sleep). So when CPU is short it steps less often than `update_every_samples` but still
/// observes every sample; only if even that falls behind does its queue (256 batches) fill, and
/// what does not fit is dropped from adaptation, never waited for.
///
/// State: the adapter (bank, optimizer, guard, gate) belongs to the worker thread. For periodic
/// checkpoints it leaves a snapshot at most `snapshotInterval` seconds old after each batch;
/// `finish` drains the queue and hands back the adapter itself for the final checkpoint.
/// Backlog: `takeReport` always carries the samples waiting and how long the oldest has waited
/// (`ttad_adaptation_lag_seconds`), so an operator sees a worker that is not keeping up even while
/// it is stuck inside a long step and reports nothing else.
final class AdaptationWorker: @unchecked Sendable {
    struct Job: Sendable {
        var payloads: [[UInt8]]
        var encodings: [SampleEncoding]
        var shapes: [[Int]?]
        var results: [ClassificationResult]
        var outliers: [Bool]
        var count: Int { results.count }
    }

    private let adapter: AnchoredNormAdapter
    private let replay: ReplayDecoder
    private let frozenClassifier: EmbeddingClassifier
    private let pixels: FloatBuffer
    private let frozenFeatures: FloatBuffer
    private var frozenResults: [ClassificationResult] = []
    /// Samples per batched source-model forward (bounds the worker's pixel buffer).
    private let chunkRows: Int
    private let jobs: BoundedQueue<Job>
    let cpuBudget: Double
    let snapshotInterval: Double

    // Shared with the processing thread; guarded by `lock`.
    private let lock = NSLock()
    private let published: [FloatBuffer]
    private var publishedVersion: Int
    private var outbox = AdaptationReport()
    private var snapshot: AnchoredNormAdapter.State?
    private var snapshotTime = 0.0
    private var finished = false
    /// Submission time (uptime, ns) and size of each queued job, oldest first: the backlog.
    private var pending: [(submitted: UInt64, samples: Int)] = []
    private var pendingSamples = 0

    private var observedSinceSnapshot = false    // worker thread only
    private var thread: Thread?
    private let done = DispatchSemaphore(value: 0)
    /// Signalled by `finish` to cut a budget sleep short.
    private let wake = DispatchSemaphore(value: 0)

    init(adapter: AnchoredNormAdapter, classes: ClassEmbeddings, logitScale: Float, maxBatch: Int, decodeLimits: ImageDecodeLimits,
         preprocessing: ImagePreprocessorConfig, queueCapacity: Int = 256, cpuBudget: Double, snapshotInterval: Double = 0.5) {
        precondition(cpuBudget > 0 && cpuBudget <= 1 && maxBatch > 0 && queueCapacity > 0)
        self.adapter = adapter
        replay = ReplayDecoder(limits: decodeLimits, preprocessing: preprocessing)
        frozenClassifier = EmbeddingClassifier(classes: classes, logitScale: logitScale, topK: 1, maxBatch: min(maxBatch, 32))
        chunkRows = min(maxBatch, 32)
        pixels = FloatBuffer(count: chunkRows * adapter.learner.imageFloatCount)
        frozenFeatures = FloatBuffer(count: chunkRows * adapter.learner.config.projectionDim)
        jobs = BoundedQueue(capacity: queueCapacity)
        self.cpuBudget = cpuBudget
        self.snapshotInterval = snapshotInterval
        published = adapter.learner.trainer.layerNorms.map { q in let b = FloatBuffer(count: q.value.count); b.copy(from: q.value); return b }
        publishedVersion = adapter.version
        snapshot = adapter.state()
    }

    /// Continues from a checkpoint; only before `start`. Returns why not when it does not fit.
    func restore(_ s: AnchoredNormAdapter.State) -> String? {
        precondition(thread == nil, "restore before start")
        return adapter.restore(s)
    }

    /// Starts the thread. Before this the adapter may be restored from a checkpoint.
    func start() {
        lock.lock()
        for (i, q) in adapter.learner.trainer.layerNorms.enumerated() { published[i].copy(from: q.value) }
        publishedVersion = adapter.version
        snapshot = adapter.state()
        lock.unlock()
        let t = Thread { [self] in
            self.run()
            self.done.signal()
        }
        t.name = "ttad-adaptation"
        t.stackSize = 4 << 20
        thread = t
        t.start()
    }

    /// Processing thread: hands over a predicted batch. Never blocks.
    func submit(_ job: Job) {
        guard job.count > 0 else { return }
        // Booked before the offer so the worker never takes a job it has no entry for.
        lock.lock()
        pending.append((DispatchTime.now().uptimeNanoseconds, job.count))
        pendingSamples += job.count
        lock.unlock()
        if jobs.offer(job, evictOldest: false) != .accepted {
            lock.lock()
            outbox.droppedSamples += job.count
            unbook(last: true)
            lock.unlock()
        }
    }

    /// Removes one job from the backlog (the newest: a refused offer; the oldest: a taken job).
    /// Under `lock`.
    private func unbook(last: Bool) {
        guard let e = last ? pending.popLast() : pending.first else { return }
        if !last { pending.removeFirst() }
        pendingSamples -= e.samples
    }

    /// Processing thread: brings `learner`'s affines up to the newest published version if
    /// `current` is older; returns the version `learner` now holds.
    func refresh(_ learner: VisionNormLearner, current: Int) -> Int {
        lock.lock(); defer { lock.unlock() }
        guard publishedVersion != current else { return current }
        for (i, q) in learner.trainer.layerNorms.enumerated() { q.value.copy(from: published[i]) }
        return publishedVersion
    }

    /// What adaptation did since the last call, with the backlog as it is now.
    func takeReport() -> AdaptationReport? {
        let now = DispatchTime.now().uptimeNanoseconds
        lock.lock(); defer { lock.unlock() }
        var r = outbox
        outbox = AdaptationReport()
        r.queuedSamples = pendingSamples
        r.lagSeconds = pending.first.map { Double(now &- $0.submitted) / 1e9 } ?? 0
        return r
    }

    /// The adaptation state for a checkpoint: the adapter's own once `finish` has returned,
    /// otherwise the snapshot the worker left after a recent batch.
    func state() -> AnchoredNormAdapter.State? {
        lock.lock(); defer { lock.unlock() }
        return finished ? adapter.state() : snapshot
    }

    /// Processes what is queued, then ends the thread. Returns false if it did not end within
    /// `timeout` seconds (what was still queued is then dropped and counted).
    @discardableResult
    func finish(timeout: Double) -> Bool {
        jobs.close()
        wake.signal()
        var ended = thread == nil || done.wait(timeout: .now() + timeout) == .success
        if !ended {
            let left = jobs.removeAll()
            lock.lock()
            outbox.droppedSamples += left
            pending.removeAll()
            pendingSamples = 0
            lock.unlock()
            ended = done.wait(timeout: .now() + 5) == .success
        }
        if ended { lock.lock(); finished = true; lock.unlock() }
        return ended
    }

    // MARK: - Worker thread

    private func run() {
        var round: [Job] = []
        while true {
            round.removeAll(keepingCapacity: true)
            // Everything queued in one round: the source model's forward is batched across
            // jobs, and a round takes at most one step, so when the worker is short of CPU it
            // steps less often rather than observing less.
            // At most 64 batches, so the affines are published and a snapshot left at least that
            // often even when the worker is far behind.
            let alive = jobs.takeBatch(max: 64, timeout: 0.5, into: &round)
            if !round.isEmpty {
                lock.lock(); for _ in round { unbook(last: false) }; lock.unlock()
            }
            if round.isEmpty && observedSinceSnapshot {
                // Idle: leave a snapshot of everything observed, for the next periodic checkpoint.
                let state = adapter.state()
                lock.lock(); snapshot = state; snapshotTime = ProcessInfo.processInfo.systemUptime; lock.unlock()
                observedSinceSnapshot = false
            }
            if !round.isEmpty {
                let t0 = DispatchTime.now().uptimeNanoseconds
                process(round)
                let busy = Double(DispatchTime.now().uptimeNanoseconds &- t0) / 1e9
                if cpuBudget < 1, !jobs.isClosed {
                    _ = wake.wait(timeout: .now() + busy * (1 - cpuBudget) / cpuBudget)
                }
            }
            if !alive { break }
        }
    }

    private func process(_ round: [Job]) {
        let n = adapter.learner.imageFloatCount, p = adapter.learner.config.projectionDim
        // (job, sample) pairs of the current chunk.
        var chunk: [(job: Int, sample: Int)] = []
        chunk.reserveCapacity(chunkRows)
        func observeChunk() {
            guard !chunk.isEmpty else { return }
            var decoded = [Bool](repeating: false, count: chunk.count)
            for (r, at) in chunk.enumerated() {
                let job = round[at.job], i = at.sample
                decoded[r] = job.payloads[i].withUnsafeBytes {
                    replay.preprocess($0, encoding: job.encodings[i], shape: job.shapes[i],
                                      into: UnsafeMutableBufferPointer(start: pixels.pointer + r * n, count: n))
                }
                if !decoded[r] { (pixels.pointer + r * n).update(repeating: 0, count: n) }
            }
            adapter.learner.encodeFrozen(images: pixels.pointer, batch: chunk.count, features: frozenFeatures.pointer)
            frozenClassifier.classify(batch: UnsafeBufferPointer(start: frozenFeatures.pointer, count: chunk.count * p),
                                      count: chunk.count, results: &frozenResults)
            for (r, at) in chunk.enumerated() where decoded[r] {
                let job = round[at.job], i = at.sample
                let sample = { BankSample(encoding: job.encodings[i].rawValue, shape: job.shapes[i], bytes: Data(job.payloads[i])) }
                _ = adapter.observe(sample: sample, result: job.results[i], frozenClass: frozenResults[r].predicted,
                                    isOutlier: job.outliers[i])
            }
            chunk.removeAll(keepingCapacity: true)
        }
        for (j, job) in round.enumerated() {
            for i in 0..<job.count {
                chunk.append((j, i))
                if chunk.count == chunkRows { observeChunk() }
            }
        }
        observeChunk()
        if adapter.stepDue { _ = adapter.step { item, out in self.replay.preprocess(item, into: out) } }

        let report = adapter.takeReport()
        let now = ProcessInfo.processInfo.systemUptime
        let takeSnapshot = now - snapshotTime >= snapshotInterval
        let state = takeSnapshot ? adapter.state() : nil
        observedSinceSnapshot = !takeSnapshot
        lock.lock()
        if adapter.version != publishedVersion {
            for (i, q) in adapter.learner.trainer.layerNorms.enumerated() { published[i].copy(from: q.value) }
            publishedVersion = adapter.version
        }
        outbox.merge(report)
        if let state {
            snapshot = state
            snapshotTime = now
        }
        lock.unlock()
    }
}
