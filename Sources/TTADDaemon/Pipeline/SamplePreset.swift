import Foundation
import TTADModel

/// A preset whose prediction of each sample is its own work — `tpt`, `dynaprompt`, `rotta`,
/// `stamp`. `ImagePredictor` scores the sample zero-shot as always (the features the drift
/// monitor sees, the cosine the outlier score uses, the frozen class), then the preset writes its
/// logits and the result is rescored from them; once the outlier flag is known the preset learns
/// from the sample (never from an outlier).
///
/// These presets run on the processing thread in both modes: for TPT and DynaPrompt the step *is*
/// the prediction, and RoTTA and STAMP are kept as published for comparison. The live-mode
/// worker that keeps adaptation off the prediction path is the `ttad` preset's.
protocol SamplePreset: AnyObject {
    /// Version of the adapted parameters the next prediction uses.
    var version: Int { get }
    /// Writes sample `row`'s class logits (`classCount` floats). `image` is the decoded sample,
    /// `pixels` its model input.
    func predict(row: Int, image: DecodedImage, pixels: UnsafePointer<Float>, logits: UnsafeMutablePointer<Float>)
    /// Learns from sample `row` of the batch just predicted; `sample` makes the bank copy.
    func observe(row: Int, sample: () -> BankSample, frozenClass: Int, isOutlier: Bool)
    /// What adaptation did since the last call.
    func takeReport() -> AdaptationReport
    /// Everything the preset keeps, for the checkpoint.
    func checkpoint() throws -> PresetCheckpoint
    /// Continues from a checkpoint; returns why not (changing nothing) when it does not fit.
    func restore(_ c: PresetCheckpoint) -> String?
}

/// A preset's state in the checkpoint: its settings key, so a changed configuration starts
/// over instead of continuing from state it cannot use, and its own JSON.
struct PresetCheckpoint: Codable {
    var preset: String
    var key: String
    var version: Int
    var state: Data
}

extension SamplePreset {
    /// Encodes `state` under this preset's `key`.
    func makeCheckpoint<S: Encodable>(preset: String, key: String, state: S) throws -> PresetCheckpoint {
        PresetCheckpoint(preset: preset, key: key, version: version, state: try JSONEncoder().encode(state))
    }

    /// Decodes the state of a checkpoint written by the same preset with the same settings.
    func decodeCheckpoint<S: Decodable>(_ c: PresetCheckpoint, preset: String, key: String, as: S.Type) -> Result<S, PresetRestoreError> {
        guard c.preset == preset else { return .failure(.init("the checkpoint holds the \(c.preset) preset's state")) }
        guard c.key == key else { return .failure(.init("adaptation settings, model or classes changed since the checkpoint")) }
        do { return .success(try JSONDecoder().decode(S.self, from: c.state)) } catch {
            return .failure(.init("unreadable \(preset) state: \(error)"))
        }
    }
}

struct PresetRestoreError: Error {
    var reason: String
    init(_ reason: String) { self.reason = reason }
}
