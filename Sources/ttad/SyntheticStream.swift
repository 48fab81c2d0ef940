import Foundation
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

/// A small, fast, reproducible generator (SplitMix64), so a seed gives the same stream anywhere.
struct SplitMix64 {
    private var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func uniform() -> Float { Float(next() >> 40) / Float(1 << 24) }

    /// Standard normal by Box–Muller.
    mutating func gaussian() -> Float {
        let u1 = max(uniform(), 1e-7)
        let u2 = uniform()
        return (-2 * logf(u1)).squareRoot() * cosf(2 * .pi * u2)
    }
}
