import Foundation
import TTADProtocol

/// Coalesces `gap` events: at most one per stream per `interval` seconds. A lossy SUB stream
/// would otherwise publish an event for nearly every batch.
///
/// The first gap of a stream that has had no `gap` event for `interval` seconds is published on
/// the loop's next round; later gaps are held and published together once `interval` has passed
/// since that stream's previous event. One event covers a span (docs/protocol.md §5.2):
/// `last_seq` is the last seq before the span's first gap, `seq` the seq that ended its last gap,
/// `gaps` the number of gaps and `missing` their summed sizes. For a single gap
/// `missing = seq − last_seq − 1`. A restart of the stream and the loop's end publish what is
/// held at once, so a span never crosses a restart and nothing is held back at shutdown.
struct GapEventLimiter {
    private struct Pending {
        var firstLast: UInt64
        var seq: UInt64
        var missing: UInt64
        var gaps: Int
    }

    let interval: Double
    private var pending: [String: Pending] = [:]
    private var lastEmitted: [String: Double] = [:]

    init(interval: Double) {
        self.interval = interval
    }

    /// Records one gap: `seq` followed `lastSeq` with `missing` = seq − lastSeq − 1 in between.
    mutating func note(stream: String, lastSeq: UInt64, seq: UInt64, missing: UInt64) {
        if var p = pending[stream] {
            p.seq = seq
            p.missing &+= missing
            p.gaps += 1
            pending[stream] = p
        } else {
            pending[stream] = Pending(firstLast: lastSeq, seq: seq, missing: missing, gaps: 1)
        }
    }

    /// Events whose stream has not had one for `interval` seconds.
    mutating func due(now: Double) -> [EventRecord] {
        guard !pending.isEmpty else { return [] }
        var out: [EventRecord] = []
        for (stream, p) in pending where now - (lastEmitted[stream] ?? -.infinity) >= interval {
            out.append(Self.event(stream: stream, p))
            lastEmitted[stream] = now
            pending[stream] = nil
        }
        if lastEmitted.count > 4096 { lastEmitted = lastEmitted.filter { now - $0.value < interval } }
        return out
    }

    /// The held event of `stream`, if any, whatever the interval (before a `restart` event).
    mutating func flush(stream: String, now: Double) -> EventRecord? {
        guard let p = pending.removeValue(forKey: stream) else { return nil }
        lastEmitted[stream] = now
        return Self.event(stream: stream, p)
    }

    /// Every held event (at the end of the loop).
    mutating func flushAll() -> [EventRecord] {
        defer { pending.removeAll() }
        return pending.map { Self.event(stream: $0.key, $0.value) }
    }

    private static func event(stream: String, _ p: Pending) -> EventRecord {
        EventRecord.gap(stream: stream, lastSeq: p.firstLast, seq: p.seq, missing: p.missing, gaps: p.gaps,
                        tsS: wallClock())
    }

    private static func wallClock() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
