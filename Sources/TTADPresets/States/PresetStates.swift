/// The adapted states of one daemon by name: one in `scope = "global"`, one per stream (or
/// stream group) in `scope = "stream"`, at most `maxLiveStates` of them in memory.
///
/// Every state is a preset of the configured kind built from the same context, so each has its
/// own adapted parameters, bank, optimizer, guard and gate, while the source model's weights
/// are the context's and shared. A state pushed out of memory is checkpointed and set aside, and
/// continues from there when its stream returns.
///
/// Owned by the processing thread, like the presets it holds.
public final class PresetStates {
    public let section: StateScopeSection
    private let make: () throws -> any AdaptationPreset
    /// The preset built before the first state was named (the daemon builds one at start to
    /// check the configuration); the first state to be activated takes it.
    private var spare: (any AdaptationPreset)?
    private var live: [String: any AdaptationPreset] = [:]
    /// Live state names, least recently used first.
    private var recency: [String] = []
    private var saved: [String: AdaptationCheckpoint] = [:]
    private var savedRecency: [String] = []
    private var started = false
    /// Reports of evicted presets not yet taken, so no step or reset goes uncounted.
    private var evictedReports: [(String, AdaptationReport)] = []
    /// Why a set-aside state could not be continued (it started from the source), not yet taken.
    private var refusals: [(String, String)] = []
    public private(set) var evictions = 0
    public private(set) var forgotten = 0

    /// `first` is a preset built from the same context as `make`'s.
    public init(section: StateScopeSection, first: any AdaptationPreset, make: @escaping () throws -> any AdaptationPreset) {
        self.section = section
        self.make = make
        if section.scope == .global {
            live[StateScopeSection.globalName] = first
            recency = [StateScopeSection.globalName]
        } else {
            spare = first
        }
    }

    public var liveCount: Int { live.count }
    public var savedCount: Int { saved.count }
    /// Live states, least recently used first.
    public var liveStates: [(name: String, preset: any AdaptationPreset)] { recency.map { ($0, live[$0]!) } }

    /// The state `stream`'s samples go to, activated (built, or continued from where it was set
    /// aside) when it is not live.
    public func preset(forStream stream: String) throws -> (name: String, preset: any AdaptationPreset) {
        let name = section.stateName(forStream: stream)
        return (name, try preset(named: name))
    }

    public func preset(named name: String) throws -> any AdaptationPreset {
        if let p = live[name] {
            if recency.last != name {
                recency.removeAll { $0 == name }
                recency.append(name)
            }
            return p
        }
        return try activate(name)
    }

    private func activate(_ name: String) throws -> any AdaptationPreset {
        // Taken out before making room, so the eviction cannot push this very state past
        // `maxSavedStates`.
        let resume = saved.removeValue(forKey: name)
        savedRecency.removeAll { $0 == name }
        while live.count >= section.maxLiveStates, let oldest = recency.first { evict(oldest) }
        let p: any AdaptationPreset
        do {
            if let s = spare { p = s; spare = nil } else { p = try make() }
        } catch {
            if let resume { keepSaved(name, resume) }
            throw error
        }
        if let c = resume, let why = p.restore(c) { refusals.append((name, why)) }
        live[name] = p
        recency.append(name)
        if started { p.start() }
        return p
    }

    private func evict(_ name: String) {
        guard let p = live.removeValue(forKey: name) else { return }
        recency.removeAll { $0 == name }
        // What the worker had queued is dropped (and counted): an eviction must not stall the
        // processing thread behind a backlog.
        _ = p.finish(timeout: 0)
        if let r = p.takeReport() { evictedReports.append((name, r)) }
        if let c = p.checkpoint() { keepSaved(name, c) }
        evictions += 1
    }

    private func keepSaved(_ name: String, _ c: AdaptationCheckpoint) {
        saved[name] = c
        savedRecency.removeAll { $0 == name }
        savedRecency.append(name)
        while saved.count > section.maxSavedStates, let oldest = savedRecency.first {
            savedRecency.removeFirst()
            saved[oldest] = nil
            forgotten += 1
        }
    }

    /// Starts every live preset's worker (after any restore); later activations start their own.
    public func start() {
        started = true
        for (_, p) in liveStates { p.start() }
    }

    /// Lets every live preset's worker finish, sharing `timeout`; false if one did not.
    public func finish(timeout: Double) -> Bool {
        let share = timeout / Double(max(1, live.count))
        var all = true
        for (_, p) in liveStates where !p.finish(timeout: share) { all = false }
        return all
    }

    /// Reports of every state since the last call (live ones and those evicted meanwhile).
    public func takeReports() -> [(name: String, report: AdaptationReport)] {
        var out = evictedReports.map { (name: $0.0, report: $0.1) }
        evictedReports.removeAll()
        for (n, p) in liveStates { if let r = p.takeReport() { out.append((n, r)) } }
        return out
    }

    /// Set-aside states that could not be continued since the last call, with the reason.
    public func takeRefusals() -> [(name: String, reason: String)] {
        defer { refusals.removeAll() }
        return refusals.map { (name: $0.0, reason: $0.1) }
    }

    /// Every state, live and set aside.
    public func checkpoint() -> StatesCheckpoint {
        var states = saved
        for (n, p) in liveStates { if let c = p.checkpoint() { states[n] = c } }
        return StatesCheckpoint(states: states, recency: savedRecency + recency)
    }

    /// Takes over a checkpoint's states: the most recently used become live again (so a state
    /// that does not fit is reported now), the rest are set aside until their streams return.
    /// Returns each state that could not be continued, with the reason.
    public func restore(_ c: StatesCheckpoint) throws -> [(name: String, reason: String)] {
        guard c.format <= 1 else { return [("*", "the checkpoint's states section has format \(c.format), newer than this daemon's 1")] }
        let order = c.recency.filter { c.states[$0] != nil } + c.states.keys.filter { !c.recency.contains($0) }.sorted()
        for n in order { keepSaved(n, c.states[n]!) }
        for n in order.suffix(section.maxLiveStates) { _ = try preset(named: n) }
        return takeRefusals()
    }
}
