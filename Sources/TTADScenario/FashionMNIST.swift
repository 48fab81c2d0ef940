import Foundation

/// Errors reading IDX files; each names the file so a user can fix the installation.
public enum IDXError: Error, Equatable, CustomStringConvertible {
    case missingFile(String)
    case badMagic(path: String, found: UInt32, expected: UInt32)
    case truncated(path: String, expectedBytes: Int, actualBytes: Int)
    case countMismatch(images: Int, labels: Int)
    case labelOutOfRange(path: String, index: Int, label: UInt8)
    case gzip(path: String, reason: String)

    public var description: String {
        switch self {
        case .missingFile(let p):
            return "IDX file not found: \(p) (install the Debian package dataset-fashion-mnist)"
        case .badMagic(let p, let f, let e):
            return "\(p): bad IDX magic 0x\(String(f, radix: 16)), expected 0x\(String(e, radix: 16))"
        case .truncated(let p, let e, let a):
            return "\(p): truncated IDX file, header promises \(e) bytes but the file holds \(a)"
        case .countMismatch(let i, let l):
            return "Fashion-MNIST split has \(i) images but \(l) labels"
        case .labelOutOfRange(let p, let i, let l):
            return "\(p): label \(l) at index \(i) is not a Fashion-MNIST class (0–9)"
        case .gzip(let p, let r):
            return "\(p): \(r)"
        }
    }
}

/// Minimal IDX (LeCun's MNIST format) parsing: big-endian magic 0x0000_08NN (unsigned bytes,
/// NN dimensions), then NN big-endian UInt32 sizes, then the data.
public enum IDX {
    public static let imagesMagic: UInt32 = 0x0000_0803
    public static let labelsMagic: UInt32 = 0x0000_0801

    /// Reads a file, transparently inflating it when it is gzip-compressed.
    public static func readBytes(path: String) throws -> [UInt8] {
        guard let d = FileManager.default.contents(atPath: path) else { throw IDXError.missingFile(path) }
        let bytes = [UInt8](d)
        guard Gzip.isGzip(bytes) else { return bytes }
        do { return try Gzip.decompress(bytes) } catch let e as GzipError {
            throw IDXError.gzip(path: path, reason: e.description)
        }
    }

    /// Parses an IDX payload with the expected magic; returns dimensions and the data bytes.
    public static func parse(_ bytes: [UInt8], magic: UInt32, path: String) throws -> (dims: [Int], data: ArraySlice<UInt8>) {
        func be32(_ p: Int) -> UInt32 {
            UInt32(bytes[p]) << 24 | UInt32(bytes[p + 1]) << 16 | UInt32(bytes[p + 2]) << 8 | UInt32(bytes[p + 3])
        }
        guard bytes.count >= 4 else { throw IDXError.truncated(path: path, expectedBytes: 4, actualBytes: bytes.count) }
        let found = be32(0)
        guard found == magic else { throw IDXError.badMagic(path: path, found: found, expected: magic) }
        let ndims = Int(magic & 0xFF)
        let header = 4 + 4 * ndims
        guard bytes.count >= header else {
            throw IDXError.truncated(path: path, expectedBytes: header, actualBytes: bytes.count)
        }
        let dims = (0..<ndims).map { Int(be32(4 + 4 * $0)) }
        let total = header + dims.reduce(1, *)
        guard bytes.count >= total else {
            throw IDXError.truncated(path: path, expectedBytes: total, actualBytes: bytes.count)
        }
        return (dims, bytes[header..<total])
    }
}

/// One Fashion-MNIST split in memory: `count` grey 28×28 images (row-major, 0 = black
/// background) and their labels.
public struct FashionMNISTSet: Sendable {
    public let count: Int
    public let rows: Int
    public let columns: Int
    public let pixels: [UInt8]
    public let labels: [UInt8]

    public init(rows: Int, columns: Int, pixels: [UInt8], labels: [UInt8]) {
        precondition(pixels.count == labels.count * rows * columns, "FashionMNISTSet: pixel count mismatch")
        self.count = labels.count
        self.rows = rows
        self.columns = columns
        self.pixels = pixels
        self.labels = labels
    }

    /// Grey pixels of image `i`.
    public func grey(_ i: Int) -> ArraySlice<UInt8> {
        let n = rows * columns
        return pixels[(i * n)..<((i + 1) * n)]
    }

    /// Image `i` as RGB (grey replicated), the form the corruptions and the model take.
    public func rgb(_ i: Int) -> RGBImage { RGBImage(grey: Array(grey(i)), width: columns, height: rows) }
}

public enum FashionMNIST {
    /// Class names in label order (0…9).
    public static let classNames = ["T-shirt/top", "trouser", "pullover", "dress", "coat",
                                    "sandal", "shirt", "sneaker", "bag", "ankle boot"]
    /// Classes the source model never sees: the evaluation's unknown-class outliers.
    public static let outlierLabels: [Int] = [8, 9]
    /// Where Debian's `dataset-fashion-mnist` installs the (gzip-compressed) IDX files.
    public static let defaultDirectory = "/usr/share/datasets/fashion-mnist"

    public enum Split: String, Sendable { case train, test }

    static func stem(_ split: Split) -> String { split == .train ? "train" : "t10k" }

    /// Loads a split from `directory`, accepting `X-idx3-ubyte` or `X-idx3-ubyte.gz` (the Debian
    /// package ships only the latter).
    public static func load(_ split: Split, directory: String = defaultDirectory) throws -> FashionMNISTSet {
        func find(_ name: String) throws -> String {
            let base = (directory as NSString).appendingPathComponent(name)
            for p in [base, base + ".gz"] where FileManager.default.fileExists(atPath: p) { return p }
            throw IDXError.missingFile(base + "[.gz]")
        }
        let imagesPath = try find("\(stem(split))-images-idx3-ubyte")
        let labelsPath = try find("\(stem(split))-labels-idx1-ubyte")
        let (dims, pixels) = try IDX.parse(try IDX.readBytes(path: imagesPath), magic: IDX.imagesMagic, path: imagesPath)
        let (ldims, labels) = try IDX.parse(try IDX.readBytes(path: labelsPath), magic: IDX.labelsMagic, path: labelsPath)
        guard dims[0] == ldims[0] else { throw IDXError.countMismatch(images: dims[0], labels: ldims[0]) }
        if let bad = labels.firstIndex(where: { $0 > 9 }) {
            throw IDXError.labelOutOfRange(path: labelsPath, index: bad - labels.startIndex, label: labels[bad])
        }
        return FashionMNISTSet(rows: dims[1], columns: dims[2], pixels: Array(pixels), labels: Array(labels))
    }
}
