import TTADProtocol
import XCTest

/// Deterministic PRNG for reproducible fuzz-style tests (SplitMix64).
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

/// A valid embedding message on topic `cam1` with D = `dim`.
func validEmbeddingFrames(dim: Int = 8, seq: UInt64 = 7, extraHeader: String = "") -> [[UInt8]] {
    let values = (0..<dim).map { Float($0) * 0.25 - 1 }
    let header = #"{"v":1,"id":"s-7","stream":"cam1","seq":\#(seq),"ts":1732240000.25,"encoding":"f32-embedding","shape":[\#(dim)],"label":3\#(extraHeader)}"#
    return [bytes("cam1"), bytes(header), SampleEncoder.embeddingPayload(values)]
}

func embeddingHeader(_ fields: String, dim: Int = 4) -> String {
    #"{"v":1,"id":"a","stream":"cam1","seq":1,"encoding":"f32-embedding","shape":[\#(dim)]\#(fields)}"#
}

let pngMagic: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
let jpegMagic: [UInt8] = [0xFF, 0xD8, 0xFF]

extension Result {
    var failureValue: Failure? {
        if case .failure(let f) = self { return f }
        return nil
    }

    var successValue: Success? {
        if case .success(let s) = self { return s }
        return nil
    }
}
