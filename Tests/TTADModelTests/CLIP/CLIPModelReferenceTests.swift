import Foundation
import XCTest
import TTADEngine
@testable import TTADModel

/// The Swift CLIP forward against transformers' CLIPModel on the committed random checkpoints:
/// `tiny` (exact GELU, HF pools at the first end token) and `quick` (quick_gelu, unequal widths
/// and head counts, a 40-token context, the legacy eos_token_id 2 → argmax pooling), with F32
/// weights; `tiny-f16` / `tiny-bf16` hold the tiny model's weights rounded to half precision,
/// with references computed from those rounded weights.
final class CLIPModelReferenceTests: XCTestCase {
    static let tolerance: Float = 1e-4
    static let folders = ["tiny", "quick", "tiny-f16", "tiny-bf16"]

    func testImageFeaturesMatchReference() throws {
        for name in Self.folders {
            let f = try CLIPFixture(name)
            let model = try CLIPModel(folder: f.folder)
            let pixels = try f.tensor("pixel_values")
            let batch = try f.shape("pixel_values")[0]
            let got = model.makeVisionEncoder().encode(images: pixels, batch: batch)
            let d = maxAbsDifference(got, try f.tensor("image_features"))
            XCTAssertLessThan(d, Self.tolerance, "\(name): image features differ by \(d)")
        }
    }

    func testTextFeaturesMatchReferenceWhileStoppingAtTheEndToken() throws {
        for name in Self.folders {
            let f = try CLIPFixture(name)
            let model = try CLIPModel(folder: f.folder)
            let texts = try f.strings("texts")
            let ids = try f.ids("text_ids")
            XCTAssertEqual(texts.map(model.tokenize), ids, "\(name): token ids")
            let got = try model.makeTextEncoder().encode(sequences: ids)
            let d = maxAbsDifference(got, try f.tensor("text_features"))
            XCTAssertLessThan(d, Self.tolerance, "\(name): text features differ by \(d)")
        }
    }

    func testPaddedInputGivesTheSameFeaturesAsTruncated() throws {
        // Users may hand in ids padded to the context, as the reference does.
        let f = try CLIPFixture("quick")
        let model = try CLIPModel(folder: f.folder)
        let ids = try f.ids("text_ids")
        let padded = ids.map { $0 + [Int32](repeating: model.tokenizer.endToken, count: model.config.maxPositions - $0.count) }
        let encoder = model.makeTextEncoder()
        XCTAssertEqual(try encoder.encode(sequences: padded), try encoder.encode(sequences: ids))
        // Running the padding too (what the reference computes) lands on the same features.
        encoder.stopAtEndToken = false
        let full = try encoder.encode(sequences: padded)
        XCTAssertLessThan(maxAbsDifference(full, try f.tensor("text_features")), Self.tolerance)
    }

    func testLogitsMatchReference() throws {
        for name in Self.folders {
            let f = try CLIPFixture(name)
            let model = try CLIPModel(folder: f.folder)
            XCTAssertEqual(model.weights.logitScale, try f.tensor("logit_scale")[0])
            let images = model.makeVisionEncoder().encode(images: try f.tensor("pixel_values"), batch: 3)
            let texts = try model.makeTextEncoder().encode(sequences: try f.ids("text_ids"))
            let logits = clipLogits(images: images, texts: texts, dim: model.config.projectionDim, scale: model.logitScale)
            let d = maxAbsDifference(logits, try f.tensor("logits_per_image"))
            XCTAssertLessThan(d, Self.tolerance, "\(name): logits differ by \(d)")
        }
    }

    func testInjectedContextAndVisualPromptsMatchReference() throws {
        for name in Self.folders {
            let f = try CLIPFixture(name)
            let model = try CLIPModel(folder: f.folder)
            let template = try XCTUnwrap(f.json["template"] as? String)
            let classes = try f.strings("class_names")
            let prompts = classes.map { model.tokenize(template.replacingOccurrences(of: "{}", with: $0)) }
            XCTAssertEqual(prompts, try f.promptIDs(), "\(name): prompt ids")
            let nCtx = try f.int("n_ctx"), nVP = try f.int("n_visual_prompts")
            let text = try model.makeTextEncoder().encode(sequences: prompts, context: try f.tensor("ctx"), contextCount: nCtx)
            let dt = maxAbsDifference(text, try f.tensor("prompted_text_features"))
            XCTAssertLessThan(dt, Self.tolerance, "\(name): prompted text features differ by \(dt)")
            let image = model.makeVisionEncoder().encode(images: try f.tensor("pixel_values"), batch: 3,
                                                         prompts: try f.tensor("visual_prompts"), promptCount: nVP)
            let di = maxAbsDifference(image, try f.tensor("prompted_image_features"))
            XCTAssertLessThan(di, Self.tolerance, "\(name): prompted image features differ by \(di)")
            let logits = clipLogits(images: image, texts: text, dim: model.config.projectionDim, scale: model.logitScale)
            XCTAssertLessThan(maxAbsDifference(logits, try f.tensor("prompted_logits")), Self.tolerance, "\(name): prompted logits")
        }
    }

    func testContextEqualToTheTemplateTokensReproducesThePlainPrompt() throws {
        let f = try CLIPFixture("tiny")
        let model = try CLIPModel(folder: f.folder)
        let prompts = try f.promptIDs()
        let d = model.config.text.hiddenSize
        var ctx = [Float]()
        for id in prompts[0][1...4] { ctx += model.weights.text.tokenEmbedding.array[(Int(id) * d)..<(Int(id) * d + d)] }
        let encoder = model.makeTextEncoder()
        XCTAssertEqual(try encoder.encode(sequences: prompts, context: ctx, contextCount: 4), try encoder.encode(sequences: prompts))
    }

    func testTokenIDsOfEveryFixtureStringWithTheFolderVocabulary() throws {
        for name in ["tiny", "quick"] {
            let f = try CLIPFixture(name)
            let model = try CLIPModel(folder: f.folder)
            let cases = try f.tokenCases()
            XCTAssertGreaterThanOrEqual(cases.count, 200)
            var mismatches = 0
            for (text, ids) in cases where model.tokenize(text) != ids {
                mismatches += 1
                if mismatches <= 5 { XCTFail("\(name): \(text.debugDescription): got \(model.tokenize(text)), expected \(ids)") }
            }
            XCTAssertEqual(mismatches, 0, "\(name)")
        }
    }

    func testPreprocessingOfARealImageMatchesTheReferenceProcessor() throws {
        for name in ["tiny", "quick"] {
            let f = try CLIPFixture(name)
            let model = try CLIPModel(folder: f.folder)
            let bytes = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("images/photo_420.jpg")))
            let image = try ImageDecoder().decode(bytes)
            let pixels = ImagePreprocessor(config: model.preprocessing).process(image)
            let n = model.makeVisionEncoder().imageFloatCount
            let expected = Array(try f.tensor("pixel_values")[(2 * n)..<(3 * n)])
            // 1/255 per pixel in byte units is 1/(255·std) after normalisation.
            let bound = Float(1.0 / 255.0 / ImagePreprocessorConfig.openAICLIPStd.min()!) + 1e-6
            XCTAssertLessThanOrEqual(maxAbsDifference(pixels, expected), bound, name)
        }
    }

    /// Half-precision checkpoints load exactly (1e-4 against references computed from the same
    /// rounded weights, above); against the F32 model they differ by the rounding itself. The
    /// bounds below are the documented F16 / BF16 tolerances on these fixtures.
    func testHalfPrecisionWeightsStayCloseToTheFloat32Model() throws {
        let f32 = try CLIPFixture("tiny")
        for (name, bound) in [("tiny-f16", Float(5e-3)), ("tiny-bf16", Float(4e-2))] {
            let f = try CLIPFixture(name)
            let model = try CLIPModel(folder: f.folder)
            let images = model.makeVisionEncoder().encode(images: try f32.tensor("pixel_values"), batch: 3)
            let texts = try model.makeTextEncoder().encode(sequences: try f32.ids("text_ids"))
            XCTAssertLessThan(maxAbsDifference(images, try f32.tensor("image_features")), bound, name)
            XCTAssertLessThan(maxAbsDifference(texts, try f32.tensor("text_features")), bound, name)
        }
    }
}
