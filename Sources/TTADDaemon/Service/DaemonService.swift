import Foundation
import Logging
import ServiceLifecycle
import UnixSignals

/// Runs a `Daemon` as a swift-service-lifecycle service: start, wait for a graceful-shutdown
/// signal (SIGTERM/SIGINT via the ServiceGroup), then stop it with its drain and final
/// checkpoint. SIGHUP in between reloads the CURVE allow-list.
///
/// Start and stop block (model loading, thread joins), so they run on a dedicated thread rather
/// than tying up a cooperative-pool thread.
public struct DaemonService: Service {
    public let daemon: Daemon
    private let started: @Sendable () -> Void

    public init(daemon: Daemon, onStarted: @escaping @Sendable () -> Void = {}) {
        self.daemon = daemon
        self.started = onStarted
    }

    public func run() async throws {
        let daemon = self.daemon
        // Trapped before `start` announces readiness (READY=1): a reload sent right after it
        // would otherwise arrive while SIGHUP is still ignored and be lost. One sent during start
        // waits in the sequence and reloads once the daemon runs.
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        try await offload { try daemon.start() }
        started()
        let signal = Latch()
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                // SIGHUP reloads the CURVE allow-list (`systemctl reload`, ExecReload) instead of
                // ending the process, which is SIGHUP's default action.
                group.addTask {
                    for await _ in hangups {
                        _ = await offload { daemon.reloadAllowList() }
                    }
                }
                await signal.wait()
                group.cancelAll()
            }
        } onGracefulShutdown: {
            signal.open()
        }
        let outcome = await offload { daemon.stop(reason: "graceful shutdown signal") }
        if outcome != .clean {
            throw DaemonStopError(outcome: outcome, threadsStillRunning: daemon.threadsStillRunning)
        }
    }
}

/// A graceful stop that did not end clean; `ttad run` turns the outcome into its exit status.
public struct DaemonStopError: Error, CustomStringConvertible {
    public let outcome: StopOutcome
    /// A thread was still busy when the budget ran out: the process must end at once, without
    /// exit handlers.
    public var threadsStillRunning = false

    public init(outcome: StopOutcome, threadsStillRunning: Bool = false) {
        self.outcome = outcome
        self.threadsStillRunning = threadsStillRunning
    }

    public var description: String {
        let busy = threadsStillRunning ? "; a thread was still busy past daemon.shutdown_timeout_s" : ""
        switch outcome {
        case .clean: return "shutdown was clean"
        case .stateNotSaved: return "the final checkpoint could not be written\(busy): state since the last successful checkpoint is lost (see the log)"
        case .incomplete: return "shutdown was not clean\(busy) (see the log)"
        }
    }
}

/// A one-shot gate: `wait` suspends until `open` has been called (before or after).
final class Latch: @unchecked Sendable {
    private let lock = NSLock()
    private var isOpen = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func open() {
        lock.lock()
        isOpen = true
        let w = waiters
        waiters = []
        lock.unlock()
        for c in w { c.resume() }
    }

    func wait() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            lock.lock()
            if isOpen { lock.unlock(); c.resume(); return }
            waiters.append(c)
            lock.unlock()
        }
    }
}

/// Runs blocking work on its own thread and resumes the caller when it is done.
func offload<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { c in
        let t = Thread { c.resume(with: Result { try work() }) }
        t.name = "ttad-lifecycle"
        t.start()
    }
}

func offload<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { c in
        let t = Thread { c.resume(returning: work()) }
        t.name = "ttad-lifecycle"
        t.start()
    }
}
