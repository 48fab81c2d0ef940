import Foundation
import TTADEvaluation

/// `ttad eval --predictions-file`: one tab-separated line per prediction (id, label, predicted,
/// entropy, outlier score, outlier flag 0/1, top-1 probability), in arrival order — what two runs are compared by,
/// and what `ttad eval --resume` reads back (`PredictionsFileReader`).
///
/// Lines are written as predictions arrive, into `<path>.partial`, which `finish` renames to
/// `<path>`: a long run (10⁶ samples take hours) shows how far it got, one that is killed keeps
/// everything up to its last flush, and `<path>` itself only ever holds a finished run.
final class PredictionsFile {
    static let columns = ["id", "label", "predicted", "entropy", "outlier_score", "outlier", "confidence"]
    static let header = columns.joined(separator: "\t") + "\n"
    /// Bytes buffered before a write: a few hundred lines, so a kill loses at most a second or so.
    static let flushBytes = 1 << 15

    let path: String
    var partialPath: String { path + ".partial" }
    private let handle: FileHandle
    private var buffer = Data()
    private var finished = false

    /// Creates (truncates) `<path>.partial` and writes the header, then `kept`: the lines of an
    /// earlier part of the run that this one continues (`ttad eval --resume`). Written to a
    /// temporary file renamed over the partial, so a kill here leaves the old partial whole.
    init(path: String, kept: [String] = []) throws {
        self.path = path
        let partial = path + ".partial"
        let fresh = partial + ".tmp"
        var contents = Data(Self.header.utf8)
        for line in kept { contents.append(contentsOf: line.utf8); contents.append(0x0A) }
        guard FileManager.default.createFile(atPath: fresh, contents: contents) else {
            throw PredictionsFileError(description: "--predictions-file: cannot create \(fresh)")
        }
        guard rename(fresh, partial) == 0 else {
            throw PredictionsFileError(description: "--predictions-file: cannot move \(fresh) to \(partial): \(String(cString: strerror(errno)))")
        }
        handle = try FileHandle(forWritingTo: URL(fileURLWithPath: partial))
        try handle.seekToEnd()
        buffer.reserveCapacity(Self.flushBytes + 256)
    }

    deinit { try? handle.close() }

    static func line(_ p: EvalPrediction) -> String {
        "\(p.id)\t\(p.label.map(String.init) ?? "")\t\(p.predicted.map(String.init) ?? "")\t"
            + "\(p.entropy)\t\(p.outlierScore.map { "\($0)" } ?? "")\t\(p.outlier ? 1 : 0)\t\(p.confidence.map { "\($0)" } ?? "")\n"
    }

    func append(_ p: EvalPrediction) throws {
        buffer.append(contentsOf: Self.line(p).utf8)
        if buffer.count >= Self.flushBytes { try flush() }
    }

    func flush() throws {
        guard !buffer.isEmpty else { return }
        try handle.write(contentsOf: buffer)
        buffer.removeAll(keepingCapacity: true)
    }

    /// Writes what is buffered and moves the file to `path` (replacing an older one).
    func finish() throws {
        guard !finished else { return }
        finished = true
        try flush()
        try handle.close()
        if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
        try FileManager.default.moveItem(atPath: partialPath, toPath: path)
    }
}

struct PredictionsFileError: Error, CustomStringConvertible {
    var description: String
}
