import Foundation
import TTADAdaptation
import TTADEngine
import TTADModel

/// The `dynaprompt` preset: DynaPrompt (ICLR 2025) on the text context. Per sample, the views
/// (as `tpt`), every buffered prompt and the fresh one scored on them (`DynaPromptStep.score`:
/// mean entropy, max-logit drop), the buffer's selection (`PromptBuffer`: the paper's relevance
/// rule, a fresh prompt appended when nothing is relevant, the least recently used slot
/// recycled when full), one AdamW step of the selected prompts (fresh moments each sample) and
/// the prediction averaged over them. The buffer persists across samples and restarts; every
/// sample changes it, so the version counts samples.
final class DynaPromptAdapter: SamplePreset {
    let step: DynaPromptStep
    private(set) var buffer: PromptBuffer
    private(set) var version = 0
    private let augmenter: ViewAugmenter
    private let viewCount: Int
    private let views: FloatBuffer
    private var entropies: [Float], differences: [Float]
    private let key: String
    private var report = AdaptationReport()

    init(settings: AdaptationSection, model: CLIPModel, prompts: ClassPromptEncoder) throws {
        let s = settings.promptTuning
        let (count, context) = try TPTAdapter.context(model: model, template: prompts.template)
        step = try DynaPromptStep(model: model, classPrompts: prompts.prompts, contextCount: count, initialContext: context,
                                  keepFraction: s.keepFraction, learningRate: s.learningRate)
        buffer = PromptBuffer(configuration: try PromptBuffer.Configuration(residualLength: step.residualLength, slotCapacity: s.slots))
        augmenter = ViewAugmenter(preprocessing: model.preprocessing, seed: settings.seed)
        viewCount = s.views
        views = FloatBuffer(count: s.views * augmenter.viewFloatCount)
        entropies = Array(repeating: 0, count: s.slots + 1)
        differences = entropies
        key = "dynaprompt \(s) seed=\(settings.seed) model=\(model.folder) classes=\(prompts.classNames)"
    }

    func predict(row: Int, image: DecodedImage, pixels: UnsafePointer<Float>, logits: UnsafeMutablePointer<Float>) {
        augmenter.views(of: image, count: viewCount, into: UnsafeMutableBufferPointer(start: views.pointer, count: views.count))
        let t0 = DispatchTime.now().uptimeNanoseconds
        let m = buffer.slotCount
        buffer.withResiduals { r in
            entropies.withUnsafeMutableBufferPointer { e in
                differences.withUnsafeMutableBufferPointer { d in
                    step.score(views: views.pointer, viewCount: viewCount, residuals: r.baseAddress ?? UnsafePointer(views.pointer), slotCount: m,
                               entropies: e.baseAddress!, differences: d.baseAddress!)
                }
            }
        }
        let selection: PromptSelection
        do {
            selection = try buffer.select(entropies: Array(entropies[0..<m]), probabilityDifferences: Array(differences[0..<m]),
                                          freshEntropy: entropies[m], freshProbabilityDifference: differences[m])
        } catch {
            preconditionFailure("DynaPromptAdapter: scored \(m) slots, the buffer has \(buffer.slotCount): \(error)")
        }
        let selected = Array(selection.slots), slots = buffer.slotCount
        let loss = buffer.withMutableResiduals { r in
            step.update(residuals: r.baseAddress!, slotCount: slots, selected: selected, logits: logits)
        }
        version += 1
        report.stepSeconds.append(Double(DispatchTime.now().uptimeNanoseconds &- t0) / 1e9)
        if loss.isFinite { report.lastLoss = loss }
    }

    func observe(row: Int, sample: () -> BankSample, frozenClass: Int, isOutlier: Bool) { report.observedSamples += 1 }

    func takeReport() -> AdaptationReport {
        var r = report
        report = AdaptationReport()
        r.version = version
        return r
    }

    struct State: Codable {
        var buffer: PromptBuffer
        var version: Int
    }

    func checkpoint() throws -> PresetCheckpoint {
        try makeCheckpoint(preset: "dynaprompt", key: key, state: State(buffer: buffer, version: version))
    }

    func restore(_ c: PresetCheckpoint) -> String? {
        switch decodeCheckpoint(c, preset: "dynaprompt", key: key, as: State.self) {
        case .failure(let e): return e.reason
        case .success(let s):
            guard s.buffer.configuration == buffer.configuration else { return "prompt buffer settings changed" }
            buffer = s.buffer
            version = s.version
            return nil
        }
    }
}

extension DynaPromptAdapter {
    static let descriptor = PresetDescriptor(name: .dynaprompt, worksOnEmbeddings: false,
                                             summary: "DynaPrompt: TPT's step on a buffer of prompts selected per sample") { c in
        let i = try c.requireImage("dynaprompt")
        return PerSamplePreset(try DynaPromptAdapter(settings: c.settings, model: i.model, prompts: i.prompts), context: c)
    }
}
