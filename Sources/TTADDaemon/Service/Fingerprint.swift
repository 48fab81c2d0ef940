import Crypto
import Foundation
import TTADState

/// The identity of what the daemon's state belongs to. Adapted state is only meaningful for the
/// model and the settings it was learnt with; endpoints, ports and queue sizes can change freely
/// without invalidating it, so they are not part of the fingerprint.
enum FingerprintMaker {
    static func make(config: DaemonConfig) throws -> StateFingerprint {
        var h = SHA256()
        let c = config.classifier, m = config.model
        let files: [String?]
        let relevant: String
        let source: String
        switch config.daemon.mode {
        case .embedding:
            files = [c.classEmbeddings, c.classNames]
            relevant = "mode=embedding;tensor=\(c.tensorName ?? "");logit_scale=\(c.logitScale.map { "\($0)" } ?? "default")"
            source = c.classEmbeddings
        case .image:
            // The weights and the tokenizer define the model; the class prompts define what its
            // outputs mean. All of them must match for adapted state to carry over.
            files = ["config.json", "model.safetensors", "vocab.json", "merges.txt"].map { (m.folder as NSString).appendingPathComponent($0) }
                + [m.classNamesFile]
            relevant = "mode=image;classes=\(m.classNames.joined(separator: "\u{1F}"));template=\(m.promptTemplate);"
                + "logit_scale=\(c.logitScale.map { "\($0)" } ?? "model")"
                // Predictions (and so what adaptation learnt from) depend on the precision; F32
                // adds nothing, so state written before the key existed still matches.
                + (m.precision == .f32 ? "" : ";precision=\(m.precision.rawValue)")
            source = m.folder
        }
        for path in files.compactMap({ $0 }) { try hashFile(path, into: &h) }
        let model = hex(h.finalize())
        let cfg = hex(SHA256.hash(data: Data(relevant.utf8)))
        let id = "\(config.daemon.mode.rawValue):\(URL(fileURLWithPath: source).lastPathComponent)"
        return StateFingerprint(modelID: id, modelSHA256: model, configSHA256: cfg)
    }

    private static func hashFile(_ path: String, into h: inout SHA256) throws {
        guard let f = FileHandle(forReadingAtPath: path) else {
            throw ConfigError(key: "classifier", "cannot read \(path)")
        }
        defer { try? f.close() }
        while let chunk = try f.read(upToCount: 1 << 20), !chunk.isEmpty {
            h.update(data: chunk)
        }
    }

    private static func hex<D: Sequence>(_ d: D) -> String where D.Element == UInt8 {
        d.map { String(format: "%02x", $0) }.joined()
    }
}
