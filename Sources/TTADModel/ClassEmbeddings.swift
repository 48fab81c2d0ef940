import Foundation
import TTADEngine

/// Problems with a class-embeddings file or its class names. Every case names the file at
/// fault (the embeddings file or the names file) so the startup error is actionable.
public enum ClassEmbeddingsError: Error, Equatable, CustomStringConvertible {
    case unsupportedFormat(file: String)
    /// No tensor name given, no `class_embeddings` tensor, and not exactly one tensor.
    case ambiguousTensor(file: String, candidates: [String])
    case wrongRank(file: String, shape: [Int])
    case empty(file: String, shape: [Int])
    case missingClassNames(file: String)
    case badClassNamesMetadata(file: String, detail: String)
    case unreadableClassNames(file: String, detail: String)
    case classCountMismatch(file: String, names: Int, rows: Int, namesSource: String)
    case emptyClassName(file: String, index: Int)
    case duplicateClassName(file: String, name: String, firstIndex: Int, secondIndex: Int)
    case nonFinite(file: String, row: Int, column: Int)
    case zeroRow(file: String, row: Int, name: String)

    public var description: String {
        switch self {
        case let .unsupportedFormat(f):
            return "\(f): unsupported class-embeddings format (expected a .safetensors or .npy file)"
        case let .ambiguousTensor(f, c):
            return c.isEmpty ? "\(f): file contains no tensors"
                : "\(f): no 'class_embeddings' tensor and several candidates \(c); name one explicitly"
        case let .wrongRank(f, s): return "\(f): class embeddings must be a 2-D [classes, dim] matrix, got shape \(s)"
        case let .empty(f, s): return "\(f): class embeddings matrix is empty (shape \(s))"
        case let .missingClassNames(f):
            return "\(f): no class names: the file has no 'class_names' metadata and no names file was given"
        case let .badClassNamesMetadata(f, d): return "\(f): 'class_names' metadata is not a JSON array of strings: \(d)"
        case let .unreadableClassNames(f, d): return "\(f): cannot read class names: \(d)"
        case let .classCountMismatch(f, n, r, src):
            return "\(f): \(r) embedding rows but \(n) class names (from \(src))"
        case let .emptyClassName(f, i): return "\(f): class name #\(i) is empty"
        case let .duplicateClassName(f, n, a, b): return "\(f): duplicate class name '\(n)' (entries #\(a) and #\(b))"
        case let .nonFinite(f, r, c): return "\(f): non-finite value in class embedding row \(r), column \(c)"
        case let .zeroRow(f, r, n): return "\(f): class embedding row \(r) ('\(n)') is all zeros and cannot be normalised"
        }
    }
}

/// The frozen text side of zero-shot classification: class names and a [C, D] matrix whose row
/// c is the (L2-normalised) text embedding of class c, e.g. the CLIP text tower's output for
/// "a photo of a {name}". Produced offline (see tools/make_class_embeddings.py).
///
/// Invariants after construction: C ≥ 1, D ≥ 1, names unique and non-empty, every value finite,
/// every row unit length (so a dot product with a unit query is a cosine).
public struct ClassEmbeddings: Sendable {
    public static let defaultTensorName = "class_embeddings"
    public static let classNamesMetadataKey = "class_names"

    public let names: [String]
    /// [C, D], rows unit-normalised.
    public let matrix: Tensor
    /// Where this came from (a path, or "<memory>"); used in later error messages and logs.
    public let source: String

    public var count: Int { matrix.shape[0] }
    public var dimension: Int { matrix.shape[1] }

    /// Validates and normalises an in-memory matrix. `source` only labels errors.
    public init(names: [String], matrix: Tensor, source: String = "<memory>") throws(ClassEmbeddingsError) {
        try self.init(names: names, matrix: matrix, source: source, namesSource: "the names list")
    }

    private init(names: [String], matrix: Tensor, source: String, namesSource: String) throws(ClassEmbeddingsError) {
        guard matrix.rank == 2 else { throw .wrongRank(file: source, shape: matrix.shape) }
        let rows = matrix.shape[0], dim = matrix.shape[1]
        guard rows > 0, dim > 0 else { throw .empty(file: source, shape: matrix.shape) }
        guard names.count == rows else {
            throw .classCountMismatch(file: source, names: names.count, rows: rows, namesSource: namesSource)
        }
        var firstIndex: [String: Int] = [:]
        for (i, name) in names.enumerated() {
            guard !name.isEmpty else { throw .emptyClassName(file: source, index: i) }
            if let j = firstIndex[name] { throw .duplicateClassName(file: source, name: name, firstIndex: j, secondIndex: i) }
            firstIndex[name] = i
        }
        if let bad = matrix.storage.firstIndex(where: { !$0.isFinite }) {
            throw .nonFinite(file: source, row: bad / dim, column: bad % dim)
        }
        var normalised = matrix
        var zeroRow: Int? = nil
        normalised.withUnsafeMutableBufferPointer { buffer in
            for r in 0..<rows {
                let row = UnsafeMutableBufferPointer(rebasing: buffer[(r * dim)..<((r + 1) * dim)])
                if VectorOps.l2Normalize(inPlace: row) == 0, zeroRow == nil { zeroRow = r }
            }
        }
        if let r = zeroRow { throw .zeroRow(file: source, row: r, name: names[r]) }
        self.names = names
        self.matrix = normalised
        self.source = source
    }

    /// Loads class embeddings from `path`:
    ///
    /// - `.safetensors`: the tensor `tensorName`, or `class_embeddings`, or the file's only
    ///   tensor. F32/F16/BF16/F64 are accepted. Class names come from `classNamesPath` if given,
    ///   else from the `class_names` metadata entry (a JSON array of strings).
    /// - `.npy`: a float16/32/64 C-order [C, D] array; `classNamesPath` is required.
    ///
    /// A names file is UTF-8 text with one name per line; surrounding whitespace and trailing
    /// blank lines are ignored, a blank line in the middle is an error (it would silently shift
    /// every following label).
    ///
    /// Throws `ClassEmbeddingsError`, `SafeTensorsError` or `NPYError`, each naming the file.
    public static func load(path: String, tensorName: String? = nil, classNamesPath: String? = nil) throws -> ClassEmbeddings {
        let lower = path.lowercased()
        let matrix: Tensor
        var metadataNames: [String]? = nil
        if lower.hasSuffix(".safetensors") {
            let file = try SafeTensorsFile(path: path)
            let name: String
            if let tensorName {
                name = tensorName
            } else if file.contains(defaultTensorName) {
                name = defaultTensorName
            } else if file.tensorNames.count == 1 {
                name = file.tensorNames[0]
            } else {
                throw ClassEmbeddingsError.ambiguousTensor(file: path, candidates: file.tensorNames)
            }
            // Check the rank before converting, so a wrong tensor fails fast with a clear error.
            let info = try file.info(name)
            guard info.shape.count == 2 else { throw ClassEmbeddingsError.wrongRank(file: path, shape: info.shape) }
            matrix = try file.tensor(name)
            if classNamesPath == nil, let json = file.metadata[classNamesMetadataKey] {
                metadataNames = try parseNamesMetadata(json, file: path)
            }
        } else if lower.hasSuffix(".npy") {
            matrix = try NPY.read(path: path)
        } else {
            throw ClassEmbeddingsError.unsupportedFormat(file: path)
        }

        let names: [String]
        let namesSource: String
        if let classNamesPath {
            names = try readNamesFile(classNamesPath)
            namesSource = classNamesPath
        } else if let metadataNames {
            names = metadataNames
            namesSource = "'\(classNamesMetadataKey)' metadata"
        } else {
            if matrix.rank != 2 { throw ClassEmbeddingsError.wrongRank(file: path, shape: matrix.shape) }
            throw ClassEmbeddingsError.missingClassNames(file: path)
        }
        return try ClassEmbeddings(names: names, matrix: matrix, source: path, namesSource: namesSource)
    }

    /// Names in a text file, one per line.
    public static func readNamesFile(_ path: String) throws(ClassEmbeddingsError) -> [String] {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw .unreadableClassNames(file: path, detail: error.localizedDescription)
        }
        // Split on Character.isNewline, not "\n": in Swift "\r\n" is one Character, so a CRLF
        // file would otherwise not split at all.
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        while let last = lines.last, last.isEmpty { lines.removeLast() }
        if let i = lines.firstIndex(where: \.isEmpty) { throw .emptyClassName(file: path, index: i) }
        return lines
    }

    private static func parseNamesMetadata(_ json: String, file: String) throws(ClassEmbeddingsError) -> [String] {
        let value: Any
        do {
            value = try JSONSerialization.jsonObject(with: Data(json.utf8), options: [])
        } catch {
            throw .badClassNamesMetadata(file: file, detail: error.localizedDescription)
        }
        guard let array = value as? [Any] else { throw .badClassNamesMetadata(file: file, detail: "not an array") }
        var names: [String] = []
        names.reserveCapacity(array.count)
        for (i, v) in array.enumerated() {
            guard let s = v as? String else { throw .badClassNamesMetadata(file: file, detail: "entry #\(i) is not a string") }
            names.append(s)
        }
        return names
    }
}
