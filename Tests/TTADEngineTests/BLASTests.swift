import XCTest
@testable import TTADEngine

final class BLASTests: XCTestCase {
    /// Deterministic pseudo-random values in [-1, 1) (tests must not depend on global RNG state).
    static func values(_ n: Int, seed: UInt64) -> [Float] {
        var s = seed &* 6364136223846793005 &+ 1442695040888963407
        return (0..<n).map { _ in
            s = s &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: s >> 11) % 2_000_001 - 1_000_000) / 1_000_000
        }
    }

    /// C = alpha·op(A)·op(B) + beta·C in Double, row-major, with leading dimensions.
    func naiveGemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                   a: [Float], lda: Int, b: [Float], ldb: Int, beta: Float, c: [Float], ldc: Int) -> [Float] {
        var out = c
        for i in 0..<m {
            for j in 0..<n {
                var acc = 0.0
                for p in 0..<k {
                    let av = transA ? a[p * lda + i] : a[i * lda + p]
                    let bv = transB ? b[j * ldb + p] : b[p * ldb + j]
                    acc += Double(av) * Double(bv)
                }
                let prior = beta == 0 ? 0 : Double(beta) * Double(c[i * ldc + j])
                out[i * ldc + j] = Float(Double(alpha) * acc + prior)
            }
        }
        return out
    }

    func testSgemmMatchesNaiveForAllTransposesAndShapes() {
        let shapes = [(1, 1, 1), (7, 5, 3), (3, 9, 11), (33, 17, 65), (64, 40, 128)]
        var seed: UInt64 = 1
        for (m, n, k) in shapes {
            for transA in [false, true] {
                for transB in [false, true] {
                    // Padded leading dimensions catch lda/ldb mix-ups that square, tight cases hide.
                    let lda = (transA ? m : k) + 3, ldb = (transB ? k : n) + 2, ldc = n + 1
                    let aRows = transA ? k : m, bRows = transB ? n : k
                    seed += 1
                    let a = Self.values(aRows * lda, seed: seed)
                    let b = Self.values(bRows * ldb, seed: seed + 100)
                    var c = Self.values(m * ldc, seed: seed + 200)
                    let expected = naiveGemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.75,
                                             a: a, lda: lda, b: b, ldb: ldb, beta: -0.5, c: c, ldc: ldc)
                    a.withUnsafeBufferPointer { ap in
                        b.withUnsafeBufferPointer { bp in
                            c.withUnsafeMutableBufferPointer { cp in
                                BLAS.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.75,
                                           a: ap.baseAddress!, lda: lda, b: bp.baseAddress!, ldb: ldb,
                                           beta: -0.5, c: cp.baseAddress!, ldc: ldc)
                            }
                        }
                    }
                    for i in 0..<(m * ldc) {
                        XCTAssertEqual(c[i], expected[i], accuracy: 1e-4 * Float(k).squareRoot(),
                                       "m=\(m) n=\(n) k=\(k) tA=\(transA) tB=\(transB) at \(i)")
                    }
                }
            }
        }
    }

    func testSgemmBetaZeroIgnoresNaNInOutput() {
        let a: [Float] = [1, 2, 3, 4], b: [Float] = [1, 0, 0, 1]
        var c = [Float](repeating: .nan, count: 4)
        BLAS.sgemm(transA: false, transB: false, m: 2, n: 2, k: 2, alpha: 1, a: a, lda: 2, b: b, ldb: 2,
                   beta: 0, c: &c, ldc: 2)
        XCTAssertEqual(c, [1, 2, 3, 4])
    }

    func testSgemmWithZeroInnerDimensionScalesC() {
        let a: [Float] = [0], b: [Float] = [0]
        var c: [Float] = [1, 2, 3, 4]
        BLAS.sgemm(transA: false, transB: false, m: 2, n: 2, k: 0, alpha: 1, a: a, lda: 1, b: b, ldb: 2,
                   beta: 2, c: &c, ldc: 2)
        XCTAssertEqual(c, [2, 4, 6, 8])
    }

    func testSgemvBothOrientations() {
        let m = 5, n = 7, lda = 9
        let a = Self.values(m * lda, seed: 42), x = Self.values(max(m, n), seed: 43)
        for trans in [false, true] {
            let outCount = trans ? n : m, inCount = trans ? m : n
            var y = [Float](repeating: 1, count: outCount)
            BLAS.sgemv(trans: trans, m: m, n: n, alpha: 2, a: a, lda: lda, x: x, beta: 0.5, y: &y)
            for i in 0..<outCount {
                var acc = 0.0
                for j in 0..<inCount {
                    acc += Double(trans ? a[j * lda + i] : a[i * lda + j]) * Double(x[j])
                }
                XCTAssertEqual(y[i], Float(2 * acc + 0.5), accuracy: 1e-5, "trans=\(trans) i=\(i)")
            }
        }
    }

    func testSdot() {
        let x = Self.values(1001, seed: 5), y = Self.values(1001, seed: 6)
        let expected = zip(x, y).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        XCTAssertEqual(Double(BLAS.sdot(count: 1001, x, y)), expected, accuracy: 1e-4)
        XCTAssertEqual(BLAS.sdot(count: 0, x, y), 0)
    }

    func testGlobalConfiguration() {
        let before = BLAS.threadCount
        XCTAssertGreaterThanOrEqual(before, 1)
        BLAS.threadCount = 1
        XCTAssertEqual(BLAS.threadCount, 1)
        BLAS.threadCount = before
        XCTAssertFalse(BLAS.coreName.isEmpty)
        XCTAssertTrue(BLAS.config.contains("OpenBLAS"), BLAS.config)
        _ = BLAS.coreTypeAdvice()   // must not crash; content depends on the machine
    }
}
