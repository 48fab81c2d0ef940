/// Result of observing one `(stream, seq)` pair.
public enum SequenceObservation: Sendable, Equatable {
    /// First message seen for this stream (since start, restore or eviction).
    case first
    /// `seq == last + 1`.
    case inOrder
    /// `seq > last + 1`; `missing = seq - last - 1` messages were dropped upstream (or are late).
    case gap(missing: UInt64)
    /// `0 < seq <= last`, or `seq == 0 == last`: a duplicate or a late/reordered message.
    /// The stored last seq is not changed.
    case duplicateOrReordered
    /// `seq == 0` after `last > 0`: the producer restarted. Not a gap; the stored last seq
    /// becomes 0.
    case restart
}

/// Per-stream sequence bookkeeping: detects gaps, duplicates/reordering and producer restarts.
///
/// Bounded: at most `maxStreams` streams are tracked. When a new stream would exceed the cap,
/// the least recently seen streams are forgotten in one batch — the oldest
/// `max(1, maxStreams / 8)` — so eviction costs O(maxStreams · log maxStreams) once per
/// `maxStreams / 8` new streams rather than once per message. A forgotten stream reports `.first`
/// when it comes back. `Codable` so the daemon can checkpoint it.
public struct SequenceTracker: Sendable, Codable, Equatable {
    struct Entry: Sendable, Codable, Equatable {
        var last: UInt64
        var lastSeen: UInt64
    }

    public let maxStreams: Int
    private var entries: [String: Entry]
    /// Logical clock for recency (incremented per observation).
    private var clock: UInt64

    public init(maxStreams: Int = 4096) {
        precondition(maxStreams >= 1, "maxStreams must be >= 1")
        self.maxStreams = maxStreams
        entries = [:]
        clock = 0
    }

    public mutating func observe(stream: String, seq: UInt64) -> SequenceObservation {
        clock &+= 1
        let now = clock
        if let idx = entries.index(forKey: stream) {
            let last = entries.values[idx].last
            let result: SequenceObservation
            var newLast = last
            if seq > last {
                result = seq - last == 1 ? .inOrder : .gap(missing: seq - last - 1)
                newLast = seq
            } else if seq == 0 && last > 0 {
                result = .restart
                newLast = 0
            } else {
                result = .duplicateOrReordered
            }
            entries.values[idx] = Entry(last: newLast, lastSeen: now)
            return result
        }
        if entries.count >= maxStreams { evict() }
        entries[stream] = Entry(last: seq, lastSeen: now)
        return .first
    }

    /// The last in-order/gap/restart seq recorded for `stream`.
    public func lastSeq(stream: String) -> UInt64? { entries[stream]?.last }

    /// Snapshot of all tracked streams and their last seq.
    public var lastSeqs: [String: UInt64] { entries.mapValues(\.last) }

    /// Number of tracked streams.
    public var count: Int { entries.count }

    /// Forgets one stream (e.g. on an explicit reset).
    public mutating func forget(stream: String) { entries[stream] = nil }

    /// Forgets everything.
    public mutating func removeAll() { entries.removeAll() }

    private mutating func evict() {
        let n = max(1, maxStreams / 8)
        let victims = entries.sorted { $0.value.lastSeen < $1.value.lastSeen }.prefix(n)
        for v in victims { entries[v.key] = nil }
    }
}
