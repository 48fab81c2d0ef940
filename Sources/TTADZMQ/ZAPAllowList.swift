import Foundation

extension ZAPAuthenticator {
    /// Loads the allowed client keys from every regular file in `directory` (sorted by name):
    ///
    /// - czmq public certificate files (ZPL with a `curve` section and `public-key`);
    /// - plain key lists: one 40-character Z85 key per line, blank lines and `#` comment lines
    ///   ignored (a key may be followed by whitespace and a `# comment`).
    ///
    /// Files named `*_secret`, hidden files (`.name`) and subdirectories are skipped. Any other
    /// file that is neither form is an error (`ZMQCertificateError` naming file and line) rather
    /// than silently ignored, so a typo cannot quietly lock a client out or in. An empty
    /// directory yields an empty set (every client refused).
    public static func loadAllowList(directory: String) throws -> Set<[UInt8]> {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        } catch {
            throw ZMQCertificateError(path: directory, reason: "cannot list directory: \(error.localizedDescription)")
        }
        var keys = Set<[UInt8]>()
        for name in names where !name.hasPrefix(".") && !name.hasSuffix("_secret") {
            let path = directory.hasSuffix("/") ? directory + name : directory + "/" + name
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory),
                  !isDirectory.boolValue else { continue }
            keys.formUnion(try loadKeys(path: path))
        }
        return keys
    }

    /// The keys in one certificate or key-list file (see `loadAllowList`).
    static func loadKeys(path: String) throws -> [[UInt8]] {
        let bytes: [UInt8]
        do {
            bytes = try FileIO.readFile(path: path)
        } catch {
            throw ZMQCertificateError(path: path, reason: error.reason)
        }
        let text = String(decoding: bytes, as: UTF8.self)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        if lines.contains("curve") {
            let entries = try ZPL.curveEntries(text, path: path)
            return [try ZMQCertificate.certificate(from: entries, path: path).publicKeyBytes]
        }
        var keys: [[UInt8]] = []
        for (offset, line) in lines.enumerated() where !line.isEmpty && !line.hasPrefix("#") {
            // A valid key cannot start with "#" (that group would exceed 32 bits).
            let tokens = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            let key = String(tokens[0])
            guard tokens.count == 1 || tokens[1].hasPrefix("#"),
                  ZMQCurve.isValidKey(key), let raw = ZMQCurve.z85Decode(key) else {
                throw ZMQCertificateError(
                    path: path, line: offset + 1,
                    reason: "not a 40-character Z85 key (and no \"curve\" section, so not a certificate)")
            }
            keys.append(raw)
        }
        return keys
    }
}
