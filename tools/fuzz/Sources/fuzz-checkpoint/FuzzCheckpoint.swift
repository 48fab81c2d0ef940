import Foundation
import FuzzSupport
import TTADAdaptation
import TTADDaemon
import TTADEngine
import TTADModel
import TTADPresets
import TTADProtocol

// A checkpoint section as Checkpointer.restore decodes it (StateArchive.decodeSection, after the
// state store has verified the blob's CRC-32: a state archive, or the JSON every section was
// before archives), then used the way a restarted daemon uses it. The first byte picks the
// section, the rest is its bytes:
//   0 sequence (SequenceTracker)   1 counters (ProcessingCounters)   2 drift (DriftMonitor)
//   3 outliers (ThresholdCalibrator)   4 adaptation (AdaptationCheckpoint, restored into every
//   built-in preset: tda in embedding mode, ttad/tpt/dynaprompt/rotta/stamp on the tiny test CLIP)
//   5 drift_states ([String: DriftMonitor], one monitor per adapted state, each used as 2 is)
// A restore must either be refused with a reason or leave a preset that works: it is asked for
// its checkpoint again and (tda) scores a batch. An archive that decodes must encode again.
//
// With TTAD_FUZZ_WRITE_SEEDS=<dir> the target instead writes one seed per section, from real
// objects, into <dir> and exits (tools/fuzz/corpus/checkpoint was made that way: *.archive in
// the format of today, *.json by the code before archives, kept for the migration path).

enum Section: UInt8, CaseIterable {
    case sequence, counters, drift, outliers, adaptation
    // Appended, so the first byte of every older seed still picks its section.
    case driftStates
}

/// Every preset that can restore an adaptation section, built once.
final class Presets {
    let embedding: any AdaptationPreset
    let embeddingClassifier: EmbeddingClassifier
    let image: [(PresetName, any AdaptationPreset)]

    init() throws {
        let names = ["a", "b", "c"]
        let matrix = Tensor(shape: [3, 4], storage: [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0])
        let classes = try ClassEmbeddings(names: names, matrix: matrix, source: "fuzz")
        var s = AdaptationSection()
        s.preset = .tda
        embedding = try PresetRegistry.make(.tda, context: PresetContext(settings: s, classes: classes, logitScale: 100, topK: 2,
                                                                         maxBatch: 4, execution: .inline))
        embeddingClassifier = EmbeddingClassifier(classes: classes, logitScale: 100, topK: 2, maxBatch: 4)

        let model = try CLIPModel(folder: RepositoryPaths.quickModel)
        let prompts = try ClassPromptEncoder(model: model, classNames: ["cat", "dog", "car", "tree"], template: "a photo of a {}.")
        let imageClasses = try prompts.classEmbeddings()
        var built: [(PresetName, any AdaptationPreset)] = []
        for name in [PresetName.ttad, .tpt, .dynaprompt, .rotta, .stamp] {
            var t = AdaptationSection()
            t.preset = name
            let c = PresetContext(settings: t, classes: imageClasses, logitScale: 100, topK: 2, maxBatch: 4, execution: .inline,
                                  image: .init(model: model, prompts: prompts, decodeLimits: ImageDecodeLimits()))
            built.append((name, try PresetRegistry.make(name, context: c)))
        }
        image = built
    }

    var all: [(PresetName, any AdaptationPreset)] { [(.tda, embedding)] + image }

    /// Runs a batch of two embeddings through the embedding-mode preset (rescore and learn).
    func scoreEmbeddingBatch() {
        let features: [Float] = [0.9, 0.1, 0, 0.2, 0, 0.8, 0.3, 0]
        var results: [ClassificationResult] = []
        features.withUnsafeBufferPointer { f in
            embeddingClassifier.classify(batch: f, count: 2, results: &results)
            let batch = PresetBatch(count: 2, features: f.baseAddress!, featureDimension: 4, classifier: embeddingClassifier)
            embedding.rescore(batch, results: &results)
            embedding.learn(batch, results: results[0..<2], outliers: [false, false])
        }
        for r in results.prefix(2) {
            fuzzCheck(r.entropy.isFinite && r.predicted >= 0 && r.predicted < 3, "restored tda scored \(r.predicted), entropy \(r.entropy)")
        }
    }
}

nonisolated(unsafe) var presets: Presets?

/// A section's value in either format; an archive that decodes must also encode.
func decode<T: Codable>(_ type: T.Type, _ bytes: Data) -> T? {
    guard let v = try? StateArchive.decodeSection(type, from: bytes) else { return nil }
    do { _ = try StateArchive.encode(v) } catch { fuzzCheck(false, "a decoded \(T.self) does not encode: \(error)") }
    return v
}

func restore(_ section: Section, _ bytes: Data) {
    switch section {
    case .sequence:
        guard var s = decode(SequenceTracker.self, bytes) else { return }
        // What the pipeline does with each message after a restart.
        for (i, stream) in ["cam-1", "cam-2", "cam-1"].enumerated() {
            let last = s.lastSeq(stream: stream)
            _ = s.observe(stream: stream, seq: UInt64(i) * 3)
            _ = last
        }
        _ = s.lastSeqs
    case .counters:
        guard var c = decode(ProcessingCounters.self, bytes) else { return }
        // Daemon.start counts the restart; the pipeline adds the samples it processes.
        c.restarts += 1
        c.samplesProcessed += 4
        c.sequenceMissing += 2
        _ = try? StateArchive.encode(c)
    case .drift:
        guard let m = decode(DriftMonitor.self, bytes) else { return }
        observe(m)
    case .driftStates:
        guard let all = decode([String: DriftMonitor].self, bytes) else { return }
        for m in all.values { observe(m) }
    case .outliers:
        guard var t = decode(ThresholdCalibrator.self, bytes) else { return }
        for score: Float in [0.1, 0.9, .nan, 2] { _ = t.observe(score) }
        _ = t.isOutlier(0.5)
    case .adaptation:
        guard let c = decode(AdaptationCheckpoint.self, bytes), let p = presets else { return }
        for (name, preset) in p.all {
            guard preset.restore(c) == nil else { continue }
            // Restored: the state must be one the preset can checkpoint and (tda) work from.
            fuzzCheck(preset.checkpoint() != nil, "\(name) restored a state it cannot checkpoint")
            if name == .tda { p.scoreEmbeddingBatch() }
        }
    }
}

/// What the pipeline does with a restored drift monitor: observe samples, report, checkpoint.
func observe(_ monitor: DriftMonitor) {
    var m = monitor
    let d = m.configuration.embeddingDimension
    let embedding = d > 0 ? [Float](repeating: 0.5, count: d) : nil
    for k in 0..<3 {
        if let embedding {
            _ = try? m.observe(entropy: 0.4, confidence: 0.7, predictedClass: k % m.configuration.classCount, frozenClass: 0, embedding: embedding)
        } else {
            _ = try? m.observe(entropy: 0.4, confidence: 0.7, predictedClass: k % m.configuration.classCount, frozenClass: 0)
        }
    }
    _ = m.snapshot()
    _ = try? StateArchive.encode(m)
}

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>) -> CInt {
    do {
        presets = try Presets()
    } catch {
        fatalError("fuzz-checkpoint: cannot build the presets (\(RepositoryPaths.quickModel)): \(error)")
    }
    if let dir = ProcessInfo.processInfo.environment["TTAD_FUZZ_WRITE_SEEDS"] {
        do {
            try CheckpointSeeds.write(into: URL(fileURLWithPath: dir), presets: presets!)
        } catch {
            fatalError("fuzz-checkpoint: writing seeds failed: \(error)")
        }
        exit(0)
    }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size >= 1, let section = Section(rawValue: data[0] % UInt8(Section.allCases.count)) else { return 0 }
    restore(section, Data(bytes: data + 1, count: size - 1))
    return 0
}
