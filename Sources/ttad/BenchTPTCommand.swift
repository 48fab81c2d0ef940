import ArgumentParser
import Foundation
import TTADEngine
import TTADModel

/// One TPT step (64 views at 224 px, the 6 most confident kept, n_ctx 4, one AdamW step on the
/// context, then the prediction on the original view) at ViT-B shapes with random weights, for
/// several class counts. tools/bench_tpt.sh runs it beside tools/bench_tpt_torch.py.
struct BenchTPTCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-tpt",
        abstract: "Measure one test-time prompt-tuning step (random ViT-B weights) per class count.")

    @Option(help: "Model shape: b32 or b16.")
    var shape: String = "b32"

    @Option(help: "Class counts, comma-separated.")
    var classes: String = "10,100,1000"

    @Option(help: "Views per step (view 0 is the original).")
    var views: Int = 64

    @Option(help: "OpenBLAS threads.")
    var threads: Int = 1

    @Option(help: "Timed steps per class count (after one warm-up step).")
    var reps: Int = 3

    @Option(help: "Folder with the CLIP vocab.json and merges.txt.")
    var tokenizerDir: String = "Tests/TTADModelTests/Fixtures/clip-tokenizer"

    @Option(help: "Also write the results as JSON to this path.")
    var json: String?

    func validate() throws {
        guard ["b32", "b16"].contains(shape) else { throw ValidationError("--shape must be b32 or b16") }
        guard threads >= 1, views >= 2, reps >= 1 else { throw ValidationError("--threads ≥ 1, --views ≥ 2, --reps ≥ 1") }
    }

    func run() throws {
        BLASCoreSelection.reexecIfFasterKernelsAvailable()
        BLAS.threadCount = threads
        let config = CLIPConfiguration.vitB(patch: shape == "b32" ? 32 : 16)
        let tokenizer = try CLIPTokenizer(vocabPath: tokenizerDir + "/vocab.json", mergesPath: tokenizerDir + "/merges.txt")
        let model = CLIPModel(randomWeightsFor: config, seed: 0, tokenizer: tokenizer)
        let (contextCount, context) = TPTStep.initialContext(model: model, phrase: "a photo of a")
        var rng = SplitMix64(seed: 5)
        let imageFloats = config.channels * config.imageSize * config.imageSize
        let pixels = FloatBuffer((0..<(views * imageFloats)).map { _ in rng.gaussian() })
        print("ttad TPT step, \(shape), \(views) views, \(threads) thread(s), OpenBLAS \(BLAS.coreName)")
        var rows: [[String: Any]] = []
        for c in classes.split(separator: ",").compactMap({ Int($0) }) where c > 0 {
            let names = BenchCLIPCommand.classNames(c)
            let prompts = names.map { model.tokenize("a photo of a \($0).") }
            let step = try TPTStep(model: model, classPrompts: prompts, contextCount: contextCount, initialContext: context)
            let logits = FloatBuffer(count: c)
            let t = BenchCLIPCommand.median(0, warmups: 1, minReps: reps) {
                step.step(views: pixels.pointer, viewCount: views, logits: logits.pointer)
            }
            let row: [String: Any] = ["impl": "swift", "shape": shape, "threads": threads, "classes": c, "views": views,
                                      "kept": step.lastKept.count, "step_s": t, "peak_rss_mib": BenchCLIPCommand.peakRSSMiB()]
            rows.append(row)
            print(String(format: "C = %4d: %.3f s per step (kept %d views), peak RSS %.0f MiB", c, t, step.lastKept.count,
                         BenchCLIPCommand.peakRSSMiB()))
        }
        if let json {
            let data = try JSONSerialization.data(withJSONObject: rows, options: [.prettyPrinted, .sortedKeys])
            try data.write(to: URL(fileURLWithPath: json))
        }
    }
}
