import Foundation
import Logging
import TTADEngine
import TTADPresets
import TTADProtocol
import TTADState

/// Adapted state that moves between boxes: `ttad state export` writes the newest checkpoint's
/// adapted state of a state directory (a stopped daemon's, or a running one's: it is read beside
/// the daemon, without its lock) into one safetensors file — the adapted tensors as tensors, and
/// in the metadata what the state belongs to (model fingerprint, preset, scope), where it came
/// from, and the preset's whole state; `ttad state import` checks that file against a
/// configuration and makes it the starting point of a fresh state directory.
public enum StateTransfer {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        init(_ d: String) { description = d }
    }

    public struct Summary: Sendable, Equatable {
        public var preset: String
        public var scope: AdaptationScope
        public var states: Int
        public var promptVersion: Int
        public var tensors: Int
    }

    static let format = "ttad-adapted-state"
    static let formatVersion = "1"

    enum Key {
        static let format = "format", formatVersion = "format_version", modelID = "model_id", modelSHA256 = "model_sha256"
        static let configSHA256 = "config_sha256", preset = "preset", scope = "scope", promptVersion = "prompt_version"
        static let samplesProcessed = "samples_processed", checkpointID = "checkpoint_id", exportedAt = "exported_at"
        static let exportedBy = "exported_by", sourceDirectory = "source_directory", state = "state"
    }

    /// The preset a checkpoint's state belongs to.
    static func presetName(_ c: AdaptationCheckpoint) -> String? {
        if c.ttad != nil { return PresetName.ttad.rawValue }
        if c.tda != nil { return PresetName.tda.rawValue }
        return c.preset?.preset
    }

    // MARK: - Export

    @discardableResult
    public static func export(directory: String, to output: String, logger: Logger) throws -> Summary {
        let store = try StateStore.openForReading(directory: directory, logger: logger)
        defer { try? store.close() }
        let fingerprint = try store.storedFingerprint()
        guard let (info, checkpoint) = try store.latestCheckpointWithInfo() else {
            throw Failure("\(directory) holds no checkpoint yet: nothing has been adapted to export")
        }
        var metadata = [
            Key.format: format, Key.formatVersion: formatVersion,
            Key.modelID: fingerprint.modelID, Key.modelSHA256: fingerprint.modelSHA256, Key.configSHA256: fingerprint.configSHA256,
            Key.promptVersion: "\(info.promptVersion)", Key.samplesProcessed: "\(info.samplesProcessed)",
            Key.checkpointID: "\(info.id)", Key.exportedAt: ISO8601DateFormatter().string(from: Date()),
            Key.exportedBy: "ttad \(Daemon.version)", Key.sourceDirectory: directory,
        ]
        var tensors: [SafeTensorsWriter.Entry] = []
        let summary: Summary
        // The metadata carries the state as JSON text (safetensors metadata is strings only),
        // whichever format the checkpoint section itself is in.
        let enc = JSONEncoder()
        enc.outputFormatting = .sortedKeys
        func text(_ v: some Encodable) throws -> String { String(decoding: try enc.encode(v), as: UTF8.self) }
        if let bytes = checkpoint.sections[Checkpointer.adaptationSection] {
            let c = try StateArchive.decodeSection(AdaptationCheckpoint.self, from: bytes)
            guard let preset = presetName(c) else { throw Failure("the checkpoint's adapted state names no preset") }
            for (name, values) in (c.adaptedTensors ?? [:]).sorted(by: { $0.key < $1.key }) {
                tensors.append(.init(name: name, shape: [values.count], values: values))
            }
            metadata[Key.preset] = preset
            metadata[Key.scope] = AdaptationScope.global.rawValue
            metadata[Key.state] = try text(c)
            summary = Summary(preset: preset, scope: .global, states: 1, promptVersion: c.version, tensors: tensors.count)
        } else if let bytes = checkpoint.sections[Checkpointer.adaptationStatesSection] {
            let c = try StateArchive.decodeSection(StatesCheckpoint.self, from: bytes)
            let presets = Set(c.states.values.compactMap(presetName))
            guard presets.count == 1, let preset = presets.first else {
                throw Failure("the checkpoint's states name \(presets.isEmpty ? "no preset" : "several presets (\(presets.sorted().joined(separator: ", ")))")")
            }
            for (state, s) in c.states.sorted(by: { $0.key < $1.key }) {
                for (name, values) in (s.adaptedTensors ?? [:]).sorted(by: { $0.key < $1.key }) {
                    tensors.append(.init(name: "\(state)/\(name)", shape: [values.count], values: values))
                }
            }
            metadata[Key.preset] = preset
            metadata[Key.scope] = AdaptationScope.stream.rawValue
            metadata[Key.state] = try text(c)
            summary = Summary(preset: preset, scope: .stream, states: c.states.count, promptVersion: c.version, tensors: tensors.count)
        } else {
            throw Failure("the newest checkpoint of \(directory) (\(info.id)) holds no adapted state: the daemon runs preset \"frozen\"")
        }
        let partial = output + ".partial"
        do {
            try SafeTensorsWriter.write(path: partial, tensors: tensors, metadata: metadata)
            if FileManager.default.fileExists(atPath: output) { try FileManager.default.removeItem(atPath: output) }
            try FileManager.default.moveItem(atPath: partial, toPath: output)
        } catch {
            try? FileManager.default.removeItem(atPath: partial)
            throw Failure("cannot write \(output): \(error)")
        }
        return summary
    }

    // MARK: - Import

    /// Makes the state in `input` the starting point of `config`'s state directory, which must
    /// hold no checkpoint yet. Refused, with the mismatch named, when the file was made with
    /// another model, other classes or prompts, another preset or scope, or preset settings the
    /// configured preset cannot continue from.
    @discardableResult
    public static func importState(from input: String, config: DaemonConfig, logger: Logger) throws -> Summary {
        let file: SafeTensorsFile
        do { file = try SafeTensorsFile(path: input) } catch { throw Failure("\(input) is not a readable safetensors file: \(error)") }
        let m = file.metadata
        guard m[Key.format] == format else { throw Failure("\(input) is not a ttad state export (metadata format is \(m[Key.format].map { "\"\($0)\"" } ?? "missing"))") }
        guard m[Key.formatVersion] == formatVersion else {
            throw Failure("\(input) has export format version \(m[Key.formatVersion] ?? "?"); this ttad reads version \(formatVersion)")
        }
        let here = try FingerprintMaker.make(config: config)
        guard m[Key.modelSHA256] == here.modelSHA256 else {
            throw Failure("the state was learnt with another model: \(m[Key.modelID] ?? "?") (sha256 \(m[Key.modelSHA256]?.prefix(12) ?? "?")…), "
                          + "this configuration has \(here.modelID) (sha256 \(here.modelSHA256.prefix(12))…)")
        }
        guard m[Key.configSHA256] == here.configSHA256 else {
            throw Failure("the state was learnt with other classes, prompt template, logit scale or precision than this configuration's")
        }
        guard let preset = m[Key.preset], preset == config.adaptation.preset.rawValue else {
            throw Failure("the state belongs to preset \"\(m[Key.preset] ?? "?")\"; this configuration runs \"\(config.adaptation.preset.rawValue)\"")
        }
        guard let scopeName = m[Key.scope], let scope = AdaptationScope(rawValue: scopeName), scope == config.adaptationStates.scope else {
            throw Failure("the state was kept with adaptation.scope = \"\(m[Key.scope] ?? "?")\"; this configuration has \"\(config.adaptationStates.scope.rawValue)\"")
        }
        guard let text = m[Key.state] else { throw Failure("\(input) carries no adapted state in its metadata") }
        let bytes = Array(text.utf8)
        let saved: SavedAdaptation
        let dec = JSONDecoder()
        do {
            saved = scope == .global ? .global(try dec.decode(AdaptationCheckpoint.self, from: Data(bytes)))
                : .streams(try dec.decode(StatesCheckpoint.self, from: Data(bytes)))
        } catch {
            throw Failure("the adapted state in \(input) does not decode: \(error)")
        }
        // The configured preset itself decides whether it can continue from the state (its
        // settings, the model folder and the classes are part of what it checks).
        let predictor = try PredictorFactory.make(config: config)
        let states = PresetStates(section: config.adaptationStates, first: predictor.preset, make: predictor.makePreset)
        switch saved {
        case .global(let c?):
            if let why = predictor.preset.restore(c) { throw Failure("preset \"\(preset)\" cannot continue from this state: \(why)") }
        case .global(nil):
            throw Failure("the adapted state in \(input) is empty")
        case .streams(let c):
            let refused = try states.restore(c)
            if !refused.isEmpty {
                throw Failure("preset \"\(preset)\" cannot continue from these states: " + refused.map { "\($0.name): \($0.reason)" }.joined(separator: "; "))
            }
        }
        _ = states.finish(timeout: 1)
        _ = predictor.preset.finish(timeout: 1)

        var options = StateStoreOptions()
        options.keepCheckpoints = config.state.keepCheckpoints
        options.creatorVersion = "ttad \(Daemon.version)"
        let (store, _) = try StateStore.open(directory: config.daemon.stateDirectory, fingerprint: here, logger: logger, options: options)
        defer { try? store.close() }
        if let existing = try store.latestCheckpointInfo() {
            throw Failure("\(config.daemon.stateDirectory) already holds state (checkpoint \(existing.id), \(existing.samplesProcessed) samples): "
                          + "import only into a fresh state directory")
        }
        let checkpointer = Checkpointer(store: store, metrics: DaemonMetrics(version: Daemon.version, mode: config.daemon.mode.rawValue),
                                        health: HealthState(), logger: logger)
        guard checkpointer.write(sequences: SequenceTracker(), counters: ProcessingCounters(), outliers: nil,
                                 adaptation: saved, reason: "import") != nil else {
            throw Failure("cannot write the imported state into \(config.daemon.stateDirectory) (see the log)")
        }
        try store.appendEvent(StateEvent(kind: "imported", severity: .notice, fields: [
            "from": input, "exported_at": m[Key.exportedAt] ?? "", "exported_by": m[Key.exportedBy] ?? "",
            "source_directory": m[Key.sourceDirectory] ?? "", "checkpoint_id": m[Key.checkpointID] ?? "",
        ]))
        let count: Int
        if case .streams(let c) = saved { count = c.states.count } else { count = 1 }
        return Summary(preset: preset, scope: scope, states: count, promptVersion: saved.version, tensors: file.tensorNames.count)
    }
}
