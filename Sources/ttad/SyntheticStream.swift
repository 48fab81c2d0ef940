import Foundation
import TTADEngine
import TTADModel
import TTADProtocol

/// Seeded synthetic embedding samples around known class embeddings: what a camera's embedding
/// accelerator would send, with a label for scoring and noise that can grow to mimic drift.
struct SyntheticStream {
    let classes: ClassEmbeddings
    private var rng: SplitMix64

    init(classes: ClassEmbeddings, seed: UInt64) {
        self.classes = classes
        rng = SplitMix64(seed: seed)
    }

    /// One sample: class c's unit embedding plus isotropic Gaussian noise whose total norm is
    /// about `noise` (so noise 1 makes the signal and the noise equally long).
    mutating func next(noise: Float) -> (label: Int, values: [Float]) {
        let c = Int(rng.next() % UInt64(classes.count))
        let d = classes.dimension
        let perDim = noise / Float(d).squareRoot()
        var v = [Float](repeating: 0, count: d)
        classes.matrix.storage.withUnsafeBufferPointer { m in
            for j in 0..<d { v[j] = m[c * d + j] + perDim * rng.gaussian() }
        }
        return (c, v)
    }
}
