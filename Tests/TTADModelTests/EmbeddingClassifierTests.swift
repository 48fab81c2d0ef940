import Foundation
import XCTest
import TTADEngine
@testable import TTADModel

final class EmbeddingClassifierTests: XCTestCase {
    private func classify(_ c: EmbeddingClassifier, _ queries: [[Float]]) -> [ClassificationResult] {
        let flat = queries.flatMap { $0 }
        var results: [ClassificationResult] = []
        flat.withUnsafeBufferPointer { c.classify(batch: $0, count: queries.count, results: &results) }
        return results
    }

    // MARK: Against the numpy float64 reference

    func testMatchesNumpyReferenceFromBothFileFormats() throws {
        let ref = try Fixtures.reference()
        for classes in [try ClassEmbeddings.load(path: Fixtures.safetensors),
                        try ClassEmbeddings.load(path: Fixtures.npy, classNamesPath: Fixtures.names)] {
            let c = EmbeddingClassifier(classes: classes, logitScale: ref.logitScale, topK: ref.topK, maxBatch: 4)
            XCTAssertEqual(c.dimension, ref.dim)
            XCTAssertEqual(c.classCount, ref.classes)
            let results = classify(c, ref.queries)           // 8 queries, maxBatch 4: exercises chunking
            XCTAssertEqual(results.count, ref.queries.count)
            for (q, (r, e)) in zip(results, ref.expected).enumerated() {
                XCTAssertEqual(r.predicted, e.predicted, "query \(q)")
                XCTAssertEqual(r.top.map(\.index), e.topIndices, "query \(q)")
                for (index, p) in r.top {
                    XCTAssertEqual(Double(p), e.probabilities[index], accuracy: 1e-5, "query \(q) class \(index)")
                }
                XCTAssertEqual(Double(r.entropy), e.entropy, accuracy: 1e-5, "query \(q)")
                XCTAssertEqual(Double(r.maxCosine), e.maxCosine, accuracy: 1e-5, "query \(q)")
            }
            // Full distributions of the last chunk (queries 4...7).
            for row in 0..<4 {
                let e = ref.expected[4 + row]
                c.withProbabilities(ofRow: row) { p in
                    for i in 0..<p.count { XCTAssertEqual(Double(p[i]), e.probabilities[i], accuracy: 1e-5) }
                }
            }
        }
    }

    // MARK: Batch semantics

    func testBatchResultsEqualPerSampleResults() throws {
        let classes = try randomClasses(count: 100, dim: 64, seed: 1)
        let queries = (0..<37).map { BLASTestsValues.values(64, seed: 1000 + UInt64($0)) }
        let batched = classify(EmbeddingClassifier(classes: classes, logitScale: 100, topK: 5, maxBatch: 16), queries)
        let single = EmbeddingClassifier(classes: classes, logitScale: 100, topK: 5, maxBatch: 1)
        for (i, q) in queries.enumerated() {
            var r = ClassificationResult()
            q.withUnsafeBufferPointer { single.classify($0, into: &r) }
            XCTAssertEqual(r.predicted, batched[i].predicted)
            XCTAssertEqual(r.top.map(\.index), batched[i].top.map(\.index))
            // sgemm may pick different kernels for 1 row and 16 rows: equal to float rounding.
            for (a, b) in zip(r.top, batched[i].top) { XCTAssertEqual(a.probability, b.probability, accuracy: 1e-5) }
            XCTAssertEqual(r.entropy, batched[i].entropy, accuracy: 1e-5)
            XCTAssertEqual(r.maxCosine, batched[i].maxCosine, accuracy: 1e-6)
        }
    }

    func testZeroEmbeddingGivesUniformNotNaN() throws {
        let classes = try randomClasses(count: 10, dim: 8, seed: 2)
        let c = EmbeddingClassifier(classes: classes, logitScale: 100, topK: 3, maxBatch: 2)
        let r = classify(c, [[Float](repeating: 0, count: 8)])[0]
        XCTAssertEqual(r.predicted, 0)
        XCTAssertEqual(r.top.map(\.index), [0, 1, 2])
        for (_, p) in r.top { XCTAssertEqual(p, 0.1, accuracy: 1e-6) }
        XCTAssertEqual(r.entropy, Float(Foundation.log(10.0)), accuracy: 1e-5)
        XCTAssertEqual(r.maxCosine, 0)
    }

    func testScaleInvarianceAndTopKClamp() throws {
        let classes = try randomClasses(count: 3, dim: 8, seed: 3)
        let c = EmbeddingClassifier(classes: classes, logitScale: 10, topK: 50, maxBatch: 8)
        XCTAssertEqual(c.topK, 3)
        let q = BLASTestsValues.values(8, seed: 77)
        let r = classify(c, [q, q.map { $0 * 1000 }])
        XCTAssertEqual(r[0].top.count, 3)
        XCTAssertEqual(r[0].top.map(\.index), r[1].top.map(\.index))
        XCTAssertEqual(r[0].entropy, r[1].entropy, accuracy: 1e-6)
        XCTAssertEqual(r[0].top.map(\.probability).reduce(0, +), 1, accuracy: 1e-6)
        XCTAssertLessThanOrEqual(r[0].maxCosine, 1)
    }

    func testResultsAreReusedWithoutReallocation() throws {
        let classes = try randomClasses(count: 50, dim: 16, seed: 4)
        let c = EmbeddingClassifier(classes: classes, logitScale: 100, topK: 5, maxBatch: 8)
        var results = c.makeResults(count: 8)
        let batch = BLASTestsValues.values(8 * 16, seed: 5)
        batch.withUnsafeBufferPointer { c.classify(batch: $0, count: 8, results: &results) }
        let outer = results.withUnsafeBufferPointer { $0.baseAddress }
        let inner = results.map { r in r.top.withUnsafeBufferPointer { $0.baseAddress } }
        for seed in 6..<12 {
            let next = BLASTestsValues.values(8 * 16, seed: UInt64(seed))
            next.withUnsafeBufferPointer { c.classify(batch: $0, count: 5, results: &results) }
            XCTAssertEqual(results.count, 8)                           // never shrunk
            XCTAssertEqual(results.withUnsafeBufferPointer { $0.baseAddress }, outer)
            XCTAssertEqual(results.map { r in r.top.withUnsafeBufferPointer { $0.baseAddress } }, inner)
        }
    }

    // MARK: Helpers

    private func randomClasses(count: Int, dim: Int, seed: UInt64) throws -> ClassEmbeddings {
        try ClassEmbeddings(names: (0..<count).map { "c\($0)" },
                            matrix: Tensor(shape: [count, dim], storage: BLASTestsValues.values(count * dim, seed: seed)))
    }
}

/// Same deterministic generator as the engine tests (test targets cannot import each other).
enum BLASTestsValues {
    static func values(_ n: Int, seed: UInt64) -> [Float] {
        var s = seed &* 6364136223846793005 &+ 1442695040888963407
        return (0..<n).map { _ in
            s = s &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: s >> 11) % 2_000_001 - 1_000_000) / 1_000_000
        }
    }
}
