import Foundation
import TTADModel
import TTADPresets

/// A preset that exists only in the tests, to show (and keep true) that a preset is one file plus
/// one registration: it counts the predicted classes of the samples it learned from and, once it
/// has seen any, predicts the majority class for every sample (so it feeds on its own output). Works on embeddings and images alike; its
/// version is the number of samples learned; its counts are checkpointed.
final class MajorityVotePreset: AdaptationPreset {
    static let name: PresetName = "test-majority-vote"
    static let descriptor = PresetDescriptor(name: name, worksOnEmbeddings: true, summary: "tests only") { c in
        MajorityVotePreset(classCount: c.classes.count)
    }

    private(set) var counts: [Int]
    private(set) var version = 0
    private var logits: [Float]
    private var top: [(index: Int, value: Float)] = []

    init(classCount: Int) {
        counts = Array(repeating: 0, count: classCount)
        logits = Array(repeating: 0, count: classCount)
    }

    func rescore(_ batch: PresetBatch, results: inout [ClassificationResult]) {
        guard version > 0, let majority = counts.indices.max(by: { counts[$0] < counts[$1] }) else { return }
        for i in 0..<batch.count {
            for c in logits.indices { logits[c] = c == majority ? 10 : 0 }
            logits.withUnsafeMutableBufferPointer { results[i].rescore(logits: $0, topK: results[i].top.count, top: &top) }
        }
    }

    func learn(_ batch: PresetBatch, results: ArraySlice<ClassificationResult>, outliers: [Bool]) {
        for r in results { counts[r.predicted] += 1 }
        version += results.count
    }

    var reportsAdaptation: Bool { false }
    func takeReport() -> AdaptationReport? { nil }

    func checkpoint() -> AdaptationCheckpoint? {
        (try? PresetCheckpoint(preset: Self.name.rawValue, key: "\(counts.count)", version: version, saving: counts))
            .map { AdaptationCheckpoint(preset: $0) }
    }

    func restore(_ c: AdaptationCheckpoint) -> String? {
        guard let p = c.preset, p.preset == Self.name.rawValue, p.key == "\(counts.count)",
              let saved = try? p.decodeState([Int].self) else { return "not this preset's state" }
        counts = saved
        version = p.version
        return nil
    }
}
