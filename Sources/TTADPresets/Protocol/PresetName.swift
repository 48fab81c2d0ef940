/// The name of a preset, as `adaptation.preset` spells it. A name, not a closed enum, so a
/// preset registered in `PresetRegistry` (a test's, a later release's) is configured the same way.
public struct PresetName: RawRepresentable, Hashable, Sendable, ExpressibleByStringLiteral, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { rawValue = value }
    public var description: String { rawValue }

    /// Nothing adapts: the source model predicts.
    public static let frozen: PresetName = "frozen"
    /// The image tower's LayerNorm affines from a class-balanced bank of confident samples,
    /// anchored to the source and reset by the collapse guard.
    public static let ttad: PresetName = "ttad"
    /// TDA's training-free cache of confident samples.
    public static let tda: PresetName = "tda"
    /// DOTA: online per-class Gaussian estimates blended with the zero-shot classifier.
    public static let dota: PresetName = "dota"
    /// DPE: evolving textual and visual prototypes, per-sample residual steps on embeddings.
    public static let dpe: PresetName = "dpe"
    /// TPT: per sample, one step of the text context on views, then reset (episodic).
    public static let tpt: PresetName = "tpt"
    /// DynaPrompt: TPT's step on a buffer of prompts selected per sample, kept across samples.
    public static let dynaprompt: PresetName = "dynaprompt"
    /// RoTTA: EMA teacher predicts; the student's affines learn from the teacher on a CSTU bank.
    public static let rotta: PresetName = "rotta"
    /// STAMP: SAM-SGD on most affines, self-weighted entropy over a class-balanced replay memory.
    public static let stamp: PresetName = "stamp"
}
