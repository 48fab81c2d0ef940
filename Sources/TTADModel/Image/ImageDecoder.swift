import Foundation

/// Turns JPEG, PNG or raw u8 bytes into a `DecodedImage` (8-bit RGB, HWC).
///
/// * The format is recognised by its signature; anything else is `.unknownFormat`.
/// * Dimensions are read from the header and checked against `limits` **before** any pixel
///   buffer is allocated or any image data is decompressed.
/// * Failures are typed (`ImageDecodeError`): truncated vs corrupt vs unsupported vs too large.
///
/// Holds a TurboJPEG handle and a scratch buffer (for PNGs with transparency or 16-bit samples;
/// it keeps the size of the largest such image seen), so keep one per worker and reuse it; it is
/// not thread-safe. With `decode(_:into:)` and a reused `DecodedImage`, steady-state decoding of
/// same-sized images allocates nothing in Swift (libjpeg/libpng keep their own small allocations).
public final class ImageDecoder {
    public let limits: ImageDecodeLimits
    public let alpha: AlphaHandling
    /// Treat recoverable libjpeg warnings (other than truncation) as `.corrupt` instead of accepting them.
    public let strictJPEG: Bool

    private let jpeg: JPEGDecoder
    private var scratch: [UInt8] = []

    public init(limits: ImageDecodeLimits = ImageDecodeLimits(), alpha: AlphaHandling = .compositeOnWhite,
                strictJPEG: Bool = false) {
        self.limits = limits
        self.alpha = alpha
        self.strictJPEG = strictJPEG
        self.jpeg = JPEGDecoder(strict: strictJPEG)
    }

    // MARK: Encoded images

    /// Decodes a JPEG or PNG.
    public func decode(_ bytes: UnsafeRawBufferPointer) throws(ImageDecodeError) -> DecodedImage {
        var image = DecodedImage()
        try decode(bytes, into: &image)
        return image
    }

    public func decode(_ bytes: [UInt8]) throws(ImageDecodeError) -> DecodedImage {
        var image = DecodedImage()
        try decode(bytes, into: &image)
        return image
    }

    public func decode(_ data: Data) throws(ImageDecodeError) -> DecodedImage {
        var image = DecodedImage()
        try decode(data, into: &image)
        return image
    }

    public func decode(_ bytes: [UInt8], into image: inout DecodedImage) throws(ImageDecodeError) {
        let result = bytes.withUnsafeBytes { raw in Result { () throws(ImageDecodeError) in try decode(raw, into: &image) } }
        try result.get()
    }

    public func decode(_ data: Data, into image: inout DecodedImage) throws(ImageDecodeError) {
        let result = data.withUnsafeBytes { raw in Result { () throws(ImageDecodeError) in try decode(raw, into: &image) } }
        try result.get()
    }

    /// Decodes into `image`, reusing its storage. On failure `image` is left empty.
    public func decode(_ bytes: UnsafeRawBufferPointer, into image: inout DecodedImage) throws(ImageDecodeError) {
        do throws(ImageDecodeError) {
            try decodeEncoded(bytes, into: &image)
        } catch {
            image.clear()
            throw error
        }
    }

    private func decodeEncoded(_ bytes: UnsafeRawBufferPointer, into image: inout DecodedImage) throws(ImageDecodeError) {
        guard bytes.count > 0 else { throw .empty }
        switch ImageFormat.sniff(bytes) {
        case .jpeg?:
            let (w, h, isCMYK) = try jpeg.header(bytes)
            try limits.check(width: w, height: h)
            let jpeg = self.jpeg
            try image.reshape(width: w, height: h) { out throws(ImageDecodeError) in
                try jpeg.decode(bytes, width: w, height: h, isCMYK: isCMYK, into: out)
            }
        case .png?:
            try decodePNG(bytes, into: &image)
        default:
            // A few bytes of a signature are "truncated", not "unknown".
            if bytes.count < 8, bytes.count >= 2, bytes[0] == 0xFF, bytes[1] == 0xD8 {
                throw .truncated(format: .jpeg, detail: "only \(bytes.count) bytes")
            }
            let pngSignature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
            if bytes.count < 8, bytes.elementsEqual(pngSignature.prefix(bytes.count)) {
                throw .truncated(format: .png, detail: "only \(bytes.count) bytes")
            }
            throw .unknownFormat
        }
    }

    private func decodePNG(_ bytes: UnsafeRawBufferPointer, into image: inout DecodedImage) throws(ImageDecodeError) {
        let png = try PNGReader(bytes)
        let w = png.width, h = png.height
        try limits.check(width: w, height: h)   // before allocating anything for the pixels
        if png.isSixteenBit && !png.hasAlpha {
            let count = w * h * 6
            if scratch.count < count {
                scratch = [UInt8](repeating: 0, count: count)
            }
            let result = scratch.withUnsafeMutableBytes { scratch in
                Result { () throws(ImageDecodeError) in
                    try png.finish(.rgb16, into: scratch.baseAddress!)
                    try image.reshape(width: w, height: h) { out throws(ImageDecodeError) in
                        let samples = scratch.baseAddress!.assumingMemoryBound(to: UInt16.self)
                        for i in 0..<(w * h * 3) { out[i] = UInt8(truncatingIfNeeded: samples[i] >> 8) }
                    }
                }
            }
            try result.get()
        } else if png.hasAlpha {
            let count = w * h * 4
            if scratch.count < count {
                scratch = [UInt8](repeating: 0, count: count)
            }
            let alpha = self.alpha
            let result = scratch.withUnsafeMutableBytes { scratch in
                Result { () throws(ImageDecodeError) in
                    try png.finish(.rgba8, into: scratch.baseAddress!)
                    try image.reshape(width: w, height: h) { out throws(ImageDecodeError) in
                        alpha.reduce(rgba: scratch.baseAddress!.assumingMemoryBound(to: UInt8.self),
                                     to: out.baseAddress!, count: w * h)
                    }
                }
            }
            try result.get()
        } else {
            try image.reshape(width: w, height: h) { out throws(ImageDecodeError) in
                try png.finish(.rgb8, into: UnsafeMutableRawPointer(out.baseAddress!))
            }
        }
    }

    // MARK: Raw pixels

    /// Wraps raw u8 HWC pixels with 1 (grey, replicated to RGB) or 3 (RGB) channels.
    public func decodeRaw(_ bytes: UnsafeRawBufferPointer, width: Int, height: Int,
                          channels: Int) throws(ImageDecodeError) -> DecodedImage {
        var image = DecodedImage()
        try decodeRaw(bytes, width: width, height: height, channels: channels, into: &image)
        return image
    }

    public func decodeRaw(_ bytes: [UInt8], width: Int, height: Int,
                          channels: Int) throws(ImageDecodeError) -> DecodedImage {
        let result = bytes.withUnsafeBytes { raw in
            Result { () throws(ImageDecodeError) in try decodeRaw(raw, width: width, height: height, channels: channels) }
        }
        return try result.get()
    }

    public func decodeRaw(_ bytes: UnsafeRawBufferPointer, width: Int, height: Int, channels: Int,
                          into image: inout DecodedImage) throws(ImageDecodeError) {
        guard channels == 1 || channels == 3 else {
            image.clear()
            throw .unsupported(format: .raw, detail: "\(channels) channels (raw input must have 1 or 3)")
        }
        do throws(ImageDecodeError) {
            try limits.check(width: width, height: height)
        } catch {
            image.clear()
            throw error
        }
        let expected = width * height * channels
        guard bytes.count == expected else {
            image.clear()
            throw .rawLengthMismatch(expected: expected, actual: bytes.count)
        }
        try image.reshape(width: width, height: height) { out throws(ImageDecodeError) in
            let src = bytes.baseAddress!.assumingMemoryBound(to: UInt8.self)
            let dst = out.baseAddress!
            if channels == 3 {
                dst.update(from: src, count: expected)
            } else {
                for i in 0..<(width * height) {
                    let v = src[i]
                    dst[i &* 3] = v; dst[i &* 3 &+ 1] = v; dst[i &* 3 &+ 2] = v
                }
            }
        }
    }
}
