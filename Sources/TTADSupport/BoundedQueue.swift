import Foundation

/// A bounded FIFO between exactly two threads, with the overflow policies the daemon documents.
///
/// The I/O thread offers, the processing thread takes batches. Under `.block` a full queue refuses
/// the item and the I/O thread stops reading its sockets until `takeBatch` frees room and calls
/// `onRoom` (which wakes the I/O thread); ZeroMQ's own queues then fill and PUSH producers block.
/// Locks are held only for the ring-buffer bookkeeping, never across a syscall.
public final class BoundedQueue<Element>: @unchecked Sendable {
    public enum OfferResult: Equatable {
        case accepted
        /// Accepted after evicting the oldest element (drop_oldest).
        case acceptedEvictingOldest
        /// Not accepted: the queue is full (drop_newest counts it, block retries later).
        case full
        case closed
    }

    public let capacity: Int
    private var ring: [Element?]
    private var head = 0
    private var count_ = 0
    private var closed = false
    private let condition = NSCondition()
    /// Called (outside the lock) when a take makes room in a queue that was full.
    public var onRoom: (@Sendable () -> Void)?

    public init(capacity: Int) {
        precondition(capacity > 0)
        self.capacity = capacity
        ring = Array(repeating: nil, count: capacity)
    }

    public var count: Int {
        condition.lock(); defer { condition.unlock() }
        return count_
    }

    public var isClosed: Bool {
        condition.lock(); defer { condition.unlock() }
        return closed
    }

    public var isFull: Bool {
        condition.lock(); defer { condition.unlock() }
        return count_ == capacity
    }

    public func offer(_ e: Element, evictOldest: Bool) -> OfferResult {
        condition.lock()
        defer { condition.unlock() }
        if closed { return .closed }
        var result = OfferResult.accepted
        if count_ == capacity {
            guard evictOldest else { return .full }
            ring[head] = nil
            head = (head + 1) % capacity
            count_ -= 1
            result = .acceptedEvictingOldest
        }
        ring[(head + count_) % capacity] = e
        count_ += 1
        if count_ == 1 { condition.signal() }
        return result
    }

    /// Waits up to `timeout` seconds for room, then appends: the lossless path of deterministic
    /// mode, where an output must never be dropped. Returns `.full` if no room came in time.
    public func offerWaiting(_ e: Element, timeout: Double) -> OfferResult {
        condition.lock()
        defer { condition.unlock() }
        let deadline = Date(timeIntervalSinceNow: timeout)
        while count_ == capacity && !closed {
            if !condition.wait(until: deadline) { break }
        }
        if closed { return .closed }
        if count_ == capacity { return .full }
        ring[(head + count_) % capacity] = e
        count_ += 1
        if count_ == 1 { condition.signal() }
        return .accepted
    }

    /// Appends up to `max` elements to `into`, waiting up to `timeout` seconds for the first.
    /// Returns false once the queue is closed *and* empty: the consumer's signal to finish.
    public func takeBatch(max: Int, timeout: Double, into out: inout [Element]) -> Bool {
        condition.lock()
        if count_ == 0 && !closed {
            _ = condition.wait(until: Date(timeIntervalSinceNow: timeout))
        }
        let wasFull = count_ == capacity
        let n = Swift.min(max, count_)
        for _ in 0..<n {
            out.append(ring[head].unsafelyUnwrapped)
            ring[head] = nil
            head = (head + 1) % capacity
        }
        count_ -= n
        let alive = !(closed && count_ == 0 && n == 0)
        if wasFull && n > 0 { condition.broadcast() }    // a producer in offerWaiting
        condition.unlock()
        if wasFull && n > 0 { onRoom?() }
        return alive
    }

    /// No more offers are accepted; takers drain what is left.
    public func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }

    /// Removes everything (used when shutdown must not wait for a drain).
    public func removeAll() -> Int {
        condition.lock(); defer { condition.unlock() }
        let n = count_
        for i in 0..<capacity { ring[i] = nil }
        head = 0
        count_ = 0
        return n
    }
}
