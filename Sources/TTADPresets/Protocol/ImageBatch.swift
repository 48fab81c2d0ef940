import Foundation
import TTADEngine
import TTADModel
import TTADProtocol

/// Image mode's batch as the predictor gathered it: each row's model input (preprocessed
/// pixels), its decoded image (for presets that make views of it) and the message payload it came
/// in (for presets that keep samples: a reference, not a copy).
///
/// Owned by the predictor and allocated once at `maxBatch` rows; rows are valid from `append`
/// until the next batch begins.
public final class ImageBatch {
    public let maxBatch: Int
    /// Floats of one row's model input.
    public let imageFloatCount: Int
    public let pixels: FloatBuffer
    public internal(set) var decoded: [DecodedImage]
    public private(set) var payloads: [[UInt8]]
    public private(set) var encodings: [SampleEncoding]
    public private(set) var shapes: [SampleShape?]

    public init(maxBatch: Int, imageFloatCount: Int) {
        self.maxBatch = maxBatch
        self.imageFloatCount = imageFloatCount
        pixels = FloatBuffer(count: maxBatch * imageFloatCount)
        decoded = Array(repeating: DecodedImage(), count: maxBatch)
        payloads = Array(repeating: [], count: maxBatch)
        encodings = Array(repeating: .rawU8HWC, count: maxBatch)
        shapes = Array(repeating: nil, count: maxBatch)
    }

    /// Row `row`'s model input.
    public func pixels(at row: Int) -> UnsafeMutablePointer<Float> { pixels.pointer + row * imageFloatCount }

    /// Keeps row `row`'s decoded image (its storage is swapped in, not copied) and payload.
    public func keep(row: Int, decoded image: inout DecodedImage, payload: [UInt8], encoding: SampleEncoding, shape: SampleShape?) {
        swap(&image, &decoded[row])
        payloads[row] = payload
        encodings[row] = encoding
        shapes[row] = shape
    }

    /// Lets go of the first `count` rows' payloads once everything that keeps samples has run.
    public func releasePayloads(count: Int) {
        for i in 0..<count { payloads[i] = [] }
    }

    /// Row `row` as a bank item (copies the payload).
    public func sample(_ row: Int) -> BankSample {
        BankSample(encoding: encodings[row].rawValue, shape: shapes[row].map { Array($0) }, bytes: Data(payloads[row]))
    }
}
