#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A problem with a certificate (or key list) file: which file, which line if known, and what
/// is wrong — meant to be shown to an operator as is.
public struct ZMQCertificateError: Error, CustomStringConvertible, Sendable {
    public let path: String
    public let line: Int?
    public let reason: String

    public init(path: String, line: Int? = nil, reason: String) {
        self.path = path
        self.line = line
        self.reason = reason
    }

    public var description: String {
        if let line { return "\(path):\(line): \(reason)" }
        return "\(path): \(reason)"
    }
}

/// A CURVE certificate in czmq's ZPL text format (ZeroMQ RFC 4), so files interoperate with
/// `zcert`/`zcertstore` tools:
///
/// ```
/// metadata
/// curve
///     public-key = "<40 Z85 chars>"
///     secret-key = "<40 Z85 chars>"     (only in the "<name>_secret" file)
/// ```
///
/// By convention the public certificate is `<name>` and the secret one `<name>_secret`; the
/// secret file is always written with mode 0600.
public struct ZMQCertificate: Sendable, Equatable {
    /// Z85 public key (40 characters).
    public let publicKey: String
    /// Z85 secret key, if this certificate carries it.
    public let secretKey: String?

    /// Validates the keys (and that the secret matches the public key, when both are given).
    public init(publicKey: String, secretKey: String?) throws {
        _ = try ZMQCurve.z85KeyBytes(publicKey, what: "CURVE public key")
        if let secretKey {
            let derived = try ZMQCurve.publicKey(fromSecret: secretKey)
            guard derived == publicKey else {
                throw ZMQError(code: EINVAL, operation: "CURVE secret key does not match public key")
            }
        }
        self.publicKey = publicKey
        self.secretKey = secretKey
    }

    /// A fresh key pair.
    public static func generate() throws -> ZMQCertificate {
        let pair = try ZMQCurve.generateKeyPair()
        return try ZMQCertificate(publicKey: pair.publicKey, secretKey: pair.secretKey)
    }

    /// The 32 raw bytes of the public key (the form used in ZAP requests and allow-lists).
    public var publicKeyBytes: [UInt8] { ZMQCurve.z85Decode(publicKey) ?? [] }

    /// Loads a public or secret certificate file. Throws `ZMQCertificateError` naming the file
    /// (and line) when it cannot be read, is not ZPL, lacks a `curve` section or `public-key`,
    /// holds a malformed key, or holds a secret key that does not match the public key.
    public static func load(path: String) throws -> ZMQCertificate {
        let bytes: [UInt8]
        do {
            bytes = try FileIO.readFile(path: path)
        } catch {
            throw ZMQCertificateError(path: path, reason: error.reason)
        }
        let entries = try ZPL.curveEntries(String(decoding: bytes, as: UTF8.self), path: path)
        return try certificate(from: entries, path: path)
    }

    static func certificate(from entries: ZPL.CurveEntries, path: String) throws -> ZMQCertificate {
        guard entries.sawCurveSection else {
            throw ZMQCertificateError(path: path, reason: "no \"curve\" section; not a CURVE certificate")
        }
        guard let publicEntry = entries.values["public-key"] else {
            throw ZMQCertificateError(path: path, reason: "\"curve\" section has no public-key")
        }
        guard ZMQCurve.isValidKey(publicEntry.value) else {
            throw ZMQCertificateError(path: path, line: publicEntry.line,
                                      reason: "public-key is not a 40-character Z85 key")
        }
        var secret: String?
        if let secretEntry = entries.values["secret-key"] {
            guard ZMQCurve.isValidKey(secretEntry.value) else {
                throw ZMQCertificateError(path: path, line: secretEntry.line,
                                          reason: "secret-key is not a 40-character Z85 key")
            }
            if ZMQContext.has("curve") {
                let derived = try ZMQCurve.publicKey(fromSecret: secretEntry.value)
                guard derived == publicEntry.value else {
                    throw ZMQCertificateError(path: path, line: secretEntry.line,
                                              reason: "secret-key does not belong to public-key")
                }
            }
            secret = secretEntry.value
        }
        return ZMQCertificate(validatedPublicKey: publicEntry.value, secretKey: secret)
    }

    private init(validatedPublicKey: String, secretKey: String?) {
        self.publicKey = validatedPublicKey
        self.secretKey = secretKey
    }

    /// Writes the public certificate to `publicPath` (mode 0644) and, if `secretPath` is given,
    /// the secret certificate to it (mode 0600). Each file is replaced atomically.
    /// Throws `ZMQCertificateError` if `secretPath` is given but there is no secret key.
    public func save(publicPath: String, secretPath: String?) throws {
        if let secretPath {
            guard let secretKey else {
                throw ZMQCertificateError(path: secretPath, reason: "certificate has no secret key to save")
            }
            try write(path: secretPath, mode: 0o600, text: Self.render(
                title: "ZeroMQ CURVE **Secret** Certificate",
                notes: ["Keep this file private (mode 0600); never send it to a peer."],
                publicKey: publicKey, secretKey: secretKey))
        }
        try write(path: publicPath, mode: 0o644, text: Self.render(
            title: "ZeroMQ CURVE Public Certificate",
            notes: ["Give this file to peers that must recognise this key."],
            publicKey: publicKey, secretKey: nil))
    }

    private func write(path: String, mode: mode_t, text: String) throws {
        do {
            try FileIO.writeAtomically(path: path, bytes: Array(text.utf8), mode: mode)
        } catch {
            throw ZMQCertificateError(path: path, reason: error.reason)
        }
    }

    private static func render(title: String, notes: [String], publicKey: String,
                               secretKey: String?) -> String {
        var lines = ["#   \(title)", "#   Written by ttad."]
        lines += notes.map { "#   \($0)" }
        lines += ["", "metadata", "curve", "    public-key = \"\(publicKey)\""]
        if let secretKey { lines.append("    secret-key = \"\(secretKey)\"") }
        return lines.joined(separator: "\n") + "\n"
    }
}
