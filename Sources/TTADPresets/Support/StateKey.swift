/// A preset tags its checkpointed state with a key made of its settings, the model folder and
/// the class names, so a changed configuration starts over instead of continuing from state it
/// cannot use. The folder is left out of the comparison (see `normalized`). The settings part is Swift's description of the settings values, which names the
/// module that declares their types; keys are compared with those names taken out, so a state
/// written before the presets moved out of TTADDaemon continues after the upgrade.
enum StateKey {
    static func matches(_ stored: String, _ current: String) -> Bool {
        stored == current || normalized(stored) == normalized(current)
    }

    static func normalized(_ key: String) -> String {
        var s = key.replacingOccurrences(of: "TTADDaemon.", with: "").replacingOccurrences(of: "TTADPresets.", with: "")
        // The preset name was an enum case, described as `AdaptationPreset.ttad`; a `PresetName`
        // is described by its raw value alone.
        s = s.replacing(/AdaptationPreset\.([A-Za-z0-9_]+)/) { String($0.output.1) }
        // Where the model lives is not what it is: the state store's fingerprint (the SHA-256 of
        // the model files) already refuses another model, and a state moved to a box that keeps
        // the same model in another folder must continue.
        s = s.replacing(/\ model=.*?\ classes=/) { _ in " classes=" }
        // Keys added since (calibration, the label gate's warm-up) are left out at their defaults,
        // so a state written before them continues under the default settings.
        s = s.replacingOccurrences(of: "calibrationRate: 0.02, ", with: "")
            .replacingOccurrences(of: ", warmupSamples: 128, mixedBelow: 0.05, mixedClasses: 3.0", with: "")
        return s
    }
}
