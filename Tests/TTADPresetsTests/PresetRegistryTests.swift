import TTADEngine
import TTADModel
import XCTest
@testable import TTADPresets

/// The registry: every built-in preset by name, an unknown name and an image-only preset in
/// embedding mode refused with the reason, a registered preset built like a built-in one.
final class PresetRegistryTests: XCTestCase {
    private func embeddingContext(_ preset: PresetName) throws -> PresetContext {
        var s = AdaptationSection()
        s.preset = preset
        let classes = try ClassEmbeddings(names: ["a", "b"], matrix: Tensor(shape: [2, 3], storage: [1, 0, 0, 0, 1, 0]), source: "test")
        return PresetContext(settings: s, classes: classes, logitScale: 100, topK: 2, maxBatch: 4, execution: .inline)
    }

    func testBuiltInPresetsAreRegisteredInOrder() {
        XCTAssertEqual(Array(PresetRegistry.names.prefix(8)), [.frozen, .ttad, .tda, .tpt, .dynaprompt, .rotta, .stamp, .dota])
        XCTAssertEqual(PresetRegistry.builtIn.filter(\.worksOnEmbeddings).map(\.name), [.frozen, .tda, .dota, .dpe])
    }

    /// Where learning runs follows the context: RoTTA and STAMP learn on a worker in live mode and
    /// inline (bit-identical replays) in deterministic mode.
    func testRottaAndStampLearnOnAWorkerOnlyWhenTheContextSaysSo() throws {
        let (model, prompts, classes) = try PresetFixtures.model()
        for preset in [PresetName.rotta, .stamp] {
            var s = AdaptationSection()
            s.preset = preset
            for execution in AdaptationExecution.allCases {
                let c = PresetContext(settings: s, classes: classes, logitScale: 100, topK: 2, maxBatch: 4, execution: execution,
                                      image: .init(model: model, prompts: prompts, decodeLimits: ImageDecodeLimits()))
                let method = try XCTUnwrap(try PresetRegistry.make(preset, context: c) as? PerSamplePreset).method
                let live = method is LiveSamplePreset<RottaAdapter> || method is LiveSamplePreset<StampAdapter>
                XCTAssertEqual(live, execution == .worker, "\(preset) \(execution)")
                XCTAssertEqual(method is RottaAdapter || method is StampAdapter, execution == .inline, "\(preset) \(execution)")
            }
        }
    }

    func testAnUnknownNameIsRefusedWithTheKnownOnes() throws {
        XCTAssertThrowsError(try PresetRegistry.make("nope", context: try embeddingContext("nope"))) { e in
            let d = (e as? AdaptationSetupError)?.description ?? ""
            XCTAssertTrue(d.contains("unknown preset \"nope\""), d)
            XCTAssertTrue(d.contains("frozen, ttad, tda"), d)
        }
    }

    func testImagePresetsNeedImageModeAndSayWhichWorkOnEmbeddings() throws {
        for name in [PresetName.ttad, .tpt, .dynaprompt, .rotta, .stamp] {
            XCTAssertThrowsError(try PresetRegistry.make(name, context: try embeddingContext(name))) { e in
                let d = (e as? AdaptationSetupError)?.description ?? ""
                XCTAssertTrue(d.contains("needs daemon.mode = \"image\""), d)
                XCTAssertTrue(d.contains("frozen, tda"), d)
            }
        }
        XCTAssertTrue(try PresetRegistry.make(.frozen, context: try embeddingContext(.frozen)) is FrozenPreset)
        XCTAssertTrue(try PresetRegistry.make(.tda, context: try embeddingContext(.tda)) is TDAPreset)
        XCTAssertTrue(try PresetRegistry.make(.dota, context: try embeddingContext(.dota)) is DOTAPreset)
        XCTAssertTrue(try PresetRegistry.make(.dpe, context: try embeddingContext(.dpe)) is DPEPreset)
    }

    func testARegisteredPresetIsBuiltAndReplacesOneOfTheSameName() throws {
        final class Marker: AdaptationPreset {
            let tag: Int
            init(_ tag: Int) { self.tag = tag }
            var version: Int { tag }
            var reportsAdaptation: Bool { false }
            func takeReport() -> AdaptationReport? { nil }
            func checkpoint() -> AdaptationCheckpoint? { nil }
            func restore(_ c: AdaptationCheckpoint) -> String? { "nothing kept" }
        }
        PresetRegistry.register(PresetDescriptor(name: "registry-test", worksOnEmbeddings: true, summary: "test") { _ in Marker(1) })
        PresetRegistry.register(PresetDescriptor(name: "registry-test", worksOnEmbeddings: true, summary: "test") { _ in Marker(2) })
        XCTAssertEqual(PresetRegistry.names.filter { $0 == "registry-test" }.count, 1)
        XCTAssertEqual(try PresetRegistry.make("registry-test", context: try embeddingContext("registry-test")).version, 2)
    }
}
