import Foundation
import TTADEngine
import TTADSupport

/// Live mode's adaptation thread, for any preset whose learning can run apart from its
/// prediction (`BackgroundLearning`): a prediction never waits for a step.
///
/// Hand-off: after publishing a batch the processing thread `submit`s it and never blocks: when
/// the worker is behind and its queue is full the job is not learned from, and that is counted
/// (`droppedSamples`). After every change of the learner's parameters the worker copies them into
/// a published set under a lock; the processing thread `refresh`es its predicting copy from it
/// between batches, so every batch is predicted with one consistent version and carries its
/// number.
///
/// Rounds and CPU budget: each round takes the queued jobs (up to 64) and hands them to the
/// learner, which takes at most the steps that fell due. After a round the worker sleeps so that
/// its busy time stays under `cpuBudget` of one core (1 = never sleep). So when CPU is short it
/// steps less often but still sees every sample; only if even that falls behind does its queue
/// fill, and what does not fit is dropped from adaptation, never waited for.
///
/// State: the learner belongs to the worker thread. For periodic checkpoints it leaves a
/// snapshot at most `snapshotInterval` seconds old after each round; `finish` drains the queue
/// and then `state()` takes the learner's own. `takeReport` always carries the samples waiting
/// and how long the oldest has waited, so an operator sees a worker that is not keeping up even
/// while it is stuck inside a long step.
final class LearningWorker<Learner: BackgroundLearning>: @unchecked Sendable {
    /// Owned by the worker thread between `start` and `finish`.
    let learner: Learner
    private let jobs: BoundedQueue<Learner.Job>
    let cpuBudget: Double
    let snapshotInterval: Double
    private let threadName: String

    // Shared with the processing thread; guarded by `lock`.
    private let lock = NSLock()
    private let published: [FloatBuffer]
    private var publishedVersion: Int
    private var outbox = AdaptationReport()
    private var snapshot: Learner.Snapshot?
    private var snapshotTime = 0.0
    private var finished = false
    /// Submission time (uptime, ns) and size of each queued job, oldest first: the backlog.
    private var pending: [(submitted: UInt64, samples: Int)] = []
    private var pendingSamples = 0

    private var learnedSinceSnapshot = false    // worker thread only
    private var thread: Thread?
    private let done = DispatchSemaphore(value: 0)
    /// Signalled by `finish` to cut a budget sleep short.
    private let wake = DispatchSemaphore(value: 0)

    init(learner: Learner, name: String, queueCapacity: Int = 256, cpuBudget: Double, snapshotInterval: Double = 0.5) {
        precondition(cpuBudget > 0 && cpuBudget <= 1 && queueCapacity > 0)
        self.learner = learner
        threadName = name
        jobs = BoundedQueue(capacity: queueCapacity)
        self.cpuBudget = cpuBudget
        self.snapshotInterval = snapshotInterval
        published = learner.publishedParameters.map { p in let b = FloatBuffer(count: p.count); b.copy(from: p); return b }
        publishedVersion = learner.version
        snapshot = learner.snapshot()
    }

    /// Changes the learner before the thread exists (a restore); only before `start`.
    func beforeStart(_ change: (Learner) -> Void) {
        precondition(thread == nil, "only before start")
        change(learner)
    }

    /// Starts the thread. Before this the learner may be restored from a checkpoint.
    func start() {
        lock.lock()
        for (i, p) in learner.publishedParameters.enumerated() { published[i].copy(from: p) }
        publishedVersion = learner.version
        snapshot = learner.snapshot()
        lock.unlock()
        let t = Thread { [self] in
            Self.yieldToPrediction()
            self.run()
            self.done.signal()
        }
        t.name = threadName
        t.stackSize = 4 << 20
        thread = t
        t.start()
    }

    /// The worker thread's nice value. On a box with two cores the prediction thread, the I/O
    /// thread and the worker share them, and a step that holds a core while a batch arrives
    /// delays its prediction: at equal priority the scheduler splits the time. Niced, the worker
    /// still gets a core that is idle, but gives way while the others have work.
    static var niceIncrement: Int32 { 10 }

    /// Lowers the calling thread's priority by `niceIncrement` (Linux: `setpriority` on a thread
    /// id applies to that thread alone). Raising one's own nice value needs no privilege; if the
    /// call fails anyway the worker just runs at the process's priority.
    private static func yieldToPrediction() {
        #if os(Linux)
        // Linux keeps the nice value per thread, and `who = 0` names the calling thread.
        let which = __priority_which_t(PRIO_PROCESS.rawValue)
        _ = setpriority(which, 0, getpriority(which, 0) + niceIncrement)
        #endif
    }

    /// Processing thread: hands over a predicted batch. Never blocks.
    func submit(_ job: Learner.Job) {
        let n = Learner.samples(in: job)
        guard n > 0 else { return }
        // Booked before the offer so the worker never takes a job it has no entry for.
        lock.lock()
        pending.append((DispatchTime.now().uptimeNanoseconds, n))
        pendingSamples += n
        lock.unlock()
        if jobs.offer(job, evictOldest: false) != .accepted {
            lock.lock()
            outbox.droppedSamples += n
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

    /// Processing thread: brings `parameters` (a predicting copy, laid out as the learner's
    /// `publishedParameters`) up to the newest published version if `current` is older; returns
    /// the version they now hold.
    func refresh(_ parameters: [FloatBuffer], current: Int) -> Int {
        lock.lock(); defer { lock.unlock() }
        guard publishedVersion != current else { return current }
        for (i, p) in parameters.enumerated() { p.copy(from: published[i]) }
        return publishedVersion
    }

    /// What adaptation did since the last call, with the backlog as it is now.
    func takeReport() -> AdaptationReport {
        let now = DispatchTime.now().uptimeNanoseconds
        lock.lock(); defer { lock.unlock() }
        var r = outbox
        outbox = AdaptationReport()
        r.queuedSamples = pendingSamples
        r.lagSeconds = pending.first.map { Double(now &- $0.submitted) / 1e9 } ?? 0
        return r
    }

    /// The learner's state for a checkpoint: its own once `finish` has returned (or before
    /// `start`), otherwise the snapshot the worker left after a recent round.
    func state() -> Learner.Snapshot? {
        lock.lock(); defer { lock.unlock() }
        return finished || thread == nil ? learner.snapshot() : snapshot
    }

    /// Learns from what is queued, then ends the thread. Returns false if it did not end within
    /// `timeout` seconds (what was still queued is then dropped and counted).
    @discardableResult
    func finish(timeout: Double) -> Bool {
        jobs.close()
        wake.signal()
        var ended = thread == nil || done.wait(timeout: .now() + timeout) == .success
        if !ended {
            _ = jobs.removeAll()
            lock.lock()
            outbox.droppedSamples += pendingSamples
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
        var round: [Learner.Job] = []
        while true {
            round.removeAll(keepingCapacity: true)
            // Everything queued in one round (at most 64 jobs, so parameters are published and a
            // snapshot left at least that often even when the worker is far behind).
            let alive = jobs.takeBatch(max: 64, timeout: 0.5, into: &round)
            if !round.isEmpty {
                lock.lock(); for _ in round { unbook(last: false) }; lock.unlock()
            }
            if round.isEmpty && learnedSinceSnapshot {
                // Idle: leave a snapshot of everything learned, for the next periodic checkpoint.
                let state = learner.snapshot()
                lock.lock(); snapshot = state; snapshotTime = ProcessInfo.processInfo.systemUptime; lock.unlock()
                learnedSinceSnapshot = false
            }
            if !round.isEmpty {
                let t0 = DispatchTime.now().uptimeNanoseconds
                learner.process(round)
                publish()
                let busy = Double(DispatchTime.now().uptimeNanoseconds &- t0) / 1e9
                if cpuBudget < 1, !jobs.isClosed {
                    _ = wake.wait(timeout: .now() + busy * (1 - cpuBudget) / cpuBudget)
                }
            }
            if !alive { break }
        }
    }

    /// After a round: the learner's report, its new parameters if they changed, and a snapshot
    /// when the last is older than `snapshotInterval`.
    private func publish() {
        let report = learner.takeReport()
        let now = ProcessInfo.processInfo.systemUptime
        let takeSnapshot = now - snapshotTime >= snapshotInterval
        let state = takeSnapshot ? learner.snapshot() : nil
        learnedSinceSnapshot = !takeSnapshot
        lock.lock()
        if learner.version != publishedVersion {
            for (i, p) in learner.publishedParameters.enumerated() { published[i].copy(from: p) }
            publishedVersion = learner.version
        }
        outbox.merge(report)
        if let state {
            snapshot = state
            snapshotTime = now
        }
        lock.unlock()
    }
}
