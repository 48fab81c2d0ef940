import Foundation
import Glibc
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import XCTest

/// The built `ttad` executable next to the test bundle (swift build --build-tests builds both).
func ttadExecutable() throws -> URL {
    var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for _ in 0..<3 {
        let candidate = dir.appendingPathComponent("ttad")
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        dir = dir.deletingLastPathComponent()
    }
    throw XCTSkip("ttad executable not built next to the tests (run `swift build --build-tests`)")
}

/// A currently free TCP port on 127.0.0.1 (bound to 0, read back, released).
func freeTCPPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    addr.sin_port = 0
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    let rc = withUnsafeMutablePointer(to: &addr) { p in
        p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa -> Int32 in
            guard bind(fd, sa, len) == 0 else { return -1 }
            return getsockname(fd, sa, &len)
        }
    }
    guard rc == 0 else { throw POSIXError(.EADDRINUSE) }
    return Int(UInt16(bigEndian: addr.sin_port))
}

/// A blocking HTTP GET: (status, body).
func httpGet(_ url: String, timeout: Double = 5) throws -> (Int, String) {
    let sem = DispatchSemaphore(value: 0)
    nonisolated(unsafe) var result: (Int, String)?
    nonisolated(unsafe) var failure: Error?
    var req = URLRequest(url: URL(string: url)!)
    req.timeoutInterval = timeout
    URLSession.shared.dataTask(with: req) { data, response, error in
        if let error { failure = error } else {
            result = ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data ?? Data(), as: UTF8.self))
        }
        sem.signal()
    }.resume()
    _ = sem.wait(timeout: .now() + timeout + 1)
    if let failure { throw failure }
    guard let result else { throw URLError(.timedOut) }
    return result
}

/// Runs a process, collecting stderr into a buffer readable while it runs.
final class RunningProcess: @unchecked Sendable {
    let process = Process()
    private let stderrPipe = Pipe()
    private let lock = NSLock()
    private var stderrData = Data()

    init(_ executable: URL, _ args: [String], environment: [String: String]) throws {
        process.executableURL = executable
        process.arguments = args
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        process.environment = env
        process.standardError = stderrPipe
        process.standardOutput = FileHandle.nullDevice
        stderrPipe.fileHandleForReading.readabilityHandler = { [weak self] h in
            let d = h.availableData
            guard let self, !d.isEmpty else { return }
            self.lock.lock(); self.stderrData.append(d); self.lock.unlock()
        }
        try process.run()
    }

    var stderr: String {
        lock.lock(); defer { lock.unlock() }
        return String(decoding: stderrData, as: UTF8.self)
    }

    /// Waits up to `timeout` seconds; true if it exited.
    func wait(timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        return !process.isRunning
    }

    deinit {
        if process.isRunning { process.terminate(); _ = wait(timeout: 5) }
        stderrPipe.fileHandleForReading.readabilityHandler = nil
    }
}

/// Runs a command to completion: (exit status, stdout and stderr together).
func runCommand(_ executable: String, _ args: [String], environment: [String: String] = [:]) throws -> (Int32, String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: executable)
    p.arguments = args
    if !environment.isEmpty {
        p.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
    }
    let pipe = Pipe()
    p.standardOutput = pipe
    p.standardError = pipe
    try p.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: data, as: UTF8.self))
}

extension TestDaemonEnvironment {
    /// Writes the configuration of a `ttad run` process in embedding mode on these loopback ports
    /// (this environment's classes, state in its directory) and returns its path. `extra` is
    /// appended: lines before its first table header belong to `[metrics]`.
    func writeProcessConfig(ingest: Int, publish: Int, metrics: Int, extra: String = "") throws -> String {
        let path = directory.appendingPathComponent("ttad.toml").path
        try """
        [daemon]
        state_directory = "state"
        shutdown_timeout_s = 10
        [ingest]
        endpoints = ["tcp://127.0.0.1:\(ingest)"]
        [publish]
        endpoints = ["tcp://127.0.0.1:\(publish)"]
        [classifier]
        class_embeddings = "classes.safetensors"
        logit_scale = 10
        [metrics]
        port = \(metrics)
        \(extra)
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}
