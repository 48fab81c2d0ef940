import Foundation
import XCTest
import TTADEngine
@testable import TTADModel

/// A broken model folder must fail at load with an error naming the file and the key or tensor.
final class CLIPModelLoadingTests: TemporaryDirectoryTestCase {
    /// Copies the tiny fixture folder into the scratch directory.
    private func copyTiny() throws -> String {
        let src = Fixtures.path("clip-models/tiny")
        let dst = path("model")
        try FileManager.default.createDirectory(atPath: dst, withIntermediateDirectories: true)
        for name in ["config.json", "model.safetensors", "vocab.json", "merges.txt", "preprocessor_config.json"] {
            try FileManager.default.copyItem(atPath: src + "/" + name, toPath: dst + "/" + name)
        }
        return dst
    }

    /// Rewrites model.safetensors after `edit` changes the list of tensors.
    private func rewriteWeights(_ folder: String, _ edit: (inout [SafeTensorsWriter.Entry]) -> Void) throws {
        let file = try SafeTensorsFile(path: folder + "/model.safetensors")
        var entries = try file.tensorNames.map { SafeTensorsWriter.Entry(name: $0, shape: try file.info($0).shape, values: try file.floats($0)) }
        edit(&entries)
        try FileManager.default.removeItem(atPath: folder + "/model.safetensors")
        try SafeTensorsWriter.write(path: folder + "/model.safetensors", tensors: entries)
    }

    private func editConfig(_ folder: String, _ edit: (inout [String: Any]) -> Void) throws {
        let p = folder + "/config.json"
        var json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: p))) as? [String: Any])
        edit(&json)
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: p))
    }

    private func loadError(_ folder: String) -> CLIPModelError? {
        do { _ = try CLIPModel(folder: folder); return nil } catch { return error }
    }

    func testLoadsTheFixtureAndReadsItsConfiguration() throws {
        let model = try CLIPModel(folder: try copyTiny())
        XCTAssertEqual(model.config.vision.hiddenSize, 32)
        XCTAssertEqual(model.config.vision.activation, .gelu)
        XCTAssertEqual(model.config.patchCount, 16)
        XCTAssertEqual(model.config.eosTokenID, 2513)
        XCTAssertEqual(model.preprocessing.cropWidth, 32)
    }

    func testEachRequiredFileIsNamedWhenMissing() throws {
        for name in ["config.json", "model.safetensors", "vocab.json", "merges.txt"] {
            let folder = try copyTiny()
            try FileManager.default.removeItem(atPath: folder + "/" + name)
            XCTAssertEqual(loadError(folder), .missingFile(path: folder + "/" + name))
            try FileManager.default.removeItem(atPath: folder)
        }
    }

    func testMissingTensorIsNamed() throws {
        let folder = try copyTiny()
        try rewriteWeights(folder) { $0.removeAll { $0.name == "vision_model.encoder.layers.1.mlp.fc2.bias" } }
        XCTAssertEqual(loadError(folder), .missingTensor(file: folder + "/model.safetensors", name: "vision_model.encoder.layers.1.mlp.fc2.bias"))
    }

    func testMisShapedTensorIsNamedWithBothShapes() throws {
        let folder = try copyTiny()
        try rewriteWeights(folder) { entries in
            let i = entries.firstIndex { $0.name == "text_projection.weight" }!
            entries[i] = .init(name: "text_projection.weight", shape: [32, 16], values: entries[i].values)
        }
        XCTAssertEqual(loadError(folder), .tensorShape(file: folder + "/model.safetensors", name: "text_projection.weight",
                                                       expected: [16, 32], actual: [32, 16]))
    }

    func testUnsupportedDTypeIsNamed() throws {
        // Relabel logit_scale's four bytes as I32 in the header (same size, so offsets hold).
        let folder = try copyTiny()
        let url = URL(fileURLWithPath: folder + "/model.safetensors")
        var bytes = [UInt8](try Data(contentsOf: url))
        let headerLength = Int(bytes[0]) | Int(bytes[1]) << 8 | Int(bytes[2]) << 16
        var header = String(decoding: bytes[8..<(8 + headerLength)], as: UTF8.self)
        let entry = try XCTUnwrap(header.range(of: "\"logit_scale\""))
        let dtype = try XCTUnwrap(header.range(of: "F32", range: entry.upperBound..<header.endIndex))
        header.replaceSubrange(dtype, with: "I32")
        bytes.replaceSubrange(8..<(8 + headerLength), with: Array(header.utf8))
        try Data(bytes).write(to: url)
        XCTAssertEqual(loadError(folder), .unsupportedDType(file: folder + "/model.safetensors", name: "logit_scale", dtype: "I32"))
    }

    func testNonFiniteWeightIsRejected() throws {
        let folder = try copyTiny()
        try rewriteWeights(folder) { entries in
            let i = entries.firstIndex { $0.name == "vision_model.post_layernorm.bias" }!
            entries[i].values[3] = .nan
        }
        XCTAssertEqual(loadError(folder), .nonFiniteWeight(file: folder + "/model.safetensors", name: "vision_model.post_layernorm.bias"))
    }

    func testExtraTensorsSuchAsPositionIDsAreIgnored() throws {
        let folder = try copyTiny()
        try rewriteWeights(folder) { $0.append(.init(name: "text_model.embeddings.position_ids", shape: [1, 77], values: (0..<77).map(Float.init))) }
        XCTAssertNil(loadError(folder))
    }

    func testBadConfigValuesNameTheKey() throws {
        let cases: [(String, (inout [String: Any]) -> Void, String)] = [
            ("unsupported activation", { j in var v = j["vision_config"] as! [String: Any]; v["hidden_act"] = "relu"; j["vision_config"] = v }, "vision_config.hidden_act"),
            ("heads do not divide width", { j in var t = j["text_config"] as! [String: Any]; t["num_attention_heads"] = 3; j["text_config"] = t }, "text_config.num_attention_heads"),
            ("patch does not divide image", { j in var v = j["vision_config"] as! [String: Any]; v["patch_size"] = 5; j["vision_config"] = v }, "vision_config.patch_size"),
            ("string where an int belongs", { j in var v = j["vision_config"] as! [String: Any]; v["hidden_size"] = "32"; j["vision_config"] = v }, "vision_config.hidden_size"),
            ("boolean where an int belongs", { j in j["projection_dim"] = true }, "projection_dim"),
            ("another model type", { j in j["model_type"] = "siglip" }, "model_type"),
        ]
        for (what, edit, key) in cases {
            let folder = try copyTiny()
            try editConfig(folder, edit)
            guard case let .badConfig(_, k, _)? = loadError(folder) else {
                XCTFail("\(what): expected badConfig, got \(String(describing: loadError(folder)))"); continue
            }
            XCTAssertEqual(k, key, what)
            try FileManager.default.removeItem(atPath: folder)
        }
    }

    func testConfigThatDisagreesWithTheWeightsFailsOnTheFirstMismatchedTensor() throws {
        let folder = try copyTiny()
        try editConfig(folder) { j in var t = j["text_config"] as! [String: Any]; t["intermediate_size"] = 128; j["text_config"] = t }
        guard case let .tensorShape(_, name, expected, actual)? = loadError(folder) else { return XCTFail("expected a shape error") }
        XCTAssertEqual(name, "text_model.encoder.layers.0.mlp.fc1.weight")
        XCTAssertEqual(expected, [128, 32])
        XCTAssertEqual(actual, [64, 32])
    }

    func testPreprocessorConfigForms() throws {
        let p = write(#"{"size": 40, "crop_size": 36, "image_mean": [0.5, 0.5, 0.5], "image_std": [0.25, 0.25, 0.25], "resample": 3}"#, to: "a.json")
        let c = try ImagePreprocessorConfig(huggingFaceFile: p)
        XCTAssertEqual(c.shortestEdge, 40); XCTAssertEqual(c.cropWidth, 36); XCTAssertEqual(c.mean, [0.5, 0.5, 0.5])
        let q = write(#"{"size": {"shortest_edge": 64}, "crop_size": {"height": 64, "width": 64}}"#, to: "b.json")
        XCTAssertEqual(try ImagePreprocessorConfig(huggingFaceFile: q).shortestEdge, 64)
        for (text, key) in [(#"{"resample": 2}"#, "resample"), (#"{"do_center_crop": false}"#, "do_center_crop"),
                            (#"{"size": {"height": 3, "width": 4}}"#, "size"), (#"{"image_std": [1, 0, 1]}"#, "image_std")] {
            let r = write(text, to: "c.json")
            XCTAssertThrowsError(try ImagePreprocessorConfig(huggingFaceFile: r)) { e in
                guard case let .badConfig(_, k, _) = e as? CLIPModelError else { return XCTFail("\(e)") }
                XCTAssertEqual(k, key)
            }
        }
    }

    func testCropSizeMustMatchTheModel() throws {
        let folder = try copyTiny()
        _ = write(#"{"size": 40, "crop_size": 40}"#, to: "model/preprocessor_config.json")
        guard case let .badConfig(_, key, _)? = loadError(folder) else { return XCTFail("expected badConfig") }
        XCTAssertEqual(key, "crop_size")
    }

    func testBadTokenInputsAreErrorsNotCrashes() throws {
        let model = try CLIPModel(folder: Fixtures.path("clip-models/tiny"))
        let encoder = model.makeTextEncoder()
        XCTAssertThrowsError(try encoder.encode(sequences: [[]]))
        XCTAssertThrowsError(try encoder.encode(sequences: [[2512, 99_999, 2513]]))
        XCTAssertThrowsError(try encoder.encode(sequences: [[Int32](repeating: 5, count: 78)]))
        XCTAssertThrowsError(try encoder.encode(sequences: [[2512, 320, 2513]], context: [Float](repeating: 0, count: 4 * 32), contextCount: 4))
        XCTAssertThrowsError(try encoder.encode(sequences: [[2512, 320, 2513]], context: [1, 2], contextCount: 1))
    }
}
