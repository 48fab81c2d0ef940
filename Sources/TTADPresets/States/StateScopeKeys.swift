/// `[adaptation]`'s keys of `StateScopeSection` (which samples share one adapted state),
/// declared once (see `SettingKey`).
extension StateScopeSection {
    public static var settingKeys: [SettingKey<StateScopeSection>] {
        let a = "adaptation"
        return [
            .choice(a, "scope", \.scope, "Which samples share one adapted state."),
            .int(a, "max_live_states", \.maxLiveStates, min: 1, max: 256, "scope = \"stream\": states kept in memory."),
            .int(a, "max_saved_states", \.maxSavedStates, min: 0, max: 1 << 16, "scope = \"stream\": set-aside states kept."),
            .strings(a, "state_groups", \.groups, check: { v in
                guard case .strings(let groups) = v,
                      let i = groups.firstIndex(where: { $0.isEmpty || $0.utf8.count > 256 }) else { return nil }
                return ("[\(i)]", "must be a non-empty stream-id prefix of at most 256 bytes")
            }, "scope = \"stream\": stream-id prefixes whose streams share one state."),
        ]
    }
}
