import Foundation
import Logging
import TTADSupport
import TTADZMQ

/// The one thread that owns every ZeroMQ socket of the daemon: ingest (SUB or PULL), output
/// (PUB), the ZAP authenticator and the receiving end of the control channel.
///
/// ZeroMQ sockets are not thread-safe and Swift concurrency may resume a task on any thread, so
/// sockets are created, used and closed only here. The rest of the daemon talks to this thread
/// through two bounded queues (ingest out, outputs in) and one-byte wake-ups on an inproc PAIR
/// socket; the flags those wake-ups announce live behind a lock.
public final class IOThread: @unchecked Sendable {
    public struct Endpoints: Sendable {
        /// The ingest socket's actual endpoints (tcp port 0 / `*` resolved).
        public var ingest: [String]
        public var publish: [String]
    }

    private let config: DaemonConfig
    private let context: ZMQContext
    private let ingestQueue: BoundedQueue<IngestItem>
    private let outputQueue: BoundedQueue<OutgoingMessage>
    private let metrics: DaemonMetrics
    private let logger: Logger
    private let curve: CurveSetup?
    private let controlEndpoint = "inproc://ttad-control-\(UUID().uuidString)"

    private let flagLock = NSLock()
    private var stopIngestRequested = false
    private var quitRequested = false
    /// A reloaded allow-list waiting for the thread (which owns the ZAP handler) to apply it.
    private var pendingAllowList: Set<[UInt8]>?
    private let allowListApplied = DispatchSemaphore(value: 0)
    private var sender: ZMQSocket?

    private var thread: Thread?
    private let started = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)
    private var startError: Error?
    public private(set) var endpoints = Endpoints(ingest: [], publish: [])
    /// Reused by the I/O thread for every flush, so publishing does not allocate a batch array.
    private var outputBatch: [OutgoingMessage] = {
        var b: [OutgoingMessage] = []
        b.reserveCapacity(256)
        return b
    }()

    public struct CurveSetup: Sendable {
        public var serverSecretKey: String
        public var allowedClientKeys: Set<[UInt8]>
    }

    public init(config: DaemonConfig, context: ZMQContext,
                ingestQueue: BoundedQueue<IngestItem>, outputQueue: BoundedQueue<OutgoingMessage>,
                metrics: DaemonMetrics, curve: CurveSetup?, logger: Logger) {
        self.config = config
        self.context = context
        self.ingestQueue = ingestQueue
        self.outputQueue = outputQueue
        self.metrics = metrics
        self.curve = curve
        self.logger = logger
    }

    /// Starts the thread and waits until every socket is bound/connected, rethrowing the first
    /// setup error (a port in use, a bad endpoint) so start-up fails loudly.
    public func start() throws {
        let t = Thread { [self] in self.main() }
        t.name = "ttad-io"
        thread = t
        t.start()
        started.wait()
        if let e = startError { throw e }
        let s = try ZMQSocket(context: context, type: .pair)
        try s.setLinger(milliseconds: 0)
        try s.connect(controlEndpoint)
        flagLock.lock(); sender = s; flagLock.unlock()
    }

    /// Wakes the thread so it looks at the output queue and its flags. Cheap and thread-safe:
    /// the PAIR socket is only used under the lock, which is the full memory barrier libzmq asks
    /// for when a socket is used by more than one thread.
    public func wake() {
        flagLock.lock()
        defer { flagLock.unlock() }
        _ = try? sender?.send([[1]], dontWait: true)
    }

    /// Stop reading input (first step of a graceful shutdown); outputs still flow.
    public func stopIngest() {
        flagLock.lock(); stopIngestRequested = true; flagLock.unlock()
        wake()
    }

    /// Hands a reloaded CURVE allow-list to the ZAP handler: later handshakes are decided by it,
    /// established connections stay up. Returns once the thread applied it (false if it did not
    /// within `timeout` seconds; it still applies it on its next turn).
    @discardableResult
    public func replaceAllowList(_ keys: Set<[UInt8]>, timeout: Double = 5) -> Bool {
        flagLock.lock(); pendingAllowList = keys; flagLock.unlock()
        wake()
        return allowListApplied.wait(timeout: .now() + timeout) == .success
    }

    /// Flush what is queued for publishing, close every socket and end the thread.
    /// Returns false if the thread did not end within `timeout` seconds.
    @discardableResult
    public func quit(timeout: Double) -> Bool {
        flagLock.lock(); quitRequested = true; flagLock.unlock()
        wake()
        let ok = finished.wait(timeout: .now() + timeout) == .success
        if !ok {
            // Wedged in a libzmq call: make every blocking call return ETERM.
            context.shutdown()
            _ = finished.wait(timeout: .now() + 1)
        }
        flagLock.lock()
        sender?.close()
        sender = nil
        flagLock.unlock()
        return ok
    }

    // MARK: - The thread

    private func main() {
        var control: ZMQSocket?
        var zap: ZAPAuthenticator?
        var ingest: ZMQSocket?
        var publish: ZMQSocket?
        let handshakes = HandshakeWatch(metrics: metrics.curve, logger: logger)
        defer {
            ingest?.close(); publish?.close(); handshakes.close(); zap?.socket.close(); control?.close()
            finished.signal()
        }
        do {
            let ctl = try ZMQSocket(context: context, type: .pair)
            try ctl.setLinger(milliseconds: 0)
            try ctl.bind(controlEndpoint)
            control = ctl
            if let curve {
                // ZAP must be listening before any CURVE server socket binds.
                zap = try ZAPAuthenticator(context: context, allowedClientKeys: curve.allowedClientKeys, domain: "ttad")
            }
            let ing = try ZMQSocket(context: context, type: config.ingest.pattern == .pull ? .pull : .sub)
            try SocketOptions.configureIngest(ing, config.ingest)
            if let curve {
                try ing.setZAPDomain("ttad")
                try ing.setCurveServer(secretKey: curve.serverSecretKey)
                try handshakes.watch(ing, as: .ingest)
            }
            if config.ingest.pattern == .sub {
                for t in config.ingest.topics { try ing.subscribe(t) }
            }
            var ingestEndpoints: [String] = []
            for e in config.ingest.endpoints {
                if config.ingest.bind { try ing.bind(e); ingestEndpoints.append(try ing.lastEndpoint) }
                else { try ing.connect(e); ingestEndpoints.append(e) }
            }
            ingest = ing
            let pub = try ZMQSocket(context: context, type: .pub)
            try SocketOptions.configurePublish(pub, config.publish)
            if let curve {
                try pub.setZAPDomain("ttad")
                try pub.setCurveServer(secretKey: curve.serverSecretKey)
                try handshakes.watch(pub, as: .publish)
            }
            var publishEndpoints: [String] = []
            for e in config.publish.endpoints {
                if config.publish.bind { try pub.bind(e); publishEndpoints.append(try pub.lastEndpoint) }
                else { try pub.connect(e); publishEndpoints.append(e) }
            }
            publish = pub
            endpoints = Endpoints(ingest: ingestEndpoints, publish: publishEndpoints)
        } catch {
            startError = error
            started.signal()
            return
        }
        started.signal()
        run(control: control!, zap: zap, handshakes: handshakes, ingest: &ingest, publish: publish!)
    }

    private func run(control: ZMQSocket, zap: ZAPAuthenticator?, handshakes: HandshakeWatch,
                     ingest: inout ZMQSocket?, publish: ZMQSocket) {
        let block = config.ingest.effectiveOverflow == .block
        let evictOldest = config.ingest.effectiveOverflow == .dropOldest
        let maxParts = 8
        let poller = ZMQPoller()
        var ctlIndex = 0, zapIndex: Int?, ingestIndex: Int?, monitorIndices: [Int] = []
        func buildPoller() {
            // Rebuilt only when the socket set changes (ingest closed); a closed socket must
            // never stay in the poll set.
            poller.removeAll()
            ctlIndex = poller.add(control, events: .readable)
            zapIndex = zap.map { poller.add($0.socket, events: .readable) }
            monitorIndices = handshakes.register(in: poller)
            ingestIndex = ingest.map { poller.add($0, events: .readable) }
        }
        buildPoller()
        while true {
            flagLock.lock()
            let stopIngest = stopIngestRequested
            let quit = quitRequested
            let allowList = pendingAllowList
            pendingAllowList = nil
            flagLock.unlock()

            if let allowList, let zap {
                do {
                    try zap.setAllowedClientKeys(allowList)
                    logger.notice("CURVE allow-list replaced", metadata: ["clients": "\(allowList.count)"])
                } catch {
                    logger.error("CURVE allow-list not replaced: \(error)")
                }
            }
            if allowList != nil { allowListApplied.signal() }

            if stopIngest, let s = ingest {
                s.close()
                ingest = nil
                buildPoller()
                logger.info("ingest closed")
            }
            flushOutputs(publish)
            if quit { return }

            if let ii = ingestIndex {
                // Under `block`, a full queue means: leave messages in ZeroMQ's queues (and let
                // producers feel it) until the processing loop makes room and wakes us.
                poller.setEvents(block && ingestQueue.isFull ? [] : .readable, at: ii)
            }
            let n: Int
            do {
                // Outputs always come with a wake-up, so the timeout only bounds how stale the
                // flags can get; it does not drive any work.
                n = try poller.poll(timeoutMilliseconds: 250)
            } catch {
                logger.error("zmq_poll failed, I/O thread stopping: \(error)")
                return
            }
            if n == 0 { continue }
            if poller.isReadable(ctlIndex) {
                while (try? control.receiveMultipart(dontWait: true)) != nil {}
            }
            if let zi = zapIndex, let z = zap, poller.isReadable(zi) {
                while let d = try? z.handleRequest() {
                    if d.allowed {
                        metrics.zapAllowed.increment()
                    } else {
                        metrics.zapDenied.increment()
                        logger.warning("CURVE client refused", metadata: ["address": "\(d.address)", "key": "\(d.clientKeyZ85 ?? "-")", "reason": "\(d.reason)"])
                    }
                }
            }
            handshakes.drain(poller, indices: monitorIndices)
            if let ii = ingestIndex, let s = ingest, poller.isReadable(ii) {
                readIngest(s, maxParts: maxParts, block: block, evictOldest: evictOldest)
            }
        }
    }

    /// Reads what is waiting, up to a fair share per wake-up so outputs and control are not
    /// starved by a flood.
    private func readIngest(_ s: ZMQSocket, maxParts: Int, block: Bool, evictOldest: Bool) {
        var read = 0
        while read < 4096 {
            if block && ingestQueue.isFull { break }
            let frames: [[UInt8]]?
            do {
                frames = try s.receiveMultipart(dontWait: true, maxParts: maxParts)
            } catch let e as ZMQTooManyPartsError {
                // Still one message: the pipeline rejects it (frame_count) with whatever context
                // the first frames carry.
                frames = e.firstParts
            } catch {
                logger.error("ingest receive failed: \(error)")
                return
            }
            guard let frames else { break }
            read += 1
            let item = IngestItem(frames: frames, receivedAtNs: DispatchTime.now().uptimeNanoseconds)
            switch ingestQueue.offer(item, evictOldest: evictOldest) {
            case .accepted: break
            case .acceptedEvictingOldest: metrics.dropped[.queueEvicted]!.increment()
            case .full: metrics.dropped[.queueFull]!.increment()
            case .closed: metrics.dropped[.shutdown]!.increment()
            }
        }
        metrics.samplesReceived.increment(by: Int64(read))
        metrics.ingestQueueDepth.set(Double(ingestQueue.count))
    }

    private func flushOutputs(_ pub: ZMQSocket) {
        var batch = outputBatch
        defer { batch.removeAll(keepingCapacity: true); outputBatch = batch }
        while true {
            batch.removeAll(keepingCapacity: true)
            _ = outputQueue.takeBatch(max: 256, timeout: 0, into: &batch)
            if batch.isEmpty { break }
            for m in batch {
                // PUB never blocks: a subscriber whose queue is full simply misses the message.
                if (try? pub.send([m.topic, m.body], dontWait: true)) == true {
                    metrics.published[m.family]!.increment()
                } else {
                    metrics.outputsDropped.increment()
                }
            }
        }
        metrics.outputQueueDepth.set(Double(outputQueue.count))
    }
}
