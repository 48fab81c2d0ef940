import CInt8
import Dispatch

/// An inference-only fully connected layer in int8: `y ≈ x · Wᵀ + b` for `W` in PyTorch's
/// `[out, in]` layout, the weight quantized once (symmetric, one scale per output channel, values
/// in [-127, 127]) and packed for the kernels at construction; each call quantizes the input
/// dynamically (symmetric, one scale per row — per token), multiplies in int8 with exact int32
/// sums (Sources/CInt8) and dequantizes with the two scales, adding the bias in F32.
///
/// The int32 sums are the same on every code path (portable C, AVX2, AVX-512 VNNI) and for
/// every thread count, so an int8 forward is deterministic and reproducible across machines
/// that quantize identically. There is no backward: adaptation differentiates through the F32
/// weights (`Linear`) this layer was made from.
///
/// Immutable after construction and shared between threads; the caller supplies scratch.
public final class Int8Linear: @unchecked Sendable {
    public let inDim: Int
    public let outDim: Int
    /// The F32 bias (shared with the F32 layer), or nil.
    public let bias: FloatBuffer?
    private let packed: UnsafeMutableRawPointer
    private let weightScales: FloatBuffer
    private let columnSums: UnsafeMutablePointer<Int32>

    /// The int8 code paths of `Sources/CInt8`.
    public enum Path: Int32, Sendable, CaseIterable, CustomStringConvertible {
        case auto = 0, portable = 1, avx2 = 2, avx512VNNI = 3
        public var isAvailable: Bool { ttad_i8_path_available(rawValue) != 0 }
        /// The fastest path this CPU supports.
        public static var best: Path { Path(rawValue: ttad_i8_best_path()) ?? .portable }
        /// What `auto` runs: `best`, unless set to another available path (benchmarks, e.g. the
        /// AVX2 kernels on an AVX-512 machine). Setting `auto` or an unavailable path restores
        /// `best`. Process-global.
        public static var autoResolved: Path {
            get { Path(rawValue: ttad_i8_auto_path()) ?? .portable }
            set { ttad_i8_set_auto_path(newValue.rawValue) }
        }
        /// The name used on command lines and in reports.
        public init?(name: String) {
            guard let p = Path.allCases.first(where: { $0.name == name }) else { return nil }
            self = p
        }
        public var name: String {
            switch self {
            case .auto: "auto"
            case .portable: "portable"
            case .avx2: "avx2"
            case .avx512VNNI: "avx512-vnni"
            }
        }
        public var description: String { self == .auto ? "auto (\(Path.autoResolved.name))" : name }
    }

    /// Quantizes `weight` (`outDim × inDim` floats, row-major) per output channel.
    public init(weight: UnsafePointer<Float>, bias: FloatBuffer?, outDim: Int, inDim: Int) {
        precondition(outDim > 0 && inDim > 0 && inDim < 60_000, "Int8Linear: bad shape \(outDim)×\(inDim)")
        precondition(bias == nil || bias!.count == outDim, "Int8Linear: bias of \(bias!.count) for \(outDim) outputs")
        self.inDim = inDim
        self.outDim = outDim
        self.bias = bias
        let bytes = Int(ttad_i8_packed_size(Int32(outDim), Int32(inDim)))
        packed = UnsafeMutableRawPointer.allocate(byteCount: max(64, bytes), alignment: 64)
        weightScales = FloatBuffer(count: outDim)
        columnSums = .allocate(capacity: outDim)
        ttad_i8_pack_weights(weight, Int32(outDim), Int32(inDim), packed.assumingMemoryBound(to: Int8.self),
                             weightScales.pointer, columnSums)
    }

    public convenience init(weight: FloatBuffer, bias: FloatBuffer?, outDim: Int, inDim: Int) {
        precondition(weight.count == outDim * inDim, "Int8Linear: \(weight.count) weights for \(outDim)×\(inDim)")
        self.init(weight: UnsafePointer(weight.pointer), bias: bias, outDim: outDim, inDim: inDim)
    }

    deinit {
        packed.deallocate()
        columnSums.deallocate()
    }

    /// Bytes of int8 weights plus scales and sums (what this layer adds to the F32 model).
    public var byteCount: Int { Int(ttad_i8_packed_size(Int32(outDim), Int32(inDim))) + 8 * outDim }

    /// Bytes of scratch `forward` needs for `rows` rows.
    public static func scratchBytes(rows: Int, inDim: Int) -> Int { rows * Int(ttad_i8_row_stride(Int32(inDim))) + 4 * rows }

    /// The per-channel weight scales (`max|W[o]| / 127`).
    public var scales: UnsafeBufferPointer<Float> { UnsafeBufferPointer(start: weightScales.pointer, count: outDim) }

    /// `y = x · Wᵀ + b` (or `y +=` with `accumulate`) for `rows` rows of `x` (row stride `ldx`,
    /// default dense) into `y` (row stride `ldy`, default dense). `scratch` holds at least
    /// `scratchBytes(rows:inDim:)` bytes. Output columns are split over `threads` threads
    /// (default: `BLAS.threadCount`, the one thread knob of the process).
    public func forward(
        x: UnsafePointer<Float>, rows: Int, ldx: Int? = nil,
        y: UnsafeMutablePointer<Float>, ldy: Int? = nil, accumulate: Bool = false,
        scratch: UnsafeMutableRawPointer, path: Path = .auto, threads: Int? = nil
    ) {
        guard rows > 0 else { return }
        let stride = Int(ttad_i8_row_stride(Int32(inDim)))
        let q = scratch.assumingMemoryBound(to: Int8.self)
        let rowScales = (scratch + rows * stride).assumingMemoryBound(to: Float.self)
        ttad_i8_quantize_rows(x, Int32(rows), Int32(inDim), Int32(ldx ?? inDim), q, rowScales)
        let blocks = (outDim + 15) / 16
        let workers = max(1, min(threads ?? BLAS.threadCount, blocks))
        let job = Job(layer: self, q: q, stride: Int32(stride), rowScales: rowScales, rows: Int32(rows),
                      bias: bias.map { UnsafePointer($0.pointer) }, blocks: blocks, workers: workers,
                      y: y, ldy: Int32(ldy ?? outDim), accumulate: accumulate ? 1 : 0, path: path.rawValue)
        let run: @Sendable (Int) -> Void = { job.run(part: $0) }
        if workers == 1 { run(0) } else { DispatchQueue.concurrentPerform(iterations: workers, execute: run) }
    }

    /// One call's arguments, handed to the worker threads (which only read them and write
    /// disjoint column ranges of `y`).
    private struct Job: @unchecked Sendable {
        let layer: Int8Linear
        let q: UnsafeMutablePointer<Int8>
        let stride: Int32
        let rowScales: UnsafeMutablePointer<Float>
        let rows: Int32
        let bias: UnsafePointer<Float>?
        let blocks: Int, workers: Int
        let y: UnsafeMutablePointer<Float>
        let ldy: Int32
        let accumulate: Int32
        let path: Int32

        func run(part: Int) {
            let begin = blocks * part / workers, end = blocks * (part + 1) / workers
            ttad_i8_gemm_f32(path, q, stride, rowScales, rows, layer.packed.assumingMemoryBound(to: Int8.self),
                             layer.weightScales.pointer, layer.columnSums, Int32(layer.outDim), Int32(layer.inDim), bias,
                             Int32(begin), Int32(end), y, ldy, accumulate)
        }
    }

    /// The exact int32 products `qx · qWᵀ` of already-quantized rows (row stride
    /// `Int8Linear.rowStride(inDim)`) on `path`: what the kernels' tests compare.
    public func integerProduct(quantizedRows: UnsafePointer<Int8>, rows: Int, path: Path) -> [Int32] {
        var out = [Int32](repeating: 0, count: rows * outDim)
        out.withUnsafeMutableBufferPointer { o in
            ttad_i8_gemm_s32(path.rawValue, quantizedRows, Int32(Self.rowStride(inDim)), Int32(rows),
                             packed.assumingMemoryBound(to: Int8.self), columnSums, Int32(outDim), Int32(inDim),
                             0, Int32((outDim + 15) / 16), o.baseAddress!, Int32(outDim))
        }
        return out
    }

    /// The quantized weight `qW[o][i]` (unpacked), for tests.
    public func quantizedWeight(output o: Int, input i: Int) -> Int8 {
        precondition(o >= 0 && o < outDim && i >= 0 && i < inDim)
        let k4 = (inDim + 3) / 4
        return packed.assumingMemoryBound(to: Int8.self)[(o / 16) * k4 * 64 + (i / 4) * 64 + (o % 16) * 4 + i % 4]
    }

    /// Bytes per quantized row: `inDim` rounded up to 4.
    public static func rowStride(_ inDim: Int) -> Int { Int(ttad_i8_row_stride(Int32(inDim))) }

    /// Quantizes `rows` rows (dense) per row into `q` (`rowStride(inDim)` bytes per row) and `scales`.
    public static func quantizeRows(_ x: UnsafePointer<Float>, rows: Int, inDim: Int,
                                    into q: UnsafeMutablePointer<Int8>, scales: UnsafeMutablePointer<Float>) {
        ttad_i8_quantize_rows(x, Int32(rows), Int32(inDim), Int32(inDim), q, scales)
    }
}
