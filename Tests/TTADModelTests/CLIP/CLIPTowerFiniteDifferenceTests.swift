import Foundation
import XCTest
import TTADEngine
@testable import TTADModel

/// The whole chain (both towers, normalisation, cosine logits, TPT loss) differentiated
/// numerically on the tiny fixture, independently of torch: central differences of the float32
/// loss at the entries of the context and of the visual prompts with the largest gradient, plus a
/// few others. Richardson-extrapolated (h and h/2) so truncation error is O(h⁴); what remains is
/// the float32 noise of the loss divided by h.
final class CLIPTowerFiniteDifferenceTests: XCTestCase {
    func testTPTGradientAgreesWithCentralDifferences() throws {
        let f = try CLIPGradFixture("tiny")
        let problem = try CLIPGradProblem(f, trainLayerNorms: false)
        let selected = try f.selected
        problem.run(.tpt(selected: selected))
        let targets: [(String, FloatBuffer, [Float])] = [
            ("ctx", problem.text.context, problem.text.contextGradient.array),
            ("visual_prompts", problem.vision.prompts, problem.vision.promptGradient.array),
        ]
        for (label, parameter, gradient) in targets {
            let scale = gradient.map(abs).max()!
            let largest = gradient.indices.max { abs(gradient[$0]) < abs(gradient[$1]) }!
            for index in [largest, 0, gradient.count / 2 + 3, gradient.count - 1] {
                let numeric = centralDifference(problem, parameter, index, selected)
                XCTAssertEqual(numeric, Double(gradient[index]), accuracy: 2e-3 * Double(scale),
                               "\(label)[\(index)]: analytic \(gradient[index]) vs numeric \(numeric)")
            }
        }
    }

    private func centralDifference(_ problem: CLIPGradProblem, _ parameter: FloatBuffer, _ index: Int, _ selected: [Int]) -> Double {
        let base = parameter.pointer[index]
        func loss(_ x: Float) -> Double {
            parameter.pointer[index] = x
            return Double(problem.run(.tpt(selected: selected), backward: false).loss)
        }
        func difference(_ h: Float) -> Double {
            let up = base + h, down = base - h    // the steps actually taken, after rounding
            return (loss(up) - loss(down)) / Double(up - down)
        }
        let h: Float = 1e-2
        let estimate = (4 * difference(h / 2) - difference(h)) / 3
        parameter.pointer[index] = base
        return estimate
    }
}
