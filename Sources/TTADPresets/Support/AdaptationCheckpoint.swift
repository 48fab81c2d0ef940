import Foundation
import TTADEngine

/// The checkpoint section `adaptation`: the state of whichever preset runs. The layout is the one
/// checkpoints have had since the presets were introduced, so an upgraded daemon continues.
public struct AdaptationCheckpoint: Codable, Sendable {
    public var ttad: AnchoredNormAdapter.State?
    public var tda: TDAPreset.State?
    /// Any other preset's state (`tpt`, `dynaprompt`, `rotta`, `stamp`, registered ones).
    public var preset: PresetCheckpoint?

    public init(ttad: AnchoredNormAdapter.State? = nil, tda: TDAPreset.State? = nil, preset: PresetCheckpoint? = nil) {
        self.ttad = ttad
        self.tda = tda
        self.preset = preset
    }

    public var version: Int { ttad?.version ?? tda?.version ?? preset?.version ?? 0 }

    /// The adapted tensors by name, when the preset's state has them (kept as a prompt snapshot).
    public var adaptedTensors: [String: [Float]]? { ttad?.learner.parameters }
}

/// A preset's state in the checkpoint: its settings key, so a changed configuration starts
/// over instead of continuing from state it cannot use, and its own state as a `StateArchive`
/// (tensors raw; the enclosing section stores these bytes as a blob too, not as text).
/// Checkpoints written before archives hold the state as JSON; `decodeState` reads both.
public struct PresetCheckpoint: Codable, Sendable {
    public var preset: String
    public var key: String
    public var version: Int
    public var state: Data

    public init(preset: String, key: String, version: Int, state: Data) {
        self.preset = preset
        self.key = key
        self.version = version
        self.state = state
    }
}

extension PresetCheckpoint {
    /// Saves `state`: what a preset keeps, in the one checkpoint format.
    public init<S: Encodable>(preset: String, key: String, version: Int, saving state: S) throws {
        self.init(preset: preset, key: key, version: version, state: Data(try StateArchive.encode(state)))
    }

    /// The saved state, from an archive or from the JSON of a checkpoint written before archives.
    public func decodeState<S: Decodable>(_ type: S.Type) throws -> S {
        try StateArchive.decodeSection(type, from: state)
    }
}
