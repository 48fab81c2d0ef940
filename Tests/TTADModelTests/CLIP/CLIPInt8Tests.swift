import Foundation
import XCTest
import TTADEngine
@testable import TTADModel

/// The int8 image tower (`CLIPPrecision.int8`) against the F32 one: a tiny random tower's
/// embeddings, the bundled model's decisions on its committed reference images, and the
/// `ttad` preset's learner predicting with adapted LayerNorms over int8 linears while its steps
/// stay F32.
final class CLIPInt8Tests: XCTestCase {
    /// Stated bound: cosine(int8, F32) of every image embedding of the tiny random tower.
    static let tinyCosineBound: Float = 0.99

    private static let tiny = CLIPConfiguration(
        text: .init(hiddenSize: 32, intermediateSize: 64, layers: 1, heads: 2, activation: .quickGELU, layerNormEps: 1e-5),
        vision: .init(hiddenSize: 72, intermediateSize: 200, layers: 3, heads: 4, activation: .quickGELU, layerNormEps: 1e-5),
        vocabSize: 100, maxPositions: 16, bosTokenID: 98, eosTokenID: 99,
        imageSize: 40, patchSize: 8, channels: 3, projectionDim: 24, logitScaleInit: 2.6592)

    private func cosine(_ a: ArraySlice<Float>, _ b: ArraySlice<Float>) -> Float {
        var ab = 0.0, aa = 0.0, bb = 0.0
        for (x, y) in zip(a, b) { ab += Double(x * y); aa += Double(x * x); bb += Double(y * y) }
        return Float(ab / (aa * bb).squareRoot())
    }

    func testTinyRandomTowerInt8EmbeddingsAreCloseToF32() {
        let config = Self.tiny
        let weights = CLIPWeights(randomFor: config, seed: 7)
        let int8 = CLIPVisionInt8Weights(weights.vision, config: config)
        XCTAssertEqual(int8.layers.count, 3)
        let f32 = CLIPVisionEncoder(config: config, weights: weights.vision)
        let q = CLIPVisionEncoder(config: config, weights: weights.vision, int8: int8)
        var rng = SplitMix64(seed: 8)
        let batch = 3
        let images = (0..<(batch * f32.imageFloatCount)).map { _ in rng.gaussian() }
        let a = f32.encode(images: images, batch: batch), b = q.encode(images: images, batch: batch)
        let p = config.projectionDim
        var worst: Float = 1
        for i in 0..<batch {
            let c = cosine(a[(i * p)..<((i + 1) * p)], b[(i * p)..<((i + 1) * p)])
            worst = min(worst, c)
            XCTAssertGreaterThanOrEqual(c, Self.tinyCosineBound, "image \(i)")
        }
        print("CLIPInt8Tests: tiny tower worst cosine(int8, f32) = \(worst)")
        XCTAssertNotEqual(a, b, "the int8 path must actually run")
        // The int8 linears add no batch dependence of their own (Int8LinearTests checks a row
        // alone against a batch bit for bit); the tower's F32 products outside the blocks (patch
        // embedding, projection) go through OpenBLAS, whose kernels on some CPUs (this AVX2 EPYC's)
        // sum a row in another order when the matrix is taller. So one image alone matches its
        // place in the batch exactly when the F32 tower's does, and within float rounding always.
        let image = Array(images[f32.imageFloatCount..<(2 * f32.imageFloatCount)])
        let one = q.encode(images: image, batch: 1), oneF32 = f32.encode(images: image, batch: 1)
        if oneF32 == Array(a[p..<(2 * p)]) { XCTAssertEqual(one, Array(b[p..<(2 * p)])) }
        XCTAssertGreaterThan(cosine(one[...], b[p..<(2 * p)]), 0.99999)
    }

    private var bundled: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("deploy/models/fmnist-clip").path
    }

    /// The bundled model at int8 on the 16 committed Fashion-MNIST test images: embeddings within
    /// the stated cosine of transformers' F32 ones, and the same top-1 class for all of them.
    static let bundledCosineBound: Float = 0.995

    func testBundledModelInt8KeepsTheReferenceDecisions() throws {
        let dir = Fixtures.path("fmnist-clip-reference")
        let reference = try SafeTensorsFile(path: dir + "/reference.safetensors")
        let meta = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/reference.json"))) as? [String: Any])
        let model = try CLIPModel(folder: bundled, precision: .int8)
        XCTAssertEqual(model.precision, .int8)
        XCTAssertNotNil(model.visionInt8)
        let names = try XCTUnwrap(meta["class_names"] as? [String])
        let template = try XCTUnwrap(meta["template"] as? String)
        let text = try ClassPromptEncoder(model: model, classNames: names, template: template).classEmbeddings()
        let grey = try reference.floats("images")
        let count = try reference.info("images").shape[0]
        let decoder = ImageDecoder()
        let preprocessor = ImagePreprocessor(config: model.preprocessing)
        var pixels: [Float] = []
        for i in 0..<count {
            let bytes = grey[(i * 784)..<((i + 1) * 784)].map { UInt8($0) }
            pixels += preprocessor.process(try decoder.decodeRaw(bytes, width: 28, height: 28, channels: 1))
        }
        let image = model.makeVisionEncoder().encode(images: pixels, batch: count)
        let p = model.config.projectionDim
        let want = try reference.floats("image_embeds")
        var worst: Float = 1
        for i in 0..<count { worst = min(worst, cosine(image[(i * p)..<((i + 1) * p)], want[(i * p)..<((i + 1) * p)])) }
        print("CLIPInt8Tests: bundled model worst cosine(int8, transformers f32) over \(count) images = \(worst)")
        XCTAssertGreaterThanOrEqual(worst, Self.bundledCosineBound)
        let logits = clipLogits(images: image, texts: text.matrix.storage, dim: p, scale: model.logitScale)
        let wantLogits = try reference.floats("logits_per_image")
        let c = names.count
        for i in 0..<count {
            let top = { (v: [Float]) in (0..<c).max { v[i * c + $0] < v[i * c + $1] }! }
            XCTAssertEqual(top(logits), top(wantLogits), "image \(i)")
        }
    }

    /// With an int8 model the learner predicts (adapted and source) through the int8 linears and
    /// its adapted LayerNorms, while its steps are the F32 model's steps exactly.
    func testLearnerPredictsInInt8AndStepsInF32() throws {
        let f = try CLIPGradFixture("quick")
        let int8Model = try CLIPModel(folder: f.model.folder, precision: .int8)
        let classes = try ClassPromptEncoder(model: f.model, classNames: ["cat", "dog", "car", "tree"], template: "a photo of a {}.")
            .classEmbeddings()
        func learner(_ m: CLIPModel) -> VisionNormLearner {
            VisionNormLearner(model: m, classEmbeddings: classes, logitScale: m.logitScale, learningRate: 1e-2, anchorWeight: 0,
                              weightTotal: 8)
        }
        let l32 = learner(f.model), l8 = learner(int8Model)
        let n = try f.viewCount, views = try f.tensor("views")
        for _ in 0..<3 {
            let r32 = views.withUnsafeBufferPointer { l32.step(images: $0.baseAddress!, batch: n) }
            let r8 = views.withUnsafeBufferPointer { l8.step(images: $0.baseAddress!, batch: n) }
            XCTAssertEqual(r8, r32, "a step does not depend on the prediction precision")
        }
        XCTAssertEqual(l8.trainer.layerNorms.map(\.value.array), l32.trainer.layerNorms.map(\.value.array))

        let p = f.model.config.projectionDim
        var adapted8 = [Float](repeating: 0, count: p), frozen8 = adapted8, adapted32 = adapted8
        views.withUnsafeBufferPointer { v in
            l8.encode(images: v.baseAddress!, batch: 1, features: &adapted8)
            l8.encodeFrozen(images: v.baseAddress!, batch: 1, features: &frozen8)
            l32.encode(images: v.baseAddress!, batch: 1, features: &adapted32)
        }
        XCTAssertEqual(frozen8, int8Model.makeVisionEncoder().encode(images: Array(views[0..<l8.imageFloatCount]), batch: 1))
        XCTAssertNotEqual(adapted8, adapted32, "prediction runs the int8 linears")
        XCTAssertGreaterThan(maxAbsDifference(adapted8, frozen8), 1e-4, "with the adapted LayerNorms")
        let c = cosine(adapted8[...], adapted32[...])
        print("CLIPInt8Tests: adapted learner cosine(int8, f32) = \(c)")
        XCTAssertGreaterThanOrEqual(c, Self.tinyCosineBound)
    }
}
