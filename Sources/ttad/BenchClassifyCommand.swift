import ArgumentParser
import Foundation
import TTADEngine
import TTADModel

/// The in-process ceiling for the embedding path: raw sgemm at the classifier's shape and the
/// classifier's throughput per batch size, measured side by side in one run (machines here are
/// noisy, so only ratios within a run mean much).
struct BenchClassifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-classify",
        abstract: "Measure sgemm GFLOP/s and embedding-classifier samples/s without sockets.")

    @Option(help: "Number of classes.")
    var classes: Int = 1000

    @Option(help: "Embedding dimension.")
    var dim: Int = 512

    @Option(help: "Batch sizes, comma-separated.")
    var batches: String = "1,32,64,256"

    @Option(help: "Seconds per measurement (best of 3).")
    var seconds: Double = 1

    func run() throws {
        BLASCoreSelection.reexecIfFasterKernelsAvailable()
        BLAS.threadCount = 1
        var rng = SplitMix64(seed: 9)
        let matrix = Tensor(shape: [classes, dim], storage: (0..<(classes * dim)).map { _ in rng.gaussian() })
        let names = (0..<classes).map { "c\($0)" }
        let ce = try ClassEmbeddings(names: names, matrix: matrix)
        let sizes = batches.split(separator: ",").compactMap { Int($0) }.filter { $0 > 0 }
        let maxBatch = sizes.max() ?? 256
        let input = (0..<(maxBatch * dim)).map { _ in rng.gaussian() }
        print("OpenBLAS \(BLAS.coreName), 1 thread; \(classes) classes × \(dim) dims")
        if let advice = BLAS.coreTypeAdvice() { print("note: \(advice)") }
        for b in sizes {
            // Raw sgemm at the classifier's shape: [b, D] × [C, D]ᵀ.
            var out = [Float](repeating: 0, count: b * classes)
            let gemm = best { () -> Int in
                input.withUnsafeBufferPointer { x in
                    ce.matrix.storage.withUnsafeBufferPointer { w in
                        out.withUnsafeMutableBufferPointer { c in
                            BLAS.sgemm(transA: false, transB: true, m: b, n: classes, k: dim, alpha: 1,
                                       a: x.baseAddress!, lda: dim, b: w.baseAddress!, ldb: dim, beta: 0,
                                       c: c.baseAddress!, ldc: classes)
                        }
                    }
                }
                return b
            }
            let classifier = EmbeddingClassifier(classes: ce, logitScale: 100, topK: 5, maxBatch: b)
            var results = classifier.makeResults(count: b)
            let full = best { () -> Int in
                input.withUnsafeBufferPointer { x in
                    classifier.classify(batch: UnsafeBufferPointer(rebasing: x[0..<(b * dim)]), count: b, results: &results)
                }
                return b
            }
            let gflops = gemm * 2 * Double(classes * dim) / 1e9
            print(String(format: "batch %4d: sgemm %6.1f GFLOP/s = %8.0f samples/s | classify %8.0f samples/s (%.0f%% of the sgemm bound)",
                         b, gflops, gemm, full, 100 * full / gemm))
        }
    }

    /// Best rate (items/s) over 3 runs of `seconds` each.
    private func best(_ work: () -> Int) -> Double {
        var bestRate = 0.0
        for _ in 0..<3 {
            var items = 0
            let t0 = DispatchTime.now().uptimeNanoseconds
            var elapsed = 0.0
            repeat {
                items += work()
                elapsed = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
            } while elapsed < seconds
            bestRate = max(bestRate, Double(items) / elapsed)
        }
        return bestRate
    }
}
