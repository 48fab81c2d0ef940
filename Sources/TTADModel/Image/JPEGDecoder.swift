import CTurboJPEG

/// JPEG → RGB8 through libjpeg-turbo's TurboJPEG API.
///
/// Decoding uses TurboJPEG's defaults (accurate integer IDCT, "fancy" chroma upsampling), the same
/// settings Pillow uses, so 4:2:0/4:2:2/4:4:4, progressive and greyscale JPEGs come out as Pillow
/// decodes them (bit-identical on every fixture with libjpeg-turbo 2.1.5 vs Pillow's bundled 3.x).
/// Greyscale JPEGs are expanded to RGB by replication, as Pillow's `convert("RGB")` does. EXIF
/// orientation is ignored (so is it by CLIPImageProcessor).
///
/// CMYK and YCCK JPEGs (Photoshop, print workflows): TurboJPEG decodes them only to CMYK pixels,
/// which are converted here exactly as Pillow's `Image.open(f).convert("RGB")` does: the stored
/// values are taken as Adobe-inverted (Pillow's rawmode "CMYK;I", whatever the APP14 marker
/// says), then R = (255−K) − (C·(255−K))/255 per channel with Pillow's rounding.
///
/// libjpeg distinguishes errors (decoding stopped) from warnings (it recovered and produced a
/// full image). Errors → `.corrupt`/`.truncated`. The "premature end of JPEG file" warning means
/// the data was cut off and libjpeg padded the rest of the image with grey, so it is reported as
/// `.truncated` (Pillow raises "image file is truncated" there too). Other warnings (e.g.
/// extraneous bytes before a marker, corrupt entropy data that libjpeg resynchronised past) are
/// accepted like Pillow accepts them, unless `strict` is set, in which case they are `.corrupt`.
/// Not thread-safe: one instance (TurboJPEG handle) per thread.
final class JPEGDecoder {
    private var handle: tjhandle?
    let strict: Bool

    init(strict: Bool) { self.strict = strict }

    deinit {
        if let handle { tjDestroy(handle) }
    }

    private func instance() throws(ImageDecodeError) -> tjhandle {
        if let handle { return handle }
        guard let h = tjInitDecompress() else {
            throw .unsupported(format: .jpeg, detail: "cannot initialise TurboJPEG: \(Self.message(nil))")
        }
        handle = h
        return h
    }

    private static func message(_ handle: tjhandle?) -> String {
        guard let cString = tjGetErrorStr2(handle) else { return "unknown TurboJPEG error" }
        return String(cString: cString)
    }

    /// Whether a libjpeg message describes running out of input.
    private static func isEndOfData(_ message: String) -> Bool {
        let m = message.lowercased()
        return m.contains("premature end of jpeg file") || m.contains("empty input buffer")
    }

    /// CMYK pixels of the image being decoded (reused between images).
    private var cmykScratch: [UInt8] = []

    /// Reads the header: width, height and whether the image is CMYK/YCCK. Nothing is
    /// allocated for pixels.
    func header(_ bytes: UnsafeRawBufferPointer) throws(ImageDecodeError) -> (width: Int, height: Int, isCMYK: Bool) {
        let h = try instance()
        var width: Int32 = 0, height: Int32 = 0, subsamp: Int32 = 0, colorspace: Int32 = 0
        let base = bytes.baseAddress!.assumingMemoryBound(to: UInt8.self)
        let rc = tjDecompressHeader3(h, base, UInt(bytes.count), &width, &height, &subsamp, &colorspace)
        if rc != 0 {
            let msg = Self.message(h)
            if width <= 0 || height <= 0 {
                // No usable header. libjpeg's message can't tell a cut-off header from a broken
                // one (it substitutes an EOI marker at the end of the data and then complains
                // about e.g. a "missing SOS marker"), so walk the marker segments ourselves.
                reset()
                if Self.isEndOfData(msg) || Self.headerEndsEarly(bytes) {
                    throw .truncated(format: .jpeg, detail: "data ends inside the headers (\(msg))")
                }
                throw .corrupt(format: .jpeg, detail: msg)
            }
            // Dimensions were read; a warning on the way (e.g. stray bytes before a marker) is
            // left for tjDecompress2 to meet again and judge.
        }
        guard width > 0, height > 0 else {
            reset()
            throw .corrupt(format: .jpeg, detail: "header declares a \(width)x\(height) image")
        }
        let isCMYK = colorspace == Int32(TJCS_CMYK.rawValue) || colorspace == Int32(TJCS_YCCK.rawValue)
        return (Int(width), Int(height), isCMYK)
    }

    /// Decodes into `output` (exactly `width * height * 3` bytes, from `header`).
    ///
    /// TurboJPEG's error code reads "warning" whenever *any* warning occurred, even if a fatal
    /// error followed, so warnings are classified with TJFLAG_STOPONWARNING: the first pass stops
    /// at the first warning or error, which is then unambiguous. Only if it was a recoverable
    /// warning (and not `strict`) is the image decoded again without stopping; that pass is
    /// accepted if the only message libjpeg recorded is still that first warning (libjpeg keeps
    /// the first warning's text, and a later fatal error overwrites it).
    func decode(_ bytes: UnsafeRawBufferPointer, width: Int, height: Int, isCMYK: Bool = false,
                into output: UnsafeMutableBufferPointer<UInt8>) throws(ImageDecodeError) {
        precondition(output.count == width * height * 3)
        guard isCMYK else { return try decode(bytes, width: width, height: height, format: TJPF_RGB, into: output) }
        let count = width * height * 4
        if cmykScratch.count < count { cmykScratch = [UInt8](repeating: 0, count: count) }
        let result = cmykScratch.withUnsafeMutableBufferPointer { cmyk in
            Result { () throws(ImageDecodeError) in
                let pixels = UnsafeMutableBufferPointer(rebasing: cmyk[0..<count])
                try decode(bytes, width: width, height: height, format: TJPF_CMYK, into: pixels)
                Self.invertedCMYKToRGB(UnsafeBufferPointer(pixels), into: output)
            }
        }
        try result.get()
    }

    /// Pillow's CMYK JPEG → RGB: unpack "CMYK;I" (255 − stored), then `cmyk2rgb` (Convert.c):
    /// nk = 255 − K, out = clip(nk − MULDIV255(C, nk)) with MULDIV255(a, b) = ((t >> 8) + t) >> 8,
    /// t = a·b + 128.
    static func invertedCMYKToRGB(_ stored: UnsafeBufferPointer<UInt8>, into rgb: UnsafeMutableBufferPointer<UInt8>) {
        precondition(stored.count / 4 * 3 == rgb.count && stored.count % 4 == 0)
        @inline(__always) func channel(_ s: UInt8, _ nk: Int) -> UInt8 {
            let t = (255 - Int(s)) * nk + 128
            return UInt8(clamping: nk - (((t >> 8) + t) >> 8))
        }
        for i in 0..<(stored.count / 4) {
            let nk = Int(stored[4 * i + 3])   // 255 − K, K = 255 − stored
            rgb[3 * i] = channel(stored[4 * i], nk)
            rgb[3 * i + 1] = channel(stored[4 * i + 1], nk)
            rgb[3 * i + 2] = channel(stored[4 * i + 2], nk)
        }
    }

    private func decode(_ bytes: UnsafeRawBufferPointer, width: Int, height: Int, format: TJPF,
                        into output: UnsafeMutableBufferPointer<UInt8>) throws(ImageDecodeError) {
        let h = try instance()
        // No TJFLAG_FASTDCT / TJFLAG_FASTUPSAMPLE: accurate integer IDCT and fancy upsampling,
        // TurboJPEG's defaults and Pillow's.
        if run(h, bytes, width, height, format, output, flags: TJFLAG_STOPONWARNING) == 0 { return }
        let first = Self.message(h)
        let isWarning = tjGetErrorCode(h) == Int32(TJERR_WARNING.rawValue)
        guard isWarning, !strict, !Self.isEndOfData(first) else {
            reset()
            throw Self.isEndOfData(first) ? .truncated(format: .jpeg, detail: first) : .corrupt(format: .jpeg, detail: first)
        }
        reset()   // a fresh handle for the second pass, rather than one libjpeg bailed out of
        let h2 = try instance()
        if run(h2, bytes, width, height, format, output, flags: 0) == 0 { return }
        let last = Self.message(h2)
        if tjGetErrorCode(h2) == Int32(TJERR_WARNING.rawValue) && last == first { return }   // recovered
        reset()
        throw Self.isEndOfData(last) ? .truncated(format: .jpeg, detail: last) : .corrupt(format: .jpeg, detail: last)
    }

    private func run(_ h: tjhandle, _ bytes: UnsafeRawBufferPointer, _ width: Int, _ height: Int, _ format: TJPF,
                     _ output: UnsafeMutableBufferPointer<UInt8>, flags: Int32) -> Int32 {
        let pixelSize = format == TJPF_CMYK ? 4 : 3
        return tjDecompress2(h, bytes.baseAddress!.assumingMemoryBound(to: UInt8.self), UInt(bytes.count),
                             output.baseAddress, Int32(width), Int32(width * pixelSize), Int32(height),
                             Int32(format.rawValue), flags)
    }

    private func reset() {
        if let handle { tjDestroy(handle) }
        handle = nil
    }

    /// Walks the marker segments from SOI; true if the data ends before the first SOS (start of
    /// scan) with every segment so far well-formed — i.e. a valid JPEG header that was cut off.
    static func headerEndsEarly(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var i = 2   // after FF D8
        while true {
            guard i < bytes.count else { return true }
            guard bytes[i] == 0xFF else { return false }           // garbage between segments
            while i < bytes.count && bytes[i] == 0xFF { i += 1 }    // fill bytes
            guard i < bytes.count else { return true }
            let marker = bytes[i]
            i += 1
            switch marker {
            case 0xDA: return false                                 // reached the scan
            case 0x01, 0xD0...0xD7: continue                        // standalone markers
            case 0xC0...0xFE:
                guard i + 2 <= bytes.count else { return true }
                let length = Int(bytes[i]) << 8 | Int(bytes[i + 1])
                guard length >= 2 else { return false }
                i += length
            default: return false                                   // not a JPEG marker
            }
        }
    }
}
