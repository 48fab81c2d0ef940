import ArgumentParser
import Foundation
import TTADEngine
import TTADModel

/// CLIP forward throughput at the real ViT-B/32 or ViT-B/16 shapes with deterministic random
/// weights, next to the rate sgemm alone reaches on exactly the same products in the same run —
/// the roofline the forward is judged against. tools/bench_clip.sh runs this beside
/// tools/bench_clip_torch.py (transformers on torch) at the same thread count.
struct BenchCLIPCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-clip",
        abstract: "Measure CLIP image and text encoding speed against the sgemm roofline (random weights).")

    @Option(help: "Model shape: b32 (ViT-B/32) or b16 (ViT-B/16).")
    var shape: String = "b32"

    @Option(help: "OpenBLAS threads.")
    var threads: Int = 1

    @Option(help: "Image tower precision(s), comma-separated: f32, int8 or f32,int8 (measured side by side, with the ratio).")
    var precision: String = "f32"

    @Option(help: "Rounds of the image measurements, each timing every precision (the ratio is taken per round).")
    var rounds: Int = 1

    @Option(help: "Int8 kernels: auto (the best this CPU has), avx512-vnni, avx2 or portable.")
    var int8Kernel: String = "auto"

    @Option(help: "Minimum seconds per measurement (median of the repetitions is reported).")
    var minSeconds: Double = 3

    @Option(help: "Folder with the CLIP vocab.json and merges.txt used to tokenise the 1000 class prompts.")
    var tokenizerDir: String = "Tests/TTADModelTests/Fixtures/clip-tokenizer"

    @Flag(help: "Skip the text tower measurement.")
    var skipText = false

    @Option(help: "Also write the results as JSON to this path.")
    var json: String?

    func validate() throws {
        guard ["b32", "b16"].contains(shape) else { throw ValidationError("--shape must be b32 or b16") }
        guard threads >= 1 else { throw ValidationError("--threads must be ≥ 1") }
        guard rounds >= 1 else { throw ValidationError("--rounds must be ≥ 1") }
        guard !precisions.isEmpty, precisions.count == Set(precisions).count,
              precision.split(separator: ",").allSatisfy({ CLIPPrecision(rawValue: String($0)) != nil }) else {
            throw ValidationError("--precision must be f32, int8 or a comma-separated list of them, got \(precision)")
        }
        guard let kernel else { throw ValidationError("--int8-kernel must be auto, avx512-vnni, avx2 or portable, got \(int8Kernel)") }
        guard kernel.isAvailable else { throw ValidationError("--int8-kernel \(int8Kernel): this CPU does not have it") }
    }

    private var kernel: Int8Linear.Path? { Int8Linear.Path(name: int8Kernel) }

    private var precisions: [CLIPPrecision] { precision.split(separator: ",").compactMap { CLIPPrecision(rawValue: String($0)) } }

    func run() throws {
        BLASCoreSelection.reexecIfFasterKernelsAvailable()
        BLAS.threadCount = threads
        let config = CLIPConfiguration.vitB(patch: shape == "b32" ? 32 : 16)
        let weights = CLIPWeights(randomFor: config, seed: 0)
        var results: [String: Any] = ["impl": "swift", "shape": shape, "threads": threads, "openblas_core": BLAS.coreName]
        print("ttad CLIP \(shape), \(threads) thread(s), OpenBLAS \(BLAS.coreName)")
        if let advice = BLAS.coreTypeAdvice() { print("note: \(advice)") }

        // The ceiling: sgemm on a large product of the model's widest layer, where OpenBLAS is
        // at its best. Products with few rows (one image is 50 or 197 tokens) run below it.
        let peak = Self.sgemmRate(config.vision, rows: 2048, layers: 1, minSeconds: minSeconds)
        results["sgemm_peak_gflops"] = peak
        print(String(format: "sgemm at 2048 rows of the vision block products: %.1f GFLOP/s (the peak reference)", peak))

        var encoders: [(CLIPPrecision, CLIPVisionEncoder)] = []
        for p in precisions {
            switch p {
            case .f32: encoders.append((p, CLIPVisionEncoder(config: config, weights: weights.vision)))
            case .int8:
                Int8Linear.Path.autoResolved = kernel ?? .auto
                let t0 = DispatchTime.now().uptimeNanoseconds
                let int8 = CLIPVisionInt8Weights(weights.vision, config: config)
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
                results["int8_kernel"] = Int8Linear.Path.autoResolved.name
                results["int8_quantize_s"] = seconds
                print("int8: \(Int8Linear.Path.autoResolved.name) kernels; "
                      + String(format: "quantizing the vision block linears took %.2f s, %.1f MiB", seconds, Double(int8.byteCount) / 1048576))
                encoders.append((p, CLIPVisionEncoder(config: config, weights: weights.vision, int8: int8)))
            }
        }
        let imageFloats = encoders[0].1.imageFloatCount
        let perImage = CLIPFlops.image(config)
        results["image_gflop_per_image"] = perImage / 1e9
        var rng = SplitMix64(seed: 1)
        for batch in [1, 8] {
            let images = FloatBuffer((0..<(batch * imageFloats)).map { _ in rng.gaussian() })
            let features = FloatBuffer(count: batch * config.projectionDim)
            let roof = Self.sgemmRate(config.vision, rows: batch * config.visionSequenceLength, layers: config.vision.layers, minSeconds: minSeconds)
            results["sgemm_b\(batch)_gflops"] = roof
            // Precisions alternate within each round, and the ratio is taken per round: these
            // VMs drift by tens of percent within minutes, the ratio within a round far less.
            var ratios: [Double] = []
            for round in 1...rounds {
                var rates: [CLIPPrecision: Double] = [:]
                for (p, vision) in encoders {
                    let t = Self.median(minSeconds) { vision.encode(images: images.pointer, batch: batch, features: features.pointer) }
                    let gflops = perImage * Double(batch) / t / 1e9
                    // F32 keeps its historical keys; other precisions are suffixed; the last round is kept.
                    let suffix = p == .f32 ? "" : "_\(p.rawValue)"
                    results["image_b\(batch)_per_s\(suffix)"] = Double(batch) / t
                    results["image_b\(batch)_gflops\(suffix)"] = gflops
                    rates[p] = Double(batch) / t
                    print("image batch \(batch) \(p.rawValue)" + (rounds > 1 ? " round \(round):" : ":")
                          + String(format: " %7.2f images/s  %6.1f GFLOP/s = %3.0f%% of sgemm at these shapes (%.1f GFLOP/s), %3.0f%% of peak",
                                   Double(batch) / t, gflops, 100 * gflops / roof, roof, 100 * gflops / peak))
                }
                if let f = rates[.f32], let q = rates[.int8] { ratios.append(q / f) }
            }
            if !ratios.isEmpty {
                let median = ratios.sorted()[ratios.count / 2]
                results["image_b\(batch)_int8_over_f32"] = median
                results["image_b\(batch)_int8_over_f32_rounds"] = ratios
                print("image batch \(batch): int8 / f32 = " + ratios.map { String(format: "%.2fx", $0) }.joined(separator: ", ")
                      + (ratios.count > 1 ? String(format: " (median %.2fx)", median) : ""))
            }
        }

        if !skipText {
            let tokenizer = try CLIPTokenizer(vocabPath: tokenizerDir + "/vocab.json", mergesPath: tokenizerDir + "/merges.txt")
            let prompts = Self.classNames(1000).map { tokenizer.encode("a photo of a \($0).", contextLength: config.maxPositions) }
            let padded = prompts.map { $0 + [Int32](repeating: tokenizer.endToken, count: config.maxPositions - $0.count) }
            let text = CLIPTextEncoder(config: config, weights: weights.text)
            let features = FloatBuffer(count: prompts.count * config.projectionDim)
            // One warm-up and one timed pass each: a padded pass takes about a minute on one core.
            let truncated = Self.median(0, warmups: 1, minReps: 1) { try! text.encode(sequences: prompts, features: features.pointer) }
            text.stopAtEndToken = false
            let full = Self.median(0, warmups: 1, minReps: 1) { try! text.encode(sequences: padded, features: features.pointer) }
            let tokens = prompts.reduce(0) { $0 + $1.count }
            let flops = prompts.reduce(0.0) { $0 + CLIPFlops.text(config, tokens: $1.count) }
            let roof = Self.sgemmRate(config.text, rows: min(tokens, text.maxRowsPerChunk), layers: config.text.layers, minSeconds: minSeconds)
            results["text_prompts"] = prompts.count
            results["text_mean_tokens"] = Double(tokens) / Double(prompts.count)
            results["text_eot_per_s"] = Double(prompts.count) / truncated
            results["text_padded77_per_s"] = Double(prompts.count) / full
            results["text_eot_gflops"] = flops / truncated / 1e9
            results["sgemm_text_gflops"] = roof
            print(String(format: "text, 1000 prompts (mean %.1f tokens): %7.1f prompts/s stopping at the end token, %6.1f padded to 77 (%.1fx); %.1f GFLOP/s = %.0f%% of sgemm (%.1f GFLOP/s)",
                         Double(tokens) / Double(prompts.count), Double(prompts.count) / truncated, Double(prompts.count) / full,
                         full / truncated, flops / truncated / 1e9, 100 * flops / truncated / 1e9 / roof, roof))
        }
        results["peak_rss_mib"] = Self.peakRSSMiB()
        if let json {
            let data = try JSONSerialization.data(withJSONObject: results, options: [.prettyPrinted, .sortedKeys])
            try data.write(to: URL(fileURLWithPath: json))
        }
    }

    /// The class names tools/bench_clip_torch.py uses, so both sides encode identical prompts.
    static func classNames(_ n: Int) -> [String] {
        let adjectives = ["red", "small", "striped", "wooden", "ancient", "shiny", "folded", "electric",
                          "tropical", "miniature", "rusty", "transparent"]
        let nouns = ["widget", "bird", "teapot", "bicycle", "lantern", "mountain goat", "sailing boat",
                     "umbrella", "violin", "armchair", "cactus", "lighthouse", "pocket watch"]
        return (0..<n).map { "\(adjectives[$0 % adjectives.count]) \(nouns[($0 / adjectives.count) % nouns.count]) \($0)" }
    }

    /// GFLOP/s of sgemm alone running one forward's block products (all layers) at `rows` rows:
    /// the same shapes and the same weight-matrix sizes as the model, nothing else.
    static func sgemmRate(_ c: CLIPTowerConfiguration, rows: Int, layers: Int, minSeconds: Double) -> Double {
        let shapes = CLIPFlops.blockProductShapes(c, rows: rows)
        let maxN = shapes.map(\.n).max()!, maxK = shapes.map(\.k).max()!
        let a = FloatBuffer(count: rows * maxK), out = FloatBuffer(count: rows * maxN)
        let scratch = FloatBuffer(count: Linear.transposedRowLimit * maxN)   // same orientation choice as the model
        // One distinct weight matrix per product and layer, as in the model (cache behaviour matters).
        let weights = (0..<layers).map { _ in shapes.map { FloatBuffer(count: $0.n * $0.k) } }
        var flops = 0.0
        for s in shapes { flops += 2 * Double(s.m * s.n * s.k) }
        let t = median(minSeconds) {
            for l in 0..<layers {
                for (i, s) in shapes.enumerated() {
                    Linear.forward(x: a.pointer, rows: s.m, inDim: s.k, weight: weights[l][i].pointer, bias: nil, outDim: s.n,
                                   y: out.pointer, transposeScratch: scratch.pointer)
                }
            }
        }
        return flops * Double(layers) / t / 1e9
    }

    /// Median seconds per call: `warmups` untimed calls, then at least `minReps` calls and `minSeconds`.
    static func median(_ minSeconds: Double, warmups: Int = 2, minReps: Int = 3, _ body: () -> Void) -> Double {
        for _ in 0..<warmups { body() }
        var times: [Double] = []
        let start = DispatchTime.now().uptimeNanoseconds
        while times.count < minReps || Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 < minSeconds {
            let t0 = DispatchTime.now().uptimeNanoseconds
            body()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
        }
        times.sort()
        return times[times.count / 2]
    }

    static func peakRSSMiB() -> Double {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let kb = line.split(separator: " ").compactMap { Double($0) }.first ?? 0
            return kb / 1024
        }
        return 0
    }
}
