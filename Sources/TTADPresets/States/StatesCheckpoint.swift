/// The checkpoint section of `scope = "stream"`: every state by name, live and set aside, and
/// which were used most recently (so a restart keeps the same ones live).
public struct StatesCheckpoint: Codable, Sendable {
    /// Format of this section; a reader refuses a newer one instead of misreading it.
    public var format: Int = 1
    public var states: [String: AdaptationCheckpoint]
    /// State names, least recently used first.
    public var recency: [String]

    public init(states: [String: AdaptationCheckpoint], recency: [String]) {
        self.states = states
        self.recency = recency
    }

    /// The highest version among the states (what the checkpoint row records).
    public var version: Int { states.values.map(\.version).max() ?? 0 }
}
