import Foundation
import TTADEngine

#if canImport(Glibc)
import Glibc
#endif

/// Runs the process at the best OpenBLAS kernels this CPU supports, by default.
///
/// OpenBLAS chooses its kernels from CPUID once, when the library is loaded — before any of our
/// code runs — and Debian's 0.3.21 does not know AMD Zen 4/5, so there it falls back to AVX2
/// kernels at half the AVX-512 speed. The only switch is `OPENBLAS_CORETYPE` in the environment
/// at load time. Setting it unconditionally (say in the unit file) would crash CPUs without
/// AVX-512, so instead, when `BLAS.coreTypeAdvice()` says AVX-512 is present but unused, the
/// process re-executes itself once with the variable set. `OPENBLAS_CORETYPE` already being set
/// (by the operator, or by this re-exec) turns it off, so it cannot loop;
/// `TTAD_KEEP_BLAS_CORE=1` opts out.
enum BLASCoreSelection {
    static func reexecIfFasterKernelsAvailable() {
        #if os(Linux) && arch(x86_64)
        guard ProcessInfo.processInfo.environment["TTAD_KEEP_BLAS_CORE"] == nil, BLAS.coreTypeAdvice() != nil else { return }
        FileHandle.standardError.write(Data("ttad: OpenBLAS picked \(BLAS.coreName) kernels on an AVX-512 CPU; restarting with OPENBLAS_CORETYPE=SkylakeX\n".utf8))
        setenv("OPENBLAS_CORETYPE", "SkylakeX", 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        // execv returns only on failure: carry on with the slower kernels.
        FileHandle.standardError.write(Data("ttad: re-exec failed (\(String(cString: strerror(errno)))); continuing\n".utf8))
        #endif
    }
}
