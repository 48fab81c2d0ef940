import Foundation
import Glibc
import XCTest
@testable import TTADDaemon

/// A datagram socket standing in for systemd's notify socket.
final class NotifySocket {
    let fd: Int32
    let path: String

    init(abstract: Bool = false) throws {
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        path = abstract ? "@ttad-test-\(UUID().uuidString.prefix(8))"
                        : FileManager.default.temporaryDirectory.appendingPathComponent("ttad-notify-\(UUID().uuidString.prefix(8))").path
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(path.utf8)
        if abstract { bytes[0] = 0 }
        withUnsafeMutableBytes(of: &addr.sun_path) { $0.copyBytes(from: bytes) }
        let len = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \sockaddr_un.sun_path)! + bytes.count)
        let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        guard rc == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        var tv = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit {
        close(fd)
        if !path.hasPrefix("@") { unlink(path) }
    }

    /// The next datagram, or nil after the 5 s timeout.
    func receive() -> String? {
        var buf = [UInt8](repeating: 0, count: 4096)
        let n = recv(fd, &buf, buf.count, 0)
        return n < 0 ? nil : String(decoding: buf[0..<n], as: UTF8.self)
    }

    /// Every datagram until `predicate` matches one (or the timeout).
    func receive(until predicate: (String) -> Bool) -> [String] {
        var all: [String] = []
        while let m = receive() {
            all.append(m)
            if predicate(m) { break }
        }
        return all
    }
}

final class SystemdNotifierTests: XCTestCase {
    func testNoOpWithoutNotifySocket() {
        let n = SystemdNotifier(environment: [:])
        XCTAssertFalse(n.isActive)
        XCTAssertFalse(n.notify("READY=1"))
        XCTAssertNil(n.watchdogInterval)
    }

    func testPathSocketReceivesReadyAndStatus() throws {
        let sock = try NotifySocket()
        let n = SystemdNotifier(environment: ["NOTIFY_SOCKET": sock.path])
        n.ready(status: "processing\nline two")
        XCTAssertEqual(sock.receive(), "READY=1\nSTATUS=processing line two")
        n.stopping(status: "bye")
        XCTAssertEqual(sock.receive(), "STOPPING=1\nSTATUS=bye")
    }

    func testAbstractSocket() throws {
        let sock = try NotifySocket(abstract: true)
        let n = SystemdNotifier(environment: ["NOTIFY_SOCKET": sock.path])
        XCTAssertTrue(n.notify("STATUS=x"))
        XCTAssertEqual(sock.receive(), "STATUS=x")
    }

    func testWatchdogIsRateLimitedToHalfThePeriod() throws {
        let sock = try NotifySocket()
        let n = SystemdNotifier(environment: ["NOTIFY_SOCKET": sock.path, "WATCHDOG_USEC": "2000000"])
        XCTAssertEqual(n.watchdogInterval, 1.0)
        n.watchdog(now: 100)
        n.watchdog(now: 100.5)   // too soon: suppressed
        n.watchdog(now: 101.1)
        n.notify("STATUS=end")
        XCTAssertEqual(sock.receive(until: { $0 == "STATUS=end" }), ["WATCHDOG=1", "WATCHDOG=1", "STATUS=end"])
    }

    func testWatchdogForAnotherPidIsIgnored() {
        let n = SystemdNotifier(environment: ["WATCHDOG_USEC": "1000000", "WATCHDOG_PID": "1"])
        XCTAssertNil(n.watchdogInterval)
    }
}
