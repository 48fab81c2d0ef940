import Foundation

/// Lets one log line through per interval and counts the events folded into it, so that a flood
/// (thousands of refused connections a second) costs a line every few seconds, not a line each.
struct LogThrottle {
    let intervalSeconds: Double
    private var lastEmit = -Double.infinity
    private var pending = 0

    init(intervalSeconds: Double) {
        self.intervalSeconds = intervalSeconds
    }

    /// Records one event at `now` (seconds, monotonic). Returns the number of events to report
    /// (this one and those suppressed since the last line) when a line is due, else nil.
    mutating func record(now: Double) -> Int? {
        pending += 1
        guard now - lastEmit >= intervalSeconds else { return nil }
        lastEmit = now
        defer { pending = 0 }
        return pending
    }
}
