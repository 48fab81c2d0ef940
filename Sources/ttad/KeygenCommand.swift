import ArgumentParser
import Foundation
import TTADZMQ

/// Makes a CURVE key pair as czmq-style certificate files: NAME (public) and NAME_secret (0600).
struct KeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Generate a CURVE key pair (server or client certificate files).")

    @Option(help: "Directory to write NAME and NAME_secret into.")
    var dir: String = "."

    @Argument(help: "Certificate name, e.g. server or cam1.")
    var name: String

    func run() throws {
        let (pub, sec) = try ZMQCurve.generateKeyPair()
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let base = URL(fileURLWithPath: dir).appendingPathComponent(name).path
        try ZMQCertificate(publicKey: pub, secretKey: sec).save(publicPath: base, secretPath: base + "_secret")
        print("public key: \(pub)")
        print("wrote \(base) and \(base)_secret")
    }
}
