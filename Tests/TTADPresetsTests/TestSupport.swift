import Foundation
import TTADModel

/// Fixtures the preset tests share: the `quick` random CLIP checkpoint of the model tests, four
/// class names, and small raw images that differ with k.
enum PresetFixtures {
    static var root: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    }

    static var modelFolder: String { root.appendingPathComponent("TTADModelTests/Fixtures/clip-models/quick").path }

    static let classNames = ["cat", "dog", "car", "tree"]

    /// A 16×16 RGB image that differs with k (stripes of varying period and phase).
    static func image(_ k: Int) -> [UInt8] {
        var px = [UInt8](repeating: 0, count: 16 * 16 * 3)
        for y in 0..<16 { for x in 0..<16 { for c in 0..<3 {
            px[(y * 16 + x) * 3 + c] = UInt8((x * (k % 5 + 1) + y * (k % 3) + c * 40 + k * 17) % 256)
        } } }
        return px
    }

    static func model() throws -> (CLIPModel, ClassPromptEncoder, ClassEmbeddings) {
        let model = try CLIPModel(folder: modelFolder)
        let prompts = try ClassPromptEncoder(model: model, classNames: classNames, template: "a photo of a {}.")
        return (model, prompts, try prompts.classEmbeddings())
    }
}
