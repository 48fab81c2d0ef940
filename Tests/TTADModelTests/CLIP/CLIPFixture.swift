import Foundation
import XCTest
import TTADEngine
@testable import TTADModel

/// One folder of Fixtures/clip-models (made by tools/make_clip_fixtures.py): a CLIP checkpoint
/// with random weights plus what transformers computed from it.
struct CLIPFixture {
    let name: String
    let folder: String
    let reference: SafeTensorsFile
    let json: [String: Any]

    init(_ name: String) throws {
        self.name = name
        folder = Fixtures.path("clip-models/\(name)")
        reference = try SafeTensorsFile(path: folder + "/reference.safetensors")
        let data = try Data(contentsOf: URL(fileURLWithPath: folder + "/reference.json"))
        json = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    func tensor(_ name: String) throws -> [Float] { try reference.floats(name) }
    func shape(_ name: String) throws -> [Int] { try reference.info(name).shape }
    func ids(_ key: String) throws -> [[Int32]] {
        try XCTUnwrap(json[key] as? [[NSNumber]]).map { $0.map { Int32($0.intValue) } }
    }
    func strings(_ key: String) throws -> [String] { try XCTUnwrap(json[key] as? [String]) }
    func int(_ key: String) throws -> Int { try XCTUnwrap(json[key] as? NSNumber).intValue }

    /// [(text, ids)] tokenised with this folder's vocabulary and context.
    func tokenCases() throws -> [(String, [Int32])] {
        try XCTUnwrap(json["token_cases"] as? [[String: Any]]).map {
            (try XCTUnwrap($0["text"] as? String), try XCTUnwrap($0["ids"] as? [NSNumber]).map { Int32($0.intValue) })
        }
    }

    /// Prompts of the class names with the template filled in, tokenised by the model.
    func promptIDs() throws -> [[Int32]] { try ids("prompt_ids") }
}

/// Cosine logits the way CLIPModel computes them: normalise both sides, scale by exp(logit_scale).
func clipLogits(images: [Float], texts: [Float], dim: Int, scale: Float) -> [Float] {
    func normalised(_ v: [Float]) -> [[Float]] {
        stride(from: 0, to: v.count, by: dim).map { start in
            let row = Array(v[start..<(start + dim)])
            let n = row.map { Double($0) * Double($0) }.reduce(0, +).squareRoot()
            return row.map { Float(Double($0) / n) }
        }
    }
    let a = normalised(images), b = normalised(texts)
    return a.flatMap { x in b.map { y in scale * zip(x, y).map(*).reduce(0, +) } }
}

func maxAbsDifference(_ a: [Float], _ b: [Float], file: StaticString = #filePath, line: UInt = #line) -> Float {
    XCTAssertEqual(a.count, b.count, "element counts differ", file: file, line: line)
    return zip(a, b).map { abs($0 - $1) }.max() ?? 0
}
