import Synchronization

/// A preset the daemon can run: its name (the value of `adaptation.preset`), whether it works on
/// embedding rows, and how to build it.
public struct PresetDescriptor: Sendable {
    public var name: PresetName
    /// Whether the preset works in embedding mode (no image tower: only features and scores).
    public var worksOnEmbeddings: Bool
    /// One line for `ttad check-config` and error messages.
    public var summary: String
    public var make: @Sendable (PresetContext) throws -> any AdaptationPreset

    public init(name: PresetName, worksOnEmbeddings: Bool, summary: String,
                make: @escaping @Sendable (PresetContext) throws -> any AdaptationPreset) {
        self.name = name
        self.worksOnEmbeddings = worksOnEmbeddings
        self.summary = summary
        self.make = make
    }
}

/// Every preset by name. Adding a preset is one file (its type and its `descriptor`) and one
/// line in `builtIn`; tests register presets of their own the same way.
public enum PresetRegistry {
    static let builtIn: [PresetDescriptor] = [
        FrozenPreset.descriptor,
        TTADPreset.descriptor,
        TDAPreset.descriptor,
        TPTAdapter.descriptor,
        DynaPromptAdapter.descriptor,
        RottaAdapter.descriptor,
        StampAdapter.descriptor,
        DOTAPreset.descriptor,
        DPEPreset.descriptor,
    ]

    private static let table = Mutex<[PresetDescriptor]>(builtIn)

    /// Adds a preset (replacing one of the same name).
    public static func register(_ d: PresetDescriptor) {
        table.withLock { t in
            t.removeAll { $0.name == d.name }
            t.append(d)
        }
    }

    public static func descriptor(_ name: PresetName) -> PresetDescriptor? {
        table.withLock { t in t.first { $0.name == name } }
    }

    /// Registered names, built-in ones first.
    public static var names: [PresetName] { table.withLock { $0.map(\.name) } }

    /// Builds the named preset; an unknown name or a preset that cannot run in this mode is an
    /// `AdaptationSetupError`.
    public static func make(_ name: PresetName, context: PresetContext) throws -> any AdaptationPreset {
        guard let d = descriptor(name) else {
            throw AdaptationSetupError("unknown preset \"\(name)\"; one of \(names.map(\.rawValue).joined(separator: ", "))")
        }
        if context.image == nil && !d.worksOnEmbeddings {
            throw AdaptationSetupError("\"\(name)\" adapts the image tower and needs daemon.mode = \"image\"; in embedding mode use one of "
                                       + table.withLock { $0.filter(\.worksOnEmbeddings).map(\.name.rawValue) }.joined(separator: ", "))
        }
        return try d.make(context)
    }
}
