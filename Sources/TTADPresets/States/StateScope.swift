/// Which samples share one adapted state.
public enum AdaptationScope: String, Sendable, CaseIterable {
    /// Every stream feeds and is predicted by one state (the behaviour before scopes existed).
    case global
    /// Each stream id, or each configured group of stream-id prefixes, has a state of its own.
    case stream
}

/// `[adaptation]`'s `scope`, `max_live_states`, `max_saved_states` and `state_groups`.
///
/// Kept apart from `AdaptationSection` on purpose: a preset tags its checkpoint with a
/// description of its settings, and how states are keyed is not a setting of any one state, so
/// changing it must not make every saved state unusable.
public struct StateScopeSection: Sendable, Equatable {
    public var scope: AdaptationScope = .global
    /// States kept in memory, each with its own buffers (and worker thread in live mode); the
    /// least recently used one beyond this is checkpointed and set aside.
    public var maxLiveStates: Int = 4
    /// Set-aside states kept (in memory and in every checkpoint); beyond this the least recently
    /// used one is forgotten, and its stream starts again from the source model.
    public var maxSavedStates: Int = 256
    /// Stream-id prefixes whose streams share one state, named by the prefix. The longest
    /// matching prefix wins; a stream matching none has a state of its own.
    public var groups: [String] = []

    public init() {}

    /// The name of the state that predicts and learns from `stream`'s samples.
    public func stateName(forStream stream: String) -> String {
        switch scope {
        case .global:
            return Self.globalName
        case .stream:
            var best: String?
            for g in groups where stream.hasPrefix(g) && g.count > (best?.count ?? -1) { best = g }
            return best ?? stream
        }
    }

    public static let globalName = "global"
}
