import FuzzSupport
import TTADModel

// A jpeg/png payload as ImagePredictor.append handles it: ImageDecoder (format sniffed from the
// bytes, dimensions checked before any pixel buffer exists) then the CLIP preprocessor into the
// model's input buffer. An input starting with "R" instead takes the raw-u8-hwc path: two bytes
// height and width, one byte channels, the rest pixels.
//
// Sized for throughput, same code: the pixel limit is 256 kpx rather than the daemon's 64 Mpx
// default, so a header claiming a huge image costs milliseconds, not a second; the preprocessor
// uses the test CLIP's 48 px geometry (Tests/TTADModelTests/Fixtures/clip-models/quick) rather
// than 224 px, so the time goes into decoding rather than resampling.

let limits = ImageDecodeLimits(maxSide: 8192, maxPixels: 1 << 18)
nonisolated(unsafe) let decoder = ImageDecoder(limits: limits)
let geometry = ImagePreprocessorConfig(shortestEdge: 48, cropSize: 48)
nonisolated(unsafe) let preprocessor = ImagePreprocessor(config: geometry)
nonisolated(unsafe) var image = DecodedImage()
nonisolated(unsafe) var output = [Float](repeating: 0, count: 3 * 48 * 48)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    do {
        if size >= 4, bytes[0] == UInt8(ascii: "R") {
            try decoder.decodeRaw(UnsafeRawBufferPointer(rebasing: bytes[4...]), width: Int(bytes[2]), height: Int(bytes[1]),
                                  channels: Int(bytes[3]), into: &image)
        } else {
            try decoder.decode(bytes, into: &image)
        }
    } catch {
        // A typed, described rejection is the correct outcome for bad bytes; the image is left empty.
        fuzzCheck(image.isEmpty, "a failed decode left a \(image.width)×\(image.height) image behind")
        _ = "\(error)"
        return 0
    }
    fuzzCheck(!image.isEmpty, "decode succeeded with an empty image")
    fuzzCheck(image.width <= limits.maxSide && image.height <= limits.maxSide && image.width * image.height <= limits.maxPixels,
              "decoded \(image.width)×\(image.height) past the limits")
    fuzzCheck(image.pixels.count == image.width * image.height * DecodedImage.channels, "pixel buffer of the wrong size")
    output.withUnsafeMutableBufferPointer { preprocessor.process(image, into: $0) }
    fuzzCheck(output.allSatisfy(\.isFinite), "preprocessing produced a non-finite value")
    return 0
}
