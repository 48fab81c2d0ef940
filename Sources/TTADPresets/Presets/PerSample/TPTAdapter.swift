import Foundation
import TTADEngine
import TTADModel

/// The `tpt` preset: TPT as published, episodic. Per sample, `views` views (the original and
/// random resized crops with flips, `ViewAugmenter`), one AdamW step of the text context on the
/// marginal entropy of the most confident tenth, the prediction of the original view under the
/// stepped context; then everything goes back to the initial prompt. Nothing persists, so the
/// version stays 0 and a checkpoint holds only the settings key.
///
/// The context is the template's text before the class name ("a photo of a" for the shipped
/// "a photo of a {}."): TPT's `ctx_init`.
final class TPTAdapter: SamplePreset {
    let tpt: TPTStep
    private let augmenter: ViewAugmenter
    private let viewCount: Int
    private let views: FloatBuffer
    private let key: String
    private var report = AdaptationReport()
    var version: Int { 0 }

    init(settings: AdaptationSection, model: CLIPModel, prompts: ClassPromptEncoder) throws {
        let s = settings.promptTuning
        let (count, context) = try Self.context(model: model, template: prompts.template)
        tpt = try TPTStep(model: model, classPrompts: prompts.prompts, contextCount: count, initialContext: context,
                          keepFraction: s.keepFraction, learningRate: s.learningRate, episodic: true)
        augmenter = ViewAugmenter(preprocessing: model.preprocessing, seed: settings.seed)
        viewCount = s.views
        views = FloatBuffer(count: s.views * augmenter.viewFloatCount)
        key = "tpt \(s) seed=\(settings.seed) model=\(model.folder) classes=\(prompts.classNames)"
    }

    /// TPT's `ctx_init`: the token embeddings of the template's text before `{}`.
    static func context(model: CLIPModel, template: String) throws -> (count: Int, values: [Float]) {
        let phrase = template.components(separatedBy: ClassPromptEncoder.placeholder)[0].trimmingCharacters(in: .whitespaces)
        let c = TPTStep.initialContext(model: model, phrase: phrase)
        guard c.count > 0 else {
            throw AdaptationSetupError("the prompt-tuning presets tune the words before {} in model.prompt_template, and \"\(template)\" has none")
        }
        return c
    }

    func predict(row: Int, image: DecodedImage, pixels: UnsafePointer<Float>, logits: UnsafeMutablePointer<Float>) {
        augmenter.views(of: image, count: viewCount, into: UnsafeMutableBufferPointer(start: views.pointer, count: views.count))
        let t0 = DispatchTime.now().uptimeNanoseconds
        let loss = tpt.step(views: views.pointer, viewCount: viewCount, logits: logits)
        report.stepSeconds.append(Double(DispatchTime.now().uptimeNanoseconds &- t0) / 1e9)
        if loss.isFinite { report.lastLoss = loss }
    }

    func observe(row: Int, sample: () -> BankSample, frozenClass: Int, isOutlier: Bool) { report.observedSamples += 1 }

    func takeReport() -> AdaptationReport {
        var r = report
        report = AdaptationReport()
        r.version = 0
        return r
    }

    func checkpoint() throws -> PresetCheckpoint { try makeCheckpoint(preset: "tpt", key: key, state: [Int]()) }

    func restore(_ c: PresetCheckpoint) -> String? {
        if case .failure(let e) = decodeCheckpoint(c, preset: "tpt", key: key, as: [Int].self) { return e.reason }
        return nil
    }
}

extension TPTAdapter {
    static let descriptor = PresetDescriptor(name: .tpt, worksOnEmbeddings: false,
                                             summary: "TPT: per sample, one step of the text context on views, then reset") { c in
        let i = try c.requireImage("tpt")
        return PerSamplePreset(try TPTAdapter(settings: c.settings, model: i.model, prompts: i.prompts), context: c)
    }
}
