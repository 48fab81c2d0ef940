import Foundation
import XCTest
import TTADEngine
@testable import TTADModel

/// The bundled default model (deploy/models/fmnist-clip, F16 weights) gives the same embeddings
/// and logits in ttad as in transformers' CLIPModel, on 16 committed Fashion-MNIST test images
/// (Fixtures/fmnist-clip-reference, made by tools/make_bundled_model_fixture.py) taken through
/// ttad's own decoding and preprocessing from their raw 28×28 pixels.
final class BundledModelReferenceTests: XCTestCase {
    static let tolerance: Float = 1e-4

    private var folder: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("deploy/models/fmnist-clip").path
    }

    func testBundledModelMatchesTransformersOnCommittedTestImages() throws {
        let dir = Fixtures.path("fmnist-clip-reference")
        let reference = try SafeTensorsFile(path: dir + "/reference.safetensors")
        let meta = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/reference.json"))) as? [String: Any])
        let model = try CLIPModel(folder: folder)
        let names = try XCTUnwrap(meta["class_names"] as? [String])
        let template = try XCTUnwrap(meta["template"] as? String)
        XCTAssertEqual(model.logitScale, Float(try XCTUnwrap(meta["logit_scale"] as? Double)), accuracy: 1e-3)

        // Text: same token ids, same class embeddings through the prompt encoder the daemon uses.
        let ids = try XCTUnwrap(meta["prompt_ids"] as? [[NSNumber]]).map { $0.map { Int32($0.intValue) } }
        XCTAssertEqual(names.map { model.tokenize(template.replacingOccurrences(of: "{}", with: $0)) }, ids)
        let prompts = try ClassPromptEncoder(model: model, classNames: names, template: template)
        let text = try prompts.classEmbeddings()
        let dt = maxAbsDifference(text.matrix.storage, try reference.floats("text_embeds"))
        XCTAssertLessThan(dt, Self.tolerance, "text embeddings differ by \(dt)")

        // Images: raw grey bytes → ttad's decoder and CLIPImageProcessor-equivalent preprocessing.
        let grey = try reference.floats("images")
        let count = try reference.info("images").shape[0]
        let decoder = ImageDecoder()
        let preprocessor = ImagePreprocessor(config: model.preprocessing)
        var pixels: [Float] = []
        for i in 0..<count {
            let bytes = grey[(i * 784)..<((i + 1) * 784)].map { UInt8($0) }
            let decoded = try decoder.decodeRaw(bytes, width: 28, height: 28, channels: 1)
            pixels += preprocessor.process(decoded)
        }
        let image = model.makeVisionEncoder().encode(images: pixels, batch: count)
        let di = maxAbsDifference(normalizedRows(image, dim: model.config.projectionDim), try reference.floats("image_embeds"))
        XCTAssertLessThan(di, Self.tolerance, "image embeddings differ by \(di)")

        let logits = clipLogits(images: image, texts: text.matrix.storage, dim: model.config.projectionDim, scale: model.logitScale)
        let want = try reference.floats("logits_per_image")
        let dl = maxAbsDifference(logits, want)
        XCTAssertLessThan(dl, Self.tolerance * max(1, model.logitScale), "logits differ by \(dl)")
        // And so the same decisions: top-1 of every image agrees.
        let c = names.count
        for i in 0..<count {
            let row = { (v: [Float]) in (0..<c).max { v[i * c + $0] < v[i * c + $1] }! }
            XCTAssertEqual(row(logits), row(want), "image \(i)")
        }
    }

    private func normalizedRows(_ v: [Float], dim: Int) -> [Float] {
        stride(from: 0, to: v.count, by: dim).flatMap { s -> [Float] in
            let row = v[s..<(s + dim)]
            let n = row.map { Double($0) * Double($0) }.reduce(0, +).squareRoot()
            return row.map { Float(Double($0) / n) }
        }
    }
}
