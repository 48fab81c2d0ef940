import Foundation
import TTADEngine
import TTADModel
import TTADProtocol

/// What the `ttad` preset learns on its `LearningWorker` in live mode: everything it does
/// besides predicting — the frozen model's prediction of each sample (the reference for
/// admission, the collapse guard and the label gate), the bank, and the replay steps.
///
/// Each round runs the source model on the queued samples in chunks of up to 32, observes every
/// sample, and then takes at most one step (if due), so when CPU is short it steps less often
/// rather than observing less. Published: the adapted LayerNorm affines, then the calibration
/// temperature, which moves with every sample whose unscaled logits the job carries (it reaches
/// predictions with the next published version).
final class TTADLearning: BackgroundLearning {
    struct Job: Sendable {
        var payloads: [[UInt8]]
        var encodings: [SampleEncoding]
        var shapes: [[Int]?]
        var results: [ClassificationResult]
        var outliers: [Bool]
        /// The adapted logits before the temperature, row by row (empty: calibration is off).
        var logits: [Float] = []
        var count: Int { results.count }
    }

    let adapter: AnchoredNormAdapter
    private let replay: ReplayDecoder
    private let frozenClassifier: EmbeddingClassifier
    private let pixels: FloatBuffer
    private let frozenFeatures: FloatBuffer
    private var frozenResults: [ClassificationResult] = []
    private let temperature = FloatBuffer(count: 1)
    private var logitRow: [Float] = []
    /// Samples per batched source-model forward (bounds the pixel buffer).
    private let chunkRows: Int

    init(adapter: AnchoredNormAdapter, classes: ClassEmbeddings, logitScale: Float, maxBatch: Int, decodeLimits: ImageDecodeLimits,
         preprocessing: ImagePreprocessorConfig) {
        precondition(maxBatch > 0)
        self.adapter = adapter
        replay = ReplayDecoder(limits: decodeLimits, preprocessing: preprocessing)
        frozenClassifier = EmbeddingClassifier(classes: classes, logitScale: logitScale, topK: 1, maxBatch: min(maxBatch, 32))
        chunkRows = min(maxBatch, 32)
        pixels = FloatBuffer(count: chunkRows * adapter.learner.imageFloatCount)
        frozenFeatures = FloatBuffer(count: chunkRows * adapter.learner.config.projectionDim)
    }

    static func samples(in job: Job) -> Int { job.count }

    var version: Int { adapter.version }

    var publishedParameters: [FloatBuffer] {
        temperature.pointer[0] = adapter.confidence.temperature
        return adapter.learner.trainer.layerNorms.map(\.value) + [temperature]
    }

    /// The adapted top-1 probability of one row of unscaled logits at the current temperature.
    private func calibratedConfidence(_ logits: ArraySlice<Float>) -> Double {
        let inv = 1 / adapter.confidence.temperature
        logitRow.removeAll(keepingCapacity: true)
        for l in logits { logitRow.append(l * inv) }
        return logitRow.withUnsafeMutableBufferPointer { p in
            _ = VectorOps.softmax(inPlace: p)
            return Double(p.max() ?? .nan)
        }
    }

    func snapshot() -> AnchoredNormAdapter.State { adapter.state() }

    func takeReport() -> AdaptationReport { adapter.takeReport() }

    func process(_ round: [Job]) {
        let n = adapter.learner.imageFloatCount, p = adapter.learner.config.projectionDim
        // (job, sample) pairs of the current chunk.
        var chunk: [(job: Int, sample: Int)] = []
        chunk.reserveCapacity(chunkRows)
        func observeChunk() {
            guard !chunk.isEmpty else { return }
            var decoded = [Bool](repeating: false, count: chunk.count)
            for (r, at) in chunk.enumerated() {
                let job = round[at.job], i = at.sample
                decoded[r] = job.payloads[i].withUnsafeBytes {
                    replay.preprocess($0, encoding: job.encodings[i], shape: job.shapes[i],
                                      into: UnsafeMutableBufferPointer(start: pixels.pointer + r * n, count: n))
                }
                if !decoded[r] { (pixels.pointer + r * n).update(repeating: 0, count: n) }
            }
            adapter.learner.encodeFrozen(images: pixels.pointer, batch: chunk.count, features: frozenFeatures.pointer)
            frozenClassifier.classify(batch: UnsafeBufferPointer(start: frozenFeatures.pointer, count: chunk.count * p),
                                      count: chunk.count, results: &frozenResults)
            for (r, at) in chunk.enumerated() where decoded[r] {
                let job = round[at.job], i = at.sample
                let sample = { BankSample(encoding: job.encodings[i].rawValue, shape: job.shapes[i], bytes: Data(job.payloads[i])) }
                _ = adapter.observe(sample: sample, result: job.results[i], frozenClass: frozenResults[r].predicted,
                                    isOutlier: job.outliers[i])
                let c = job.logits.count / max(job.count, 1)
                let predicted = job.results[i].predicted
                if c > 0, job.logits.count == c * job.count, predicted >= 0, predicted < c {
                    let s = frozenClassifier.withProbabilities(ofRow: r) { $0[predicted] }
                    adapter.calibrate(adaptedConfidence: calibratedConfidence(job.logits[i * c..<(i + 1) * c]),
                                      sourceConfidence: Double(s))
                }
            }
            chunk.removeAll(keepingCapacity: true)
        }
        for (j, job) in round.enumerated() {
            for i in 0..<job.count {
                chunk.append((j, i))
                if chunk.count == chunkRows { observeChunk() }
            }
        }
        observeChunk()
        if adapter.stepDue { _ = adapter.step { item, out in self.replay.preprocess(item, into: out) } }
    }
}
