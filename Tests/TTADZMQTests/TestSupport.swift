import Foundation
import XCTest
import TTADZMQ

/// A lock-protected value shared between a test and a helper thread.
final class LockedBox<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value

    init(_ value: Value) { stored = value }

    var value: Value {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
}

/// A fresh directory under /tmp (short, so ipc:// paths stay below the sun_path limit).
func makeTemporaryDirectory() throws -> String {
    var template = Array("/tmp/ttadzmq-XXXXXX".utf8CString)
    guard let result = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
        throw ZMQError(code: errno, operation: "mkdtemp")
    }
    return String(cString: result)
}

func removeDirectory(_ path: String) {
    try? FileManager.default.removeItem(atPath: path)
}

/// Monotonic milliseconds, for elapsed-time assertions.
func nowMilliseconds() -> Double {
    Double(DispatchTime.now().uptimeNanoseconds) / 1_000_000
}

/// Binds to an ephemeral loopback TCP port and returns the resolved endpoint.
func bindEphemeralTCP(_ socket: ZMQSocket) throws -> String {
    try socket.bind("tcp://127.0.0.1:*")
    return try socket.lastEndpoint
}

/// Receives one message, waiting at most `milliseconds`.
func receive(_ socket: ZMQSocket, within milliseconds: Int32 = 2000,
             maxParts: Int = 16) throws -> [[UInt8]]? {
    try socket.setReceiveTimeout(milliseconds: milliseconds)
    return try socket.receiveMultipart(maxParts: maxParts)
}

/// Deterministic test payload of `count` bytes.
func pattern(_ count: Int, seed: Int = 0) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: ($0 &* 31) &+ seed) }
}

func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }
