import Foundation
import TTADEngine
import TTADModel

/// A method whose prediction of each sample is its own work — `tpt`, `dynaprompt`, `rotta`,
/// `stamp`. `PerSamplePreset` drives it: each sample is scored zero-shot as always (the features
/// the drift monitor sees, the cosine the outlier score uses, the frozen class), then the method
/// writes its logits and the result is rescored from them; once the outlier flag is known the
/// method learns from the sample (never from an outlier).
///
/// For TPT and DynaPrompt the step *is* the prediction, so they run on the processing thread in
/// both executions; a method whose learning can run apart (RoTTA, STAMP) hands it to a `LearningWorker`
/// in live mode (`SplitSamplePreset`, `LiveSamplePreset`).
protocol SamplePreset: AnyObject {
    /// Version of the adapted parameters the next prediction uses.
    var version: Int { get }
    /// Writes sample `row`'s class logits (`classCount` floats). `image` is the decoded sample,
    /// `pixels` its model input.
    func predict(row: Int, image: DecodedImage, pixels: UnsafePointer<Float>, logits: UnsafeMutablePointer<Float>)
    /// Instead of `predict` per sample (live mode, `LiveSamplePreset`): writes the whole batch's
    /// image features from the method's own predicting tower, which the daemon classifies as it
    /// does the source's — one batched forward in place of the source's plus one per sample.
    /// Returns false (the default) to predict per sample.
    func encode(images: UnsafePointer<Float>, batch: Int, features: UnsafeMutablePointer<Float>) -> Bool
    /// After `encode` supplied the features: row `row`'s result as classified from them.
    func predicted(row: Int, result: ClassificationResult)
    /// Learns from sample `row` of the batch just predicted; `sample` makes the bank copy.
    func observe(row: Int, sample: () -> BankSample, frozenClass: Int, isOutlier: Bool)
    /// After the `observe` calls of one batch.
    func batchLearned()
    /// What adaptation did since the last call, `observedSamples` included.
    func takeReport() -> AdaptationReport
    /// Starts a worker, after any restore.
    func start()
    /// Lets a worker finish what it was handed; false if it did not within `timeout` seconds.
    func finish(timeout: Double) -> Bool
    /// Everything the method keeps, for the checkpoint.
    func checkpoint() throws -> PresetCheckpoint
    /// Continues from a checkpoint; returns why not (changing nothing) when it does not fit.
    func restore(_ c: PresetCheckpoint) -> String?
}

extension SamplePreset {
    func encode(images: UnsafePointer<Float>, batch: Int, features: UnsafeMutablePointer<Float>) -> Bool { false }
    func predicted(row: Int, result: ClassificationResult) {}
    func batchLearned() {}
    func start() {}
    func finish(timeout: Double) -> Bool { true }

    /// Encodes `state` under this preset's `key`.
    func makeCheckpoint<S: Encodable>(preset: String, key: String, state: S) throws -> PresetCheckpoint {
        try PresetCheckpoint(preset: preset, key: key, version: version, saving: state)
    }

    /// Decodes the state of a checkpoint written by the same preset with the same settings.
    func decodeCheckpoint<S: Decodable>(_ c: PresetCheckpoint, preset: String, key: String, as: S.Type) -> Result<S, PresetRestoreError> {
        guard c.preset == preset else { return .failure(.init("the checkpoint holds the \(c.preset) preset's state")) }
        guard StateKey.matches(c.key, key) else { return .failure(.init("adaptation settings, model or classes changed since the checkpoint")) }
        do { return .success(try c.decodeState(S.self)) } catch {
            return .failure(.init("unreadable \(preset) state: \(error)"))
        }
    }
}

struct PresetRestoreError: Error {
    var reason: String
    init(_ reason: String) { self.reason = reason }
}

/// Drives a `SamplePreset` through the preset protocol (image mode only: the methods make views
/// of the image or run the tower on it).
final class PerSamplePreset: AdaptationPreset {
    let method: SamplePreset
    private let topK: Int
    private let classCount: Int
    private let logits: FloatBuffer
    private var top: [(index: Int, value: Float)] = []
    /// Each row's zero-shot class: the frozen reference the methods' admission compares against
    /// (-1 when the method's own tower gave the batch's features: no zero-shot class then).
    private var frozenClasses: [Int]
    private(set) var version = 0
    /// The method wrote this batch's features itself (`encode`), so it is already predicted.
    private var encodedByMethod = false

    init(_ method: SamplePreset, context: PresetContext) {
        self.method = method
        topK = context.topK
        classCount = context.classes.count
        logits = FloatBuffer(count: context.classes.count)
        frozenClasses = Array(repeating: -1, count: context.maxBatch)
    }

    func encode(images: UnsafePointer<Float>, batch count: Int, features: UnsafeMutablePointer<Float>) -> Bool {
        // Read first: a live method takes its newest parameters here, for the whole batch.
        version = method.version
        encodedByMethod = method.encode(images: images, batch: count, features: features)
        return encodedByMethod
    }

    func rescore(_ batch: PresetBatch, results: inout [ClassificationResult]) {
        guard let images = batch.images else { return }
        if encodedByMethod {
            encodedByMethod = false
            for i in 0..<batch.count {
                frozenClasses[i] = -1
                method.predicted(row: i, result: results[i])
            }
            return
        }
        version = method.version
        for i in 0..<batch.count {
            frozenClasses[i] = results[i].predicted
            method.predict(row: i, image: images.decoded[i], pixels: images.pixels(at: i), logits: logits.pointer)
            results[i].rescore(logits: UnsafeMutableBufferPointer(start: logits.pointer, count: classCount), topK: topK, top: &top)
        }
    }

    func learn(_ batch: PresetBatch, results: ArraySlice<ClassificationResult>, outliers: [Bool]) {
        guard let images = batch.images else { return }
        for i in 0..<batch.count {
            method.observe(row: i, sample: { images.sample(i) }, frozenClass: frozenClasses[i], isOutlier: i < outliers.count && outliers[i])
        }
        method.batchLearned()
    }

    var reportsAdaptation: Bool { true }

    func takeReport() -> AdaptationReport? {
        method.takeReport()
    }

    func start() { method.start() }

    func finish(timeout: Double) -> Bool { method.finish(timeout: timeout) }

    func checkpoint() -> AdaptationCheckpoint? { (try? method.checkpoint()).map { AdaptationCheckpoint(preset: $0) } }

    func restore(_ c: AdaptationCheckpoint) -> String? {
        guard let p = c.preset else { return "the checkpoint holds another preset's state" }
        if let why = method.restore(p) { return why }
        version = method.version
        return nil
    }
}
