import CTurboJPEG

/// Digital family: pixelate and JPEG.
enum Digital {
    /// PIL `resize(…, BOX)` down to ⌊side·factor⌋ and back up. PIL resamples horizontally then
    /// vertically, rounding to 8 bits after each pass; so do we. Box weights are 0/1 (PIL's box
    /// filter has no fractional coverage), each output pixel averaging the input pixels whose
    /// centres fall in its footprint.
    static func pixelate(_ img: RGBImage, factor: Double) -> RGBImage {
        let w = max(1, Int(Double(img.width) * factor)), h = max(1, Int(Double(img.height) * factor))
        return boxResize(boxResize(img, width: w, height: h), width: img.width, height: img.height)
    }

    /// Box-filter taps of PIL's precompute_coeffs for one axis.
    static func boxTaps(from inSize: Int, to outSize: Int) -> [(start: Int, count: Int)] {
        let scale = Double(inSize) / Double(outSize)
        let support = 0.5 * max(scale, 1)
        return (0..<outSize).map { o in
            let centre = (Double(o) + 0.5) * scale
            let lo = max(0, Int(centre - support + 0.5))
            let hi = min(inSize, Int(centre + support + 0.5))
            var first = -1, count = 0
            for x in lo..<max(lo, hi) {
                let t = (Double(x) - centre + 0.5) / max(scale, 1)
                if t > -0.5 && t <= 0.5 { if first < 0 { first = x }; count += 1 }
            }
            return first < 0 ? (lo, 1) : (first, count)
        }
    }

    static func boxResize(_ img: RGBImage, width w: Int, height h: Int) -> RGBImage {
        func pass(_ src: [UInt8], _ sw: Int, _ sh: Int, _ dw: Int, _ dh: Int, horizontal: Bool) -> [UInt8] {
            let taps = horizontal ? boxTaps(from: sw, to: dw) : boxTaps(from: sh, to: dh)
            var out = [UInt8](repeating: 0, count: dw * dh * 3)
            for y in 0..<dh {
                for x in 0..<dw {
                    let t = horizontal ? taps[x] : taps[y]
                    for c in 0..<3 {
                        var s = 0
                        for k in 0..<t.count {
                            let (xx, yy) = horizontal ? (t.start + k, y) : (x, t.start + k)
                            s += Int(src[(yy * sw + xx) * 3 + c])
                        }
                        out[(y * dw + x) * 3 + c] = UInt8((Double(s) / Double(t.count) + 0.5).rounded(.down))
                    }
                }
            }
            return out
        }
        let a = pass(img.pixels, img.width, img.height, w, img.height, horizontal: true)
        let b = pass(a, w, img.height, w, h, horizontal: false)
        return RGBImage(width: w, height: h, pixels: b)
    }

    /// Encode at `quality` and decode, with libjpeg-turbo: 4:2:0 chroma subsampling and the
    /// accurate integer DCT both ways, as PIL's defaults (libjpeg islow).
    static func jpeg(_ img: RGBImage, quality: Int32) throws -> RGBImage {
        guard let enc = tjInitCompress() else { throw CorruptionError.jpeg("tjInitCompress failed") }
        defer { tjDestroy(enc) }
        var buf: UnsafeMutablePointer<UInt8>? = nil
        var size: UInt = 0
        let flags = Int32(TJFLAG_ACCURATEDCT)
        let rc = img.pixels.withUnsafeBufferPointer { p in
            tjCompress2(enc, p.baseAddress, Int32(img.width), 0, Int32(img.height), Int32(TJPF_RGB.rawValue),
                        &buf, &size, Int32(TJSAMP_420.rawValue), quality, flags)
        }
        defer { if buf != nil { tjFree(buf) } }
        guard rc == 0, let jpeg = buf else { throw CorruptionError.jpeg(String(cString: tjGetErrorStr2(enc))) }
        guard let dec = tjInitDecompress() else { throw CorruptionError.jpeg("tjInitDecompress failed") }
        defer { tjDestroy(dec) }
        var out = [UInt8](repeating: 0, count: img.pixels.count)
        let rc2 = out.withUnsafeMutableBufferPointer { o in
            tjDecompress2(dec, jpeg, size, o.baseAddress, Int32(img.width), 0, Int32(img.height),
                          Int32(TJPF_RGB.rawValue), flags)
        }
        guard rc2 == 0 else { throw CorruptionError.jpeg(String(cString: tjGetErrorStr2(dec))) }
        return RGBImage(width: img.width, height: img.height, pixels: out)
    }
}
