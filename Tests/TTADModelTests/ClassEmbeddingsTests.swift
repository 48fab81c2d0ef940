import Foundation
import XCTest
import TTADEngine
@testable import TTADModel

final class ClassEmbeddingsTests: TemporaryDirectoryTestCase {
    private let cifar = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]

    // MARK: Fixture loading

    func testLoadsFixtureFromSafetensorsMetadataAndFromNpyWithNames() throws {
        let st = try ClassEmbeddings.load(path: Fixtures.safetensors)
        let np = try ClassEmbeddings.load(path: Fixtures.npy, classNamesPath: Fixtures.names)
        XCTAssertEqual(st.names, cifar)
        XCTAssertEqual(np.names, cifar)
        XCTAssertEqual(st.matrix.shape, [10, 16])
        XCTAssertEqual(st.count, 10)
        XCTAssertEqual(st.dimension, 16)
        XCTAssertEqual(st.matrix, np.matrix)      // same F16-rounded values through two decoders
        XCTAssertEqual(st.source, Fixtures.safetensors)
        for r in 0..<10 {
            let norm = st.matrix.storage[(r * 16)..<((r + 1) * 16)].reduce(0.0) { $0 + Double($1) * Double($1) }
            XCTAssertEqual(norm, 1, accuracy: 1e-6)
        }
        // Names file overrides metadata, explicit tensor name works.
        let reversedNames = write(cifar.reversed().joined(separator: "\n"), to: "rev.txt")
        let overridden = try ClassEmbeddings.load(path: Fixtures.safetensors, tensorName: "class_embeddings",
                                                  classNamesPath: reversedNames)
        XCTAssertEqual(overridden.names, cifar.reversed())
    }

    func testNamesFileParsing() throws {
        let p = write("  a  \r\nb\n c d \n\n\n", to: "n.txt")
        XCTAssertEqual(try ClassEmbeddings.readNamesFile(p), ["a", "b", "c d"])
        let blank = write("a\n\nb\n", to: "blank.txt")
        XCTAssertThrowsError(try ClassEmbeddings.readNamesFile(blank)) {
            XCTAssertEqual($0 as? ClassEmbeddingsError, .emptyClassName(file: blank, index: 1))
        }
        XCTAssertThrowsError(try ClassEmbeddings.readNamesFile(path("absent.txt"))) {
            guard case .unreadableClassNames? = $0 as? ClassEmbeddingsError else { return XCTFail("\($0)") }
        }
    }

    // MARK: Errors

    private func npy(_ name: String, shape: [Int], values: [Float]) throws -> String {
        let p = path(name)
        try NPY.write(path: p, tensor: Tensor(shape: shape, storage: values))
        return p
    }

    private func assertLoadFails(_ path: String, tensorName: String? = nil, names: String? = nil,
                                 file: StaticString = #filePath, line: UInt = #line,
                                 _ expected: ClassEmbeddingsError) {
        XCTAssertThrowsError(try ClassEmbeddings.load(path: path, tensorName: tensorName, classNamesPath: names),
                             file: file, line: line) { error in
            XCTAssertEqual(error as? ClassEmbeddingsError, expected, file: file, line: line)
            XCTAssertTrue("\(error)".contains(expected.fileName), "error does not name the file: \(error)", file: file, line: line)
        }
    }

    func testShapeAndContentErrors() throws {
        let three = write("a\nb\nc\n", to: "three.txt")
        let rank1 = try npy("rank1.npy", shape: [3], values: [1, 2, 3])
        assertLoadFails(rank1, names: three, .wrongRank(file: rank1, shape: [3]))

        let mismatch = try npy("mismatch.npy", shape: [2, 2], values: [1, 0, 0, 1])
        assertLoadFails(mismatch, names: three, .classCountMismatch(file: mismatch, names: 3, rows: 2, namesSource: three))

        let nonFinite = try npy("nan.npy", shape: [3, 2], values: [1, 0, 0, .nan, 1, 1])
        assertLoadFails(nonFinite, names: three, .nonFinite(file: nonFinite, row: 1, column: 1))

        let zero = try npy("zero.npy", shape: [3, 2], values: [1, 0, 0, 0, 1, 1])
        assertLoadFails(zero, names: three, .zeroRow(file: zero, row: 1, name: "b"))

        let empty = try npy("empty.npy", shape: [0, 4], values: [])
        assertLoadFails(empty, names: write("", to: "none.txt"), .empty(file: empty, shape: [0, 4]))

        let dup = write("a\nb\na\n", to: "dup.txt")
        let ok = try npy("ok.npy", shape: [3, 2], values: [1, 0, 0, 1, 1, 1])
        assertLoadFails(ok, names: dup, .duplicateClassName(file: ok, name: "a", firstIndex: 0, secondIndex: 2))
        assertLoadFails(ok, .missingClassNames(file: ok))

        let txt = write("x", to: "emb.txt")
        assertLoadFails(txt, names: three, .unsupportedFormat(file: txt))
    }

    func testSafetensorsSpecificErrors() throws {
        let two = path("two.safetensors")
        try SafeTensorsWriter.write(path: two, tensors: [
            .init(name: "text", shape: [2, 2], values: [1, 0, 0, 1]),
            .init(name: "other", shape: [2, 2], values: [1, 1, 1, 1]),
        ], metadata: ["class_names": #"["a","b"]"#])
        assertLoadFails(two, .ambiguousTensor(file: two, candidates: ["text", "other"]))
        XCTAssertEqual(try ClassEmbeddings.load(path: two, tensorName: "other").names, ["a", "b"])
        XCTAssertThrowsError(try ClassEmbeddings.load(path: two, tensorName: "nope")) {
            XCTAssertEqual($0 as? SafeTensorsError, .missingTensor(file: two, name: "nope"))
        }

        let badMeta = path("badmeta.safetensors")
        try SafeTensorsWriter.write(path: badMeta, tensors: [.init(name: "e", shape: [1, 2], values: [1, 0])],
                                    metadata: ["class_names": #"{"a": 1}"#])
        assertLoadFails(badMeta, .badClassNamesMetadata(file: badMeta, detail: "not an array"))

        let rank3 = path("rank3.safetensors")
        try SafeTensorsWriter.write(path: rank3, tensors: [.init(name: "class_embeddings", shape: [1, 1, 2], values: [1, 0])],
                                    metadata: ["class_names": #"["a"]"#])
        assertLoadFails(rank3, .wrongRank(file: rank3, shape: [1, 1, 2]))

        let noNames = path("nonames.safetensors")
        try SafeTensorsWriter.write(path: noNames, tensors: [.init(name: "e", shape: [1, 2], values: [1, 0])])
        assertLoadFails(noNames, .missingClassNames(file: noNames))

        let wrongCount = path("count.safetensors")
        try SafeTensorsWriter.write(path: wrongCount, tensors: [.init(name: "e", shape: [2, 2], values: [1, 0, 0, 1])],
                                    metadata: ["class_names": #"["only"]"#])
        assertLoadFails(wrongCount, .classCountMismatch(file: wrongCount, names: 1, rows: 2, namesSource: "'class_names' metadata"))
    }

    func testInMemoryInitNormalises() throws {
        let e = try ClassEmbeddings(names: ["a", "b"], matrix: Tensor(shape: [2, 2], storage: [3, 4, 0, 2]))
        XCTAssertEqual(e.matrix.storage, [0.6, 0.8, 0, 1])
        XCTAssertEqual(e.source, "<memory>")
    }
}

private extension ClassEmbeddingsError {
    var fileName: String {
        switch self {
        case let .unsupportedFormat(f), let .ambiguousTensor(f, _), let .wrongRank(f, _), let .empty(f, _),
             let .missingClassNames(f), let .badClassNamesMetadata(f, _), let .unreadableClassNames(f, _),
             let .classCountMismatch(f, _, _, _), let .emptyClassName(f, _), let .duplicateClassName(f, _, _, _),
             let .nonFinite(f, _, _), let .zeroRow(f, _, _):
            return f
        }
    }
}
