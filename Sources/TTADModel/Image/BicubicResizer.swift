/// Pillow-compatible bicubic resize of 8-bit RGB images (`Image.resize(size, Image.BICUBIC)`),
/// bit-exact with Pillow's `ImagingResample` for RGB/RGBX images.
///
/// Like Pillow it is separable — a horizontal pass into an 8-bit intermediate (rounded and
/// clamped), then a vertical pass — and skips a pass whose size does not change. Weights come from
/// `ResampleCoefficients` (antialiased when shrinking). It can produce just a window of the output
/// (e.g. the centre crop), which is bit-identical to resizing everything and cropping afterwards
/// because every output sample depends only on its own weights.
///
/// Coefficient tables and the intermediate buffer are cached and reused, so once warmed up for a
/// given (input size, output size) a call allocates nothing. Not thread-safe: one per worker.
///
/// `filter: .bilinear` makes it Pillow's BILINEAR resize instead (same passes and rounding; used
/// for augmented views, where torchvision resizes with bilinear).
public final class BicubicResizer {
    /// A region of the output image: columns x..<x+width, rows y..<y+height.
    public struct Window: Sendable, Equatable {
        public var x: Int, y: Int, width: Int, height: Int
        public init(x: Int, y: Int, width: Int, height: Int) {
            self.x = x; self.y = y; self.width = width; self.height = height
        }
    }

    private var cache: [ResampleCoefficients] = []
    private static let cacheLimit = 6
    private var intermediate: UnsafeMutablePointer<UInt8>?
    private var intermediateCapacity = 0

    public let filter: ResampleFilter

    public init(filter: ResampleFilter = .bicubic) {
        self.filter = filter
    }

    deinit { intermediate?.deallocate() }

    /// Number of coefficient tables currently cached (for tests).
    var cachedTableCount: Int { cache.count }

    func coefficients(input: Int, output: Int) -> ResampleCoefficients {
        if let i = cache.firstIndex(where: { $0.inputSize == input && $0.outputSize == output }) {
            return cache[i]
        }
        let c = ResampleCoefficients(inputSize: input, outputSize: output, filter: filter)
        if cache.count >= Self.cacheLimit { cache.removeFirst() }
        cache.append(c)
        return c
    }

    private func scratch(_ count: Int) -> UnsafeMutablePointer<UInt8> {
        if let intermediate, intermediateCapacity >= count { return intermediate }
        intermediate?.deallocate()
        let p = UnsafeMutablePointer<UInt8>.allocate(capacity: count)
        intermediate = p
        intermediateCapacity = count
        return p
    }

    /// Resizes the `width`×`height` RGB image at `source` to `outputWidth`×`outputHeight` and
    /// writes `window` of the result (default: all of it) to `destination`, tightly packed
    /// (`window.width * 3` bytes per row).
    public func resize(source: UnsafePointer<UInt8>, width: Int, height: Int,
                       outputWidth: Int, outputHeight: Int, window: Window? = nil,
                       into destination: UnsafeMutablePointer<UInt8>) {
        precondition(width > 0 && height > 0 && outputWidth > 0 && outputHeight > 0, "resize: empty image")
        let win = window ?? Window(x: 0, y: 0, width: outputWidth, height: outputHeight)
        precondition(win.x >= 0 && win.y >= 0 && win.width > 0 && win.height > 0
                     && win.x + win.width <= outputWidth && win.y + win.height <= outputHeight,
                     "resize: window outside the output image")
        let needHorizontal = outputWidth != width
        let needVertical = outputHeight != height
        let srcStride = width * 3

        switch (needHorizontal, needVertical) {
        case (false, false):
            for row in 0..<win.height {
                (destination + row * win.width * 3).update(from: source + (win.y + row) * srcStride + win.x * 3,
                                                           count: win.width * 3)
            }
        case (true, false):
            let h = coefficients(input: width, output: outputWidth)
            Self.horizontal(h, source: source + win.y * srcStride, sourceStride: srcStride, rows: win.height,
                            columns: win.x..<(win.x + win.width), into: destination)
        case (false, true):
            let v = coefficients(input: height, output: outputHeight)
            Self.vertical(v, source: source + win.x * 3, sourceStride: srcStride, firstSourceRow: 0,
                          rows: win.y..<(win.y + win.height), rowBytes: win.width * 3, into: destination)
        case (true, true):
            let h = coefficients(input: width, output: outputWidth)
            let v = coefficients(input: height, output: outputHeight)
            // Only the source rows the window's output rows read from.
            var top = Int.max, bottom = 0
            for r in win.y..<(win.y + win.height) {
                top = min(top, Int(v.first[r]))
                bottom = max(bottom, Int(v.first[r] + v.count[r]))
            }
            let tmpStride = win.width * 3
            let tmp = scratch((bottom - top) * tmpStride)
            Self.horizontal(h, source: source + top * srcStride, sourceStride: srcStride, rows: bottom - top,
                            columns: win.x..<(win.x + win.width), into: tmp)
            Self.vertical(v, source: UnsafePointer(tmp), sourceStride: tmpStride, firstSourceRow: top,
                          rows: win.y..<(win.y + win.height), rowBytes: tmpStride, into: destination)
        }
    }

    /// Convenience: resizes a whole `DecodedImage` (allocates the result).
    public func resize(_ image: DecodedImage, width: Int, height: Int) -> DecodedImage {
        precondition(!image.isEmpty, "resize: empty image")
        var out = [UInt8](repeating: 0, count: width * height * 3)
        image.pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                resize(source: src.baseAddress!, width: image.width, height: image.height,
                       outputWidth: width, outputHeight: height, into: dst.baseAddress!)
            }
        }
        return DecodedImage(width: width, height: height, pixels: out)
    }

    @inline(__always)
    private static func clamp(_ sum: Int32) -> UInt8 {
        let v = sum >> Int32(ResampleCoefficients.precisionBits)
        return v < 0 ? 0 : (v > 255 ? 255 : UInt8(truncatingIfNeeded: v))
    }

    private static let half = Int32(1) << Int32(ResampleCoefficients.precisionBits - 1)

    /// Horizontal pass over `rows` rows: output columns `columns` (packed) from each source row.
    private static func horizontal(_ c: ResampleCoefficients, source: UnsafePointer<UInt8>, sourceStride: Int,
                                   rows: Int, columns: Range<Int>, into dst: UnsafeMutablePointer<UInt8>) {
        let ks = c.kernelSize
        c.first.withUnsafeBufferPointer { first in
        c.count.withUnsafeBufferPointer { count in
        c.weights.withUnsafeBufferPointer { weights in
            let outStride = columns.count &* 3
            for y in 0..<rows {
                let srow = source + y &* sourceStride
                var d = dst + y &* outStride
                for x in columns {
                    let k = weights.baseAddress! + x &* ks
                    var p = srow + Int(first[x]) &* 3
                    var r = half, g = half, b = half
                    for j in 0..<Int(count[x]) {
                        let w = k[j]
                        r = r &+ Int32(p[0]) &* w
                        g = g &+ Int32(p[1]) &* w
                        b = b &+ Int32(p[2]) &* w
                        p += 3
                    }
                    d[0] = clamp(r); d[1] = clamp(g); d[2] = clamp(b)
                    d += 3
                }
            }
        }}}
    }

    /// Vertical pass: output rows `rows`, `rowBytes` bytes each; the source's row 0 is image row
    /// `firstSourceRow`.
    ///
    /// Every byte of an output row uses the same taps, so the row is computed 16 bytes at a time
    /// in `SIMD16<Int32>` lanes (integer sums: identical to the scalar loop, bit for bit). This is
    /// the pass that dominates enlarging (a 28×28 frame to 224×224 spends ~90 % of its work here).
    private static func vertical(_ c: ResampleCoefficients, source: UnsafePointer<UInt8>, sourceStride: Int,
                                 firstSourceRow: Int, rows: Range<Int>, rowBytes: Int,
                                 into dst: UnsafeMutablePointer<UInt8>) {
        let ks = c.kernelSize
        let lanes = 16
        let vectorBytes = rowBytes - rowBytes % lanes
        let halfVector = SIMD16<Int32>(repeating: half)
        let zero = SIMD16<Int32>(repeating: 0), maxByte = SIMD16<Int32>(repeating: 255)
        c.first.withUnsafeBufferPointer { first in
        c.count.withUnsafeBufferPointer { count in
        c.weights.withUnsafeBufferPointer { weights in
            var d = dst
            for y in rows {
                let k = weights.baseAddress! + y &* ks
                let n = Int(count[y])
                let base = source + (Int(first[y]) &- firstSourceRow) &* sourceStride
                var x = 0
                while x < vectorBytes {
                    var s = halfVector
                    var p = base + x
                    for j in 0..<n {
                        let bytes = UnsafeRawPointer(p).loadUnaligned(as: SIMD16<UInt8>.self)
                        s &+= SIMD16<Int32>(truncatingIfNeeded: bytes) &* k[j]
                        p += sourceStride
                    }
                    var v = s &>> Int32(ResampleCoefficients.precisionBits)
                    v.replace(with: zero, where: v .< zero)
                    v.replace(with: maxByte, where: v .> maxByte)
                    UnsafeMutableRawPointer(d + x).storeBytes(of: SIMD16<UInt8>(truncatingIfNeeded: v),
                                                              as: SIMD16<UInt8>.self)
                    x &+= lanes
                }
                while x < rowBytes {
                    var p = base + x
                    var s = half
                    for j in 0..<n {
                        s = s &+ Int32(p[0]) &* k[j]
                        p += sourceStride
                    }
                    d[x] = clamp(s)
                    x &+= 1
                }
                d += rowBytes
            }
        }}}
    }
}
