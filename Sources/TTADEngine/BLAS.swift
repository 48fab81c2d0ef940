import COpenBLAS

#if canImport(Glibc)
import Glibc
#endif

/// Thin, checked wrapper over the CBLAS routines the engine uses (OpenBLAS underneath).
///
/// Everything here is **row-major**, which is how every tensor in the engine is laid out. The
/// wrappers exist so that (a) call sites speak `Int` rather than `blasint` (`Int32` in the Debian
/// build), (b) dimension/leading-dimension mistakes trap with a readable message instead of
/// OpenBLAS printing "parameter N had an illegal value" to stderr and returning silently, and
/// (c) the process-global OpenBLAS knobs (thread count, chosen kernel) are visible in one place.
///
/// Kernel choice: OpenBLAS picks its kernels once, when the library is loaded, from CPUID.
/// 0.3.21 predates AMD Zen 5 and falls back to Haswell (AVX2) kernels there; exporting
/// `OPENBLAS_CORETYPE=SkylakeX` in the environment **before the process starts** selects the
/// AVX-512 kernels (roughly 2x sgemm throughput). It cannot be changed from inside the process,
/// which is why the daemon's service unit, not this code, sets it. See `coreTypeAdvice()`.
public enum BLAS {
    // MARK: Level 3

    /// `C ← alpha · op(A) · op(B) + beta · C`, all matrices row-major.
    ///
    /// - `op(A)` is `m × k`: A is stored `m × k` (`lda ≥ k`) or, when `transA`, `k × m` (`lda ≥ m`).
    /// - `op(B)` is `k × n`: B is stored `k × n` (`ldb ≥ n`) or, when `transB`, `n × k` (`ldb ≥ k`).
    /// - C is `m × n` with `ldc ≥ n`.
    ///
    /// When `beta == 0`, C is write-only (its previous contents, even NaN, are ignored), as the
    /// BLAS specification promises. `k == 0` yields `C ← beta · C`.
    public static func sgemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        precondition(m >= 0 && n >= 0 && k >= 0, "BLAS.sgemm: negative dimension m=\(m) n=\(n) k=\(k)")
        let aCols = transA ? m : k
        let bCols = transB ? k : n
        precondition(lda >= max(1, aCols), "BLAS.sgemm: lda=\(lda) < \(max(1, aCols)) (transA=\(transA), m=\(m), k=\(k))")
        precondition(ldb >= max(1, bCols), "BLAS.sgemm: ldb=\(ldb) < \(max(1, bCols)) (transB=\(transB), k=\(k), n=\(n))")
        precondition(ldc >= max(1, n), "BLAS.sgemm: ldc=\(ldc) < \(max(1, n))")
        precondition(fitsBLASInt(m) && fitsBLASInt(n) && fitsBLASInt(k) &&
                     fitsBLASInt(lda) && fitsBLASInt(ldb) && fitsBLASInt(ldc),
                     "BLAS.sgemm: a dimension does not fit the 32-bit BLAS integer type")
        if m == 0 || n == 0 { return }
        cblas_sgemm(CblasRowMajor,
                    transA ? CblasTrans : CblasNoTrans,
                    transB ? CblasTrans : CblasNoTrans,
                    blasint(m), blasint(n), blasint(k),
                    alpha, a, blasint(lda), b, blasint(ldb),
                    beta, c, blasint(ldc))
    }

    // MARK: Level 2

    /// `y ← alpha · op(A) · x + beta · y` with A stored row-major `m × n` (`lda ≥ n`).
    /// `op(A)` is A (`x` has `n` elements, `y` has `m`) or, when `trans`, Aᵀ (`x` has `m`, `y` has `n`).
    public static func sgemv(
        trans: Bool, m: Int, n: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int,
        x: UnsafePointer<Float>, incx: Int = 1,
        beta: Float, y: UnsafeMutablePointer<Float>, incy: Int = 1
    ) {
        precondition(m >= 0 && n >= 0, "BLAS.sgemv: negative dimension m=\(m) n=\(n)")
        precondition(lda >= max(1, n), "BLAS.sgemv: lda=\(lda) < \(max(1, n))")
        precondition(incx != 0 && incy != 0, "BLAS.sgemv: zero increment")
        precondition(fitsBLASInt(m) && fitsBLASInt(n) && fitsBLASInt(lda) &&
                     fitsBLASInt(incx) && fitsBLASInt(incy),
                     "BLAS.sgemv: a dimension does not fit the 32-bit BLAS integer type")
        if m == 0 || n == 0 {
            // Degenerate: OpenBLAS would return without touching y, but mathematically y ← beta·y
            // when op(A) has zero columns. Only that case needs work.
            let yCount = trans ? n : m
            if yCount > 0 {
                for i in 0..<yCount { y[i * incy] = beta == 0 ? 0 : beta * y[i * incy] }
            }
            return
        }
        cblas_sgemv(CblasRowMajor, trans ? CblasTrans : CblasNoTrans,
                    blasint(m), blasint(n), alpha, a, blasint(lda),
                    x, blasint(incx), beta, y, blasint(incy))
    }

    // MARK: Level 1

    /// Dot product of two contiguous vectors of `count` elements.
    public static func sdot(count: Int, _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>) -> Float {
        precondition(count >= 0, "BLAS.sdot: negative count \(count)")
        precondition(fitsBLASInt(count), "BLAS.sdot: count \(count) does not fit the 32-bit BLAS integer type")
        if count == 0 { return 0 }
        return cblas_sdot(blasint(count), x, 1, y, 1)
    }

    // MARK: Process-global configuration

    /// Number of threads OpenBLAS uses for one call. Process-global: it affects every caller.
    /// The daemon pins this to 1 per pipeline thread (it parallelises across streams, and
    /// OpenBLAS's own threads would fight the pipeline for the two cores).
    public static var threadCount: Int {
        get { Int(openblas_get_num_threads()) }
        set {
            precondition(newValue >= 1, "BLAS.threadCount must be ≥ 1, got \(newValue)")
            openblas_set_num_threads(Int32(clamping: newValue))
        }
    }

    /// Name of the kernel family OpenBLAS selected at load time (e.g. "Haswell", "SkylakeX").
    public static var coreName: String {
        guard let p = openblas_get_corename() else { return "unknown" }
        return String(cString: p)
    }

    /// OpenBLAS build configuration string (version, threading model, max threads).
    public static var config: String {
        guard let p = openblas_get_config() else { return "unknown" }
        return String(cString: p)
    }

    /// A human-readable hint when OpenBLAS is running AVX2 kernels on a CPU that supports
    /// AVX-512 (typically AMD Zen 4/5 with OpenBLAS ≤ 0.3.2x), or `nil` when nothing can be
    /// gained. Meant for one startup log line; reads `/proc/cpuinfo`, so don't call it hot.
    public static func coreTypeAdvice() -> String? {
        #if os(Linux) && arch(x86_64)
        let core = coreName.lowercased()
        let avx512Cores = ["skylakex", "cooperlake", "sapphirerapids", "zen4", "zen5"]
        if avx512Cores.contains(where: { core.contains($0) }) { return nil }
        if let forced = getenv("OPENBLAS_CORETYPE"), !String(cString: forced).isEmpty { return nil }
        guard cpuHasAVX512F() else { return nil }
        return "OpenBLAS selected '\(coreName)' kernels but this CPU supports AVX-512; " +
            "start the process with OPENBLAS_CORETYPE=SkylakeX for faster sgemm"
        #else
        return nil
        #endif
    }

    // MARK: Helpers

    /// Not variadic on purpose: a variadic check would allocate an array on every BLAS call.
    @inline(__always)
    static func fitsBLASInt(_ v: Int) -> Bool {
        v >= Int(blasint.min) && v <= Int(blasint.max)
    }

    #if os(Linux) && arch(x86_64)
    private static func cpuHasAVX512F() -> Bool {
        guard let f = fopen("/proc/cpuinfo", "r") else { return false }
        defer { fclose(f) }
        var line: UnsafeMutablePointer<CChar>? = nil
        var cap = 0
        defer { free(line) }
        while getline(&line, &cap, f) > 0 {
            guard let l = line else { break }
            let s = String(cString: l)
            if s.hasPrefix("flags") { return s.split(separator: " ").contains("avx512f") }
        }
        return false
    }
    #endif
}
