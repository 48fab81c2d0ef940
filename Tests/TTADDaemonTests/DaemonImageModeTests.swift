import Foundation
import TTADEngine
import TTADModel
import TTADProtocol
import XCTest
@testable import TTADDaemon

/// Image mode end to end: JPEG, PNG and raw images published to a running daemon come back as
/// predictions whose probabilities are what transformers' CLIPModel computes for the same image
/// (the `quick` fixture checkpoint and its reference outputs, made by tools/make_clip_fixtures.py).
final class DaemonImageModeTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("TTADModelTests/Fixtures")
    static var modelFolder: String { fixtures.appendingPathComponent("clip-models/quick").path }
    static var photo: String { fixtures.appendingPathComponent("images/photo_420.jpg").path }
    static var photoPNG: String { fixtures.appendingPathComponent("images/photo_420.pil.png").path }

    /// The reference's texts as class names with the template "{}", so the class prompts are
    /// exactly the reference's texts (the empty one left out: a class needs a name).
    private func expectedProbabilities() throws -> (names: [String], probs: [Float]) {
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: Self.modelFolder + "/reference.json"))) as? [String: Any])
        let texts = try XCTUnwrap(json["texts"] as? [String])
        let logits = try SafeTensorsFile(path: Self.modelFolder + "/reference.safetensors").floats("logits_per_image")
        let keep = texts.indices.filter { !texts[$0].isEmpty }
        let row = keep.map { Double(logits[2 * texts.count + $0]) }   // image 2 is photo_420.jpg
        let m = row.max()!
        let e = row.map { Foundation.exp($0 - m) }
        let z = e.reduce(0, +)
        return (keep.map { texts[$0] }, e.map { Float($0 / z) })
    }

    private func imageEnvironment(names: [String]) throws -> TestDaemonEnvironment {
        let env = try TestDaemonEnvironment()
        env.config.daemon.mode = .image
        env.config.classifier.classEmbeddings = ""
        env.config.classifier.logitScale = nil      // the model's own exp(logit_scale)
        env.config.classifier.topK = names.count
        env.config.model.folder = Self.modelFolder
        env.config.model.classNames = names
        env.config.model.promptTemplate = "{}"
        try ConfigLoader.validate(env.config)
        return env
    }

    func testJPEGPNGAndRawImagesPredictLikeTheReference() throws {
        let (names, expected) = try expectedProbabilities()
        let env = try imageEnvironment(names: names)
        let (daemon, client) = try env.startWithClient()
        defer { daemon.stop(reason: "test") }

        let jpeg = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Self.photo)))
        let png = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Self.photoPNG)))
        let decoded = try ImageDecoder().decode(jpeg)
        let enc = client.encoder
        try client.send(enc.encode(header: SampleHeader(id: "j", stream: "cam", seq: 0, encoding: .jpeg), payload: jpeg))
        try client.send(enc.encode(header: SampleHeader(id: "p", stream: "cam", seq: 1, encoding: .png), payload: png))
        try client.send(enc.encode(header: SampleHeader(id: "r", stream: "cam", seq: 2, encoding: .rawU8HWC,
                                                         shape: [decoded.height, decoded.width, 3]), payload: decoded.pixels))
        let preds = try client.receive(count: 3).compactMap(\.prediction)
        XCTAssertEqual(preds.map(\.id), ["j", "p", "r"])
        for p in preds {
            XCTAssertEqual(p.top.count, names.count)
            XCTAssertEqual(p.promptVersion, 0)
            for t in p.top {
                XCTAssertEqual(t.className, names[t.index])
                XCTAssertEqual(t.p, expected[t.index], accuracy: 1e-4, "\(p.id): class \(t.index)")
            }
        }
    }

    /// `[model] precision = "int8"`: the daemon predicts with the int8 image tower — the
    /// probabilities an in-process int8 model gives, close to but not the F32 reference's.
    func testInt8PrecisionPredictsWithTheInt8Tower() throws {
        let (names, reference) = try expectedProbabilities()
        let env = try imageEnvironment(names: names)
        env.config.model.precision = .int8
        let jpeg = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Self.photo)))

        let model = try CLIPModel(folder: Self.modelFolder, precision: .int8)
        let classes = try ClassPromptEncoder(model: model, classNames: names, template: "{}").classEmbeddings()
        let pixels = ImagePreprocessor(config: model.preprocessing).process(try ImageDecoder().decode(jpeg))
        let feature = model.makeVisionEncoder().encode(images: pixels, batch: 1)
        let norm = feature.map { Double($0) * Double($0) }.reduce(0, +).squareRoot()
        let d = model.config.projectionDim
        let logits = (0..<names.count).map { c in
            Double(model.logitScale) * (0..<d).map { Double(feature[$0]) * Double(classes.matrix.storage[c * d + $0]) }.reduce(0, +) / norm
        }
        let m = logits.max()!, e = logits.map { Foundation.exp($0 - m) }, z = e.reduce(0, +)
        let expected = e.map { Float($0 / z) }

        let (daemon, client) = try env.startWithClient()
        defer { daemon.stop(reason: "test") }
        try client.send(client.encoder.encode(header: SampleHeader(id: "j", stream: "cam", seq: 0, encoding: .jpeg), payload: jpeg))
        let p = try XCTUnwrap(try client.receive(count: 1).compactMap(\.prediction).first)
        var fromF32: Float = 0
        for t in p.top {
            XCTAssertEqual(t.p, expected[t.index], accuracy: 1e-5, "class \(t.index)")
            XCTAssertEqual(t.p, reference[t.index], accuracy: 2e-2, "class \(t.index) against the F32 reference")
            fromF32 = max(fromF32, abs(t.p - reference[t.index]))
        }
        XCTAssertGreaterThan(fromF32, 1e-6, "the int8 tower ran, not the F32 one")
    }

    func testBadImagesAreRejectedAndCountedWhileGoodOnesFlow() throws {
        let env = try imageEnvironment(names: ["cat", "dog"])
        let (daemon, client) = try env.startWithClient()
        defer { daemon.stop(reason: "test") }
        let enc = client.encoder
        var jpeg = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Self.photo)))
        let truncated = Array(jpeg[0..<(jpeg.count / 3)])
        for i in 200..<min(jpeg.count, 600) { jpeg[i] = 0x55 }   // garbage after a valid signature
        try client.send(enc.encode(header: SampleHeader(id: "trunc", stream: "cam", seq: 0, encoding: .jpeg), payload: truncated))
        try client.send(enc.encode(header: SampleHeader(id: "noise", stream: "cam", seq: 1, encoding: .png),
                                   payload: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + [UInt8](repeating: 7, count: 64)))
        try client.sendEmbedding(stream: "cam", seq: 2, values: [1, 0, 0, 0])
        try client.send(enc.encode(header: SampleHeader(id: "two-channel", stream: "cam", seq: 3, encoding: .rawU8HWC, shape: [2, 2, 2]),
                                   payload: [UInt8](repeating: 1, count: 8)))
        try client.send(enc.encode(header: SampleHeader(id: "ok", stream: "cam", seq: 4, encoding: .rawU8HWC, shape: [3, 5, 3]),
                                   payload: [UInt8](repeating: 90, count: 45)))
        let out = try client.receive(count: 5)
        let errors = Dictionary(uniqueKeysWithValues: out.compactMap(\.error).map { ($0.id ?? "?", $0.reason) })
        XCTAssertEqual(errors["trunc"], "corrupt_image")
        XCTAssertEqual(errors["noise"], "corrupt_image")
        XCTAssertEqual(errors["cam-2"], "unsupported_encoding")
        XCTAssertEqual(errors["two-channel"], "wrong_shape")
        XCTAssertEqual(out.compactMap(\.prediction).map(\.id), ["ok"])
        let m = daemon.metrics.exposition()
        XCTAssertEqual(metricValue(m, "ttad_samples_rejected_total{reason=\"corrupt_image\"}"), 2)
        XCTAssertEqual(metricValue(m, "ttad_samples_rejected_total{reason=\"unsupported_encoding\"}"), 1)
    }

    /// `protocol.max_image_pixels` bounds decoded JPEGs (corrupt_image) and raw shapes
    /// (wrong_shape) alike, and CMYK JPEGs are predicted, not refused.
    func testPixelLimitAppliesToDecodedAndRawImagesAndCMYKJPEGsPredict() throws {
        let env = try imageEnvironment(names: ["cat", "dog"])
        env.config.protocolLimits.maxImagePixels = 256 * 192 - 1   // photo_420 is 256×192
        let (daemon, client) = try env.startWithClient()
        defer { daemon.stop(reason: "test") }
        let enc = client.encoder
        func file(_ name: String) throws -> [UInt8] {
            [UInt8](try Data(contentsOf: Self.fixtures.appendingPathComponent("images/" + name)))
        }
        try client.send(enc.encode(header: SampleHeader(id: "big-jpeg", stream: "cam", seq: 0, encoding: .jpeg),
                                   payload: try file("photo_420.jpg")))
        try client.send(enc.encode(header: SampleHeader(id: "big-raw", stream: "cam", seq: 1, encoding: .rawU8HWC, shape: [192, 256, 3]),
                                   payload: [UInt8](repeating: 90, count: 192 * 256 * 3)))
        try client.send(enc.encode(header: SampleHeader(id: "cmyk", stream: "cam", seq: 2, encoding: .jpeg), payload: try file("cmyk.jpg")))
        try client.send(enc.encode(header: SampleHeader(id: "cmyk_k", stream: "cam", seq: 3, encoding: .jpeg), payload: try file("cmyk_k.jpg")))
        let out = try client.receive(count: 4)
        let errors = Dictionary(uniqueKeysWithValues: out.compactMap(\.error).map { ($0.id ?? "?", $0.reason) })
        XCTAssertEqual(errors, ["big-jpeg": "corrupt_image", "big-raw": "wrong_shape"])
        XCTAssertEqual(out.compactMap(\.prediction).map(\.id), ["cmyk", "cmyk_k"])
    }

    func testMissingModelFolderFailsStartWithTheKeyNamed() throws {
        let env = try imageEnvironment(names: ["cat"])
        env.config.model.folder = env.directory.appendingPathComponent("nope").path
        XCTAssertThrowsError(try env.makeDaemon().start()) { e in
            XCTAssertEqual((e as? ConfigError)?.key, "model.folder", "\(e)")
        }
    }
}
