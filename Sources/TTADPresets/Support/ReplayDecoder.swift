import Foundation
import TTADModel
import TTADProtocol

/// Turns a kept sample (a bank item, or a sample handed to the adaptation worker) back into the
/// model's input floats: decode as the ingest path did, then preprocess like CLIPImageProcessor.
///
/// One per thread that replays (the processing thread in deterministic mode, the adaptation
/// worker in live mode): the decoder and preprocessor reuse their buffers.
final class ReplayDecoder {
    private let imageDecoder: ImageDecoder
    private let preprocessor: ImagePreprocessor
    private var decoded = DecodedImage()

    init(limits: ImageDecodeLimits, preprocessing: ImagePreprocessorConfig) {
        imageDecoder = ImageDecoder(limits: limits)
        preprocessor = ImagePreprocessor(config: preprocessing)
    }

    /// Writes the sample's floats into `out`; false (out untouched) if it no longer decodes.
    func preprocess(_ bytes: UnsafeRawBufferPointer, encoding: SampleEncoding?, shape: [Int]?,
                    into out: UnsafeMutableBufferPointer<Float>) -> Bool {
        do {
            switch encoding {
            case .jpeg?, .png?:
                try imageDecoder.decode(bytes, into: &decoded)
            case .rawU8HWC?:
                guard let s = shape, s.count == 3 else { return false }
                try imageDecoder.decodeRaw(bytes, width: s[1], height: s[0], channels: s[2], into: &decoded)
            default:
                return false
            }
        } catch { return false }
        preprocessor.process(decoded, into: out)
        return true
    }

    func preprocess(_ item: BankSample, into out: UnsafeMutableBufferPointer<Float>) -> Bool {
        item.bytes.withUnsafeBytes { preprocess($0, encoding: SampleEncoding(rawValue: item.encoding), shape: item.shape, into: out) }
    }
}
