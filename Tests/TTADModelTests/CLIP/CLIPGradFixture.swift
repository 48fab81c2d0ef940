import Foundation
import XCTest
import TTADEngine
@testable import TTADModel

/// One file pair of Fixtures/clip-grads (made by tools/make_clip_grad_fixtures.py): torch
/// autograd's TPT and Tent gradients and optimizer steps on a clip-models checkpoint.
struct CLIPGradFixture {
    let name: String
    let file: SafeTensorsFile
    let json: [String: Any]
    let model: CLIPModel

    init(_ name: String) throws {
        self.name = name
        file = try SafeTensorsFile(path: Fixtures.path("clip-grads/\(name).safetensors"))
        let data = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("clip-grads/\(name).json")))
        json = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        model = try CLIPModel(folder: Fixtures.path("clip-models/\(name)"))
    }

    func tensor(_ key: String) throws -> [Float] { try file.floats(key) }
    func int(_ key: String) throws -> Int { try XCTUnwrap(json[key] as? NSNumber).intValue }
    var viewCount: Int { get throws { try int("V") } }
    var keptCount: Int { get throws { try int("kept") } }
    var selected: [Int] { get throws { try XCTUnwrap(json["selected"] as? [NSNumber]).map(\.intValue) } }
    var layerNormNames: [String] { get throws { try XCTUnwrap(json["layer_norm_params"] as? [String]) } }
    var promptIDs: [[Int32]] {
        get throws { try XCTUnwrap(json["prompt_ids"] as? [[NSNumber]]).map { $0.map { Int32($0.intValue) } } }
    }
}

/// The fixture's problem run through the Swift trainers: logits of the views against the class
/// prompts, a loss on them, and the backward to ctx, visual prompts and vision LayerNorms.
final class CLIPGradProblem {
    let fixture: CLIPGradFixture
    let text: CLIPTextTrainer
    let vision: CLIPVisionTrainer
    let views: [Float]
    let viewCount: Int, classes: Int, dim: Int
    let scale: Float

    init(_ fixture: CLIPGradFixture, sharePrefix: Bool = true, trainLayerNorms: Bool = true) throws {
        self.fixture = fixture
        let model = fixture.model
        text = try CLIPTextTrainer(config: model.config, weights: model.weights.text, sequences: try fixture.promptIDs,
                                   contextCount: try fixture.int("n_ctx"), sharePrefix: sharePrefix)
        vision = CLIPVisionTrainer(config: model.config, weights: model.weights.vision,
                                   promptCount: try fixture.int("n_visual_prompts"), trainLayerNorms: trainLayerNorms)
        copyValues(try fixture.tensor("ctx"), into: text.context)
        copyValues(try fixture.tensor("visual_prompts"), into: vision.prompts)
        views = try fixture.tensor("views")
        viewCount = try fixture.viewCount
        classes = text.classCount
        dim = model.config.projectionDim
        scale = model.logitScale
    }

    enum Loss { case tpt(selected: [Int]), tent }

    struct Result {
        var logits: [Float]
        var loss: Float
    }

    /// Zeroes the gradients, runs forward and (unless `backward` is false) backward, leaving the
    /// gradients in the trainers.
    @discardableResult
    func run(_ loss: Loss, backward: Bool = true) -> Result {
        text.zeroGradients()
        vision.zeroGradients()
        let v = viewCount, c = classes, p = dim
        var img = [Float](repeating: 0, count: v * p), txt = [Float](repeating: 0, count: c * p)
        var imgNorms = [Float](repeating: 0, count: v), txtNorms = [Float](repeating: 0, count: c)
        var logits = [Float](repeating: 0, count: v * c), dLogits = logits
        var imgN = img, txtN = txt, dImgN = img, dTxtN = txt, dImg = img, dTxt = txt
        views.withUnsafeBufferPointer { vw in
            vision.encode(images: vw.baseAddress!, batch: v, features: &img, record: backward)
        }
        text.encode(features: &txt, record: backward)
        CLIPLogits.normalize(img, rows: v, dim: p, into: &imgN, norms: &imgNorms)
        CLIPLogits.normalize(txt, rows: c, dim: p, into: &txtN, norms: &txtNorms)
        CLIPLogits.forward(images: imgN, batch: v, texts: txtN, classes: c, dim: p, scale: scale, logits: &logits)
        let value: Float
        switch loss {
        case .tpt(let selected):
            var scratch = [Float](repeating: 0, count: c)
            value = selected.withUnsafeBufferPointer { sel in
                Losses.marginalEntropy(logits: logits, rows: v, classes: c, selected: sel, scratch: &scratch, dLogits: &dLogits)
            }
        case .tent:
            var entropies = [Float](repeating: 0, count: v), weights = entropies
            value = Losses.weightedEntropy(logits: logits, rows: v, classes: c, weights: .uniform, normalization: .rowCount,
                                           entropies: &entropies, rowWeights: &weights, dLogits: &dLogits)
        }
        guard backward else { return Result(logits: logits, loss: value) }
        CLIPLogits.backward(dLogits: dLogits, images: imgN, batch: v, texts: txtN, classes: c, dim: p, scale: scale,
                            dImages: &dImgN, dTexts: &dTxtN)
        CLIPLogits.normalizeBackward(dy: dImgN, y: imgN, norms: imgNorms, rows: v, dim: p, dx: &dImg)
        CLIPLogits.normalizeBackward(dy: dTxtN, y: txtN, norms: txtNorms, rows: c, dim: p, dx: &dTxt)
        text.backward(dFeatures: dTxt)
        vision.backward(dFeatures: dImg)
        return Result(logits: logits, loss: value)
    }

    func layerNorm(_ name: String) throws -> CLIPTrainableParameter {
        try XCTUnwrap(vision.layerNorms.first { $0.name == name }, "no LayerNorm parameter \(name)")
    }
}

func copyValues(_ values: [Float], into buffer: FloatBuffer) {
    precondition(values.count == buffer.count, "copyValues: \(values.count) values into \(buffer.count)")
    values.withUnsafeBufferPointer { buffer.pointer.update(from: $0.baseAddress!, count: values.count) }
}

/// max |a − b| / max |b|: the error relative to the tensor's scale, the fixtures' yardstick.
func relativeError(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count, "relativeError: \(a.count) vs \(b.count) values")
    let scale = b.map(abs).max() ?? 0
    let diff = zip(a, b).map { abs($0 - $1) }.max() ?? 0
    return scale > 0 ? diff / scale : diff
}
