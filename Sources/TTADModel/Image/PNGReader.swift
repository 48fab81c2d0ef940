import CPNG

/// PNG → RGB8 through libpng's simplified read API, which reports failures in `png_image.message`
/// instead of longjmp-ing (Swift frames cannot be unwound by longjmp).
///
/// Every colour type is reduced to RGB the way Pillow + transformers' `convert_to_rgb` do it:
///  * grey → replicated to R=G=B; palette → looked up;
///  * any transparency (alpha channel, or a tRNS chunk on palette/grey/RGB images) → RGBA, then
///    `AlphaHandling` (default: composite onto white, as transformers does);
///  * 16-bit channels → 8 bits by libpng's rounding scale (v·255/65535). Pillow instead keeps the
///    high byte of 16-bit RGB(A) (at most 1 level apart), and clips 16-bit *greyscale* ("I;16")
///    to 0…255 on `convert("RGB")`, which turns it nearly white — we deliberately don't copy that.
/// libpng applies a gAMA chunk that differs from sRGB when producing 8-bit output; Pillow ignores
/// gAMA. Camera and Pillow-written PNGs carry no gAMA (or an sRGB one), so this rarely matters.
///
/// libpng keeps a pointer to the `png_image` it was started with (its read callback finds the
/// memory buffer through it), so the struct lives at a fixed heap address for the whole read —
/// a Swift value copy of it between begin and finish would leave libpng reading freed stack.
final class PNGReader {
    private let image: UnsafeMutablePointer<png_image>
    private var active = false

    /// Reads the header. `bytes` must stay valid until `finish` returns or the reader is dropped.
    init(_ bytes: UnsafeRawBufferPointer) throws(ImageDecodeError) {
        image = UnsafeMutablePointer<png_image>.allocate(capacity: 1)
        image.initialize(to: png_image())
        image.pointee.version = UInt32(PNG_IMAGE_VERSION)
        // (A throwing class init runs deinit, which frees the struct; libpng cleans itself up
        // when begin fails.)
        if png_image_begin_read_from_memory(image, bytes.baseAddress, bytes.count) == 0 {
            throw Self.error(image)
        }
        active = true
    }

    deinit {
        if active { png_image_free(image) }
        image.deinitialize(count: 1)
        image.deallocate()
    }

    var width: Int { Int(image.pointee.width) }
    var height: Int { Int(image.pointee.height) }
    /// An alpha channel or a tRNS chunk.
    var hasAlpha: Bool { image.pointee.format & PNG_FORMAT_FLAG_ALPHA != 0 }
    /// 16 bits per sample.
    var isSixteenBit: Bool { image.pointee.format & PNG_FORMAT_FLAG_LINEAR != 0 }

    /// The three layouts we ask libpng for.
    enum Output {
        /// 8-bit RGB (16-bit samples scaled with rounding).
        case rgb8
        /// 8-bit RGBA, not premultiplied (16-bit samples scaled with rounding).
        case rgba8
        /// 16-bit RGB, native-endian, samples as stored. Only for 16-bit files without alpha:
        /// libpng takes 16-bit files as linear light by default, and linear in → linear out
        /// involves no gamma transform (unless a gAMA chunk says otherwise).
        case rgb16
    }

    private static func message(_ image: UnsafeMutablePointer<png_image>) -> String {
        withUnsafeBytes(of: &image.pointee.message) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    private static func error(_ image: UnsafeMutablePointer<png_image>) -> ImageDecodeError {
        let msg = message(image)
        let m = msg.lowercased()
        // libpng's memory reader says "read beyond end of data"; a missing IDAT tail shows up as
        // "not enough image data"; a cut inside the zlib stream as "… truncated"/"unexpected end".
        if m.contains("end of data") || m.contains("not enough image data") || m.contains("truncated")
            || m.contains("unexpected end") {
            return .truncated(format: .png, detail: msg.isEmpty ? "unexpected end of data" : msg)
        }
        return .corrupt(format: .png, detail: msg.isEmpty ? "libpng failed without a message" : msg)
    }

    /// Decodes the pixels into `output`: `width*height` × 3 bytes (`.rgb8`), 4 bytes (`.rgba8`)
    /// or 6 bytes (`.rgb16`). Releases libpng's state either way.
    func finish(_ layout: Output, into output: UnsafeMutableRawPointer) throws(ImageDecodeError) {
        precondition(active, "PNGReader.finish called twice")
        // PNG_FORMAT_RGB(A) are macros of macros, which Swift does not import.
        let rgb = UInt32(PNG_FORMAT_FLAG_COLOR)
        switch layout {
        case .rgb8:
            image.pointee.format = rgb
        case .rgba8:
            image.pointee.format = rgb | UInt32(PNG_FORMAT_FLAG_ALPHA)
        case .rgb16:
            image.pointee.format = rgb | UInt32(PNG_FORMAT_FLAG_LINEAR)
        }
        if layout != .rgb16 {
            // Without this flag libpng treats 16-bit data as *linear* light and gamma-encodes it on
            // the way to 8 bits; with it, 16-bit samples are taken as sRGB-encoded and just scaled.
            image.pointee.flags |= UInt32(PNG_IMAGE_FLAG_16BIT_sRGB)
        }
        let ok = png_image_finish_read(image, nil, output, 0, nil)
        active = false
        if ok == 0 {
            let e = Self.error(image)
            png_image_free(image)
            throw e
        }
        png_image_free(image)   // finish already released it; harmless
    }
}
