import Foundation
import TTADEngine
import TTADModel
import XCTest
@testable import TTADPresets

/// A daemon upgraded across the change to state archives continues its state: the `adaptation`
/// sections in Fixtures/legacy-checkpoint were written by the JSON code before archives (they are
/// the fuzz seeds of commit eb96135, written from real presets built as `presets()` builds them),
/// the upgraded presets restore them, their next checkpoint is an archive, and a preset restored
/// from that archive holds exactly the state (and, for tda, predicts exactly) as the one restored
/// from the old JSON.
final class LegacyCheckpointTests: XCTestCase {
    static func fixture(_ name: String) throws -> Data {
        try Data(contentsOf: PresetFixtures.root.appendingPathComponent("TTADPresetsTests/Fixtures/legacy-checkpoint/adaptation-\(name).json"))
    }

    /// The presets the fixtures were written from (the fuzz-checkpoint target's `Presets`).
    static func make(_ name: PresetName) throws -> any AdaptationPreset {
        var s = AdaptationSection()
        s.preset = name
        if name == .tda {
            let matrix = Tensor(shape: [3, 4], storage: [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0])
            let classes = try ClassEmbeddings(names: ["a", "b", "c"], matrix: matrix, source: "fuzz")
            return try PresetRegistry.make(.tda, context: PresetContext(settings: s, classes: classes, logitScale: 100, topK: 2,
                                                                        maxBatch: 4, execution: .inline))
        }
        let (model, prompts, classes) = try PresetFixtures.model()
        return try PresetRegistry.make(name, context: PresetContext(settings: s, classes: classes, logitScale: 100, topK: 2, maxBatch: 4,
                                                                    execution: .inline,
                                                                    image: .init(model: model, prompts: prompts, decodeLimits: ImageDecodeLimits())))
    }

    /// A checkpoint in the JSON of before, with a preset's inner state also as plain JSON, so two
    /// states compare field by field whichever format they were saved in.
    static func canonical(_ c: AdaptationCheckpoint, inner: (Data) throws -> Data = { $0 }) throws -> String {
        var c = c
        // The key names the model folder, which differs between checkouts (and StateKey ignores).
        if var p = c.preset { p.state = try inner(p.state); p.key = StateKey.normalized(p.key); c.preset = p }
        if var t = c.ttad { t.key = StateKey.normalized(t.key); c.ttad = t }
        if var t = c.tda { t.key = StateKey.normalized(t.key); c.tda = t }
        let enc = JSONEncoder()
        enc.outputFormatting = .sortedKeys
        return String(decoding: try enc.encode(c), as: UTF8.self)
    }

    /// Restores the fixture through the old path and through an archive written after it.
    func migrate(_ name: PresetName) throws -> (old: any AdaptationPreset, new: any AdaptationPreset, saved: AdaptationCheckpoint) {
        let legacy = try Self.fixture(name.rawValue)
        XCTAssertFalse(StateArchive.isArchive(legacy))
        let saved = try StateArchive.decodeSection(AdaptationCheckpoint.self, from: legacy)
        let old = try Self.make(name)
        XCTAssertNil(old.restore(saved), "\(name) refuses the pre-archive checkpoint")
        let next = try XCTUnwrap(old.checkpoint())
        let archive = try StateArchive.encode(next)
        XCTAssertTrue(StateArchive.isArchive(archive))
        if let p = next.preset { XCTAssertTrue(StateArchive.isArchive(p.state), "\(name)'s own state is not an archive") }
        let new = try Self.make(name)
        XCTAssertNil(new.restore(try StateArchive.decodeSection(AdaptationCheckpoint.self, from: archive)))
        return (old, new, saved)
    }

    func testTDAPredictsTheSameAfterMigration() throws {
        let m = try migrate(.tda)
        XCTAssertEqual(try Self.canonical(m.new.checkpoint()!), try Self.canonical(m.saved))
        let matrix = Tensor(shape: [3, 4], storage: [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0])
        let classifier = EmbeddingClassifier(classes: try ClassEmbeddings(names: ["a", "b", "c"], matrix: matrix, source: "fuzz"),
                                             logitScale: 100, topK: 2, maxBatch: 4)
        func scores(_ p: any AdaptationPreset) -> [[UInt32]] {
            let features: [Float] = [0.9, 0.1, 0, 0.2, 0, 0.8, 0.3, 0, 0.3, 0.3, 0.3, 0.1]
            var results: [ClassificationResult] = []
            features.withUnsafeBufferPointer { f in
                classifier.classify(batch: f, count: 3, results: &results)
                p.rescore(PresetBatch(count: 3, features: f.baseAddress!, featureDimension: 4, classifier: classifier), results: &results)
            }
            return results.prefix(3).map { r in [UInt32(r.predicted), r.entropy.bitPattern] + r.top.map(\.probability.bitPattern) }
        }
        let fresh = try Self.make(.tda)
        XCTAssertEqual(scores(m.new), scores(m.old))
        // The restored caches matter: a preset without them scores otherwise.
        XCTAssertNotEqual(scores(fresh), scores(m.old))
    }

    func testTTADStateSurvivesMigrationBitwise() throws {
        let m = try migrate(.ttad)
        let tensors = try XCTUnwrap(m.saved.adaptedTensors)
        let restored = try XCTUnwrap(m.new.checkpoint()?.adaptedTensors)
        XCTAssertEqual(restored.mapValues { $0.map(\.bitPattern) }, tensors.mapValues { $0.map(\.bitPattern) })
        // Against the preset restored by the old path: the fixture predates the confidence
        // calibration, which a restore starts at its default and the next checkpoint includes.
        XCTAssertNil(m.saved.ttad?.confidence)
        XCTAssertEqual(try Self.canonical(m.new.checkpoint()!), try Self.canonical(m.old.checkpoint()!))
    }

    func testDynaPromptInnerStateSurvivesMigration() throws {
        let m = try migrate(.dynaprompt)
        // Its own state was base64 JSON inside the JSON; now an archive inside the archive.
        let toJSON: (Data) throws -> Data = {
            let enc = JSONEncoder()
            enc.outputFormatting = .sortedKeys
            return try enc.encode(try StateArchive.decodeSection(DynaPromptAdapter.State.self, from: $0))
        }
        XCTAssertEqual(try Self.canonical(m.new.checkpoint()!, inner: toJSON), try Self.canonical(m.saved, inner: toJSON))
    }
}
