import TTADProtocol

/// Lifetime totals the daemon checkpoints, so that a restart continues counting instead of
/// starting over (Prometheus counters restart at 0 with the process, as they should; these are
/// the daemon's own record, reported in `event` messages and the event log).
public struct ProcessingCounters: Codable, Sendable, Equatable {
    public var samplesProcessed: Int64 = 0
    public var rejected: [String: Int64] = [:]
    public var dropped: [String: Int64] = [:]
    public var sequenceMissing: Int64 = 0
    public var restarts: Int64 = 0

    public init() {}

    mutating func reject(_ r: RejectReason) { rejected[r.rawValue, default: 0] += 1 }
    mutating func drop(_ r: DropReason, _ n: Int64 = 1) { dropped[r.rawValue, default: 0] += n }
}
