import Foundation
import TTADProtocol

/// Coalesces `gap` events: at most one per stream per `interval` seconds, carrying the span of
/// sequence numbers and the total missing since the last one. A lossy SUB stream would otherwise
/// publish an event for nearly every batch.
struct GapEventLimiter {
    private struct Pending {
        var firstLast: UInt64
        var seq: UInt64
        var missing: UInt64
    }

    let interval: Double
    private var pending: [String: Pending] = [:]
    private var lastEmitted: [String: Double] = [:]
    private var nextCheck = 0.0

    init(interval: Double) {
        self.interval = interval
    }

    mutating func note(stream: String, lastSeq: UInt64, seq: UInt64, missing: UInt64) {
        if var p = pending[stream] {
            p.seq = seq
            p.missing += missing
            pending[stream] = p
        } else {
            pending[stream] = Pending(firstLast: lastSeq, seq: seq, missing: missing)
        }
    }

    /// Events whose stream has not had one for `interval` seconds.
    mutating func due(now: Double) -> [EventRecord] {
        guard !pending.isEmpty else { return [] }
        var out: [EventRecord] = []
        for (stream, p) in pending where now - (lastEmitted[stream] ?? -.infinity) >= interval {
            var e = EventRecord.gap(stream: stream, lastSeq: p.firstLast, seq: p.seq, tsS: 0)
            e.tsS = wallClock()
            // Over a coalesced span the count is the sum of the gaps, not seq − last − 1.
            e.detail = e.detail.map { $0.key == "missing" ? JSONMember("missing", .int(Int64(p.missing))) : $0 }
            out.append(e)
            lastEmitted[stream] = now
            pending[stream] = nil
        }
        if lastEmitted.count > 4096 { lastEmitted = lastEmitted.filter { now - $0.value < interval } }
        return out
    }

    private func wallClock() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
