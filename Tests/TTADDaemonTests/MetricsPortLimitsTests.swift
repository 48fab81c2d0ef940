import Foundation
import Glibc
import XCTest
@testable import TTADDaemon

/// Hundreds of idle connections to the metrics port, against a daemon whose descriptor limit
/// leaves room for only a few dozen more: ZeroMQ still connects and round-trips, every idle
/// connection is closed by the daemon (beyond the cap at once, within it at the header
/// timeout), and both are counted. Without the cap the idle connections alone would exhaust the
/// limit and the ZeroMQ client would never be answered.
final class MetricsPortLimitsTests: XCTestCase {
    private let cap = 8
    private let idleConnections = 300

    func testIdleConnectionsCannotStarveZeroMQOrTheHealthCheck() throws {
        let exe = try ttadExecutable()
        let env = try TestDaemonEnvironment()
        let (pIn, pOut, pMetrics) = (try freeTCPPort(), try freeTCPPort(), try freeTCPPort())
        let config = try env.writeProcessConfig(ingest: pIn, publish: pOut, metrics: pMetrics,
                                                extra: "max_connections = \(cap)\nheader_timeout_s = 1\nidle_timeout_s = 30")
        let notify = try NotifySocket()
        let proc = try RunningProcess(exe, ["run", "--config", config], environment: ["NOTIFY_SOCKET": notify.path])
        XCTAssertTrue(notify.receive(until: { $0.contains("READY=1") }).last?.contains("READY=1") ?? false, proc.stderr)
        let pid = proc.process.processIdentifier

        // The daemon may open only 64 more descriptors than it holds now: far fewer than the idle
        // connections, enough for the cap, a ZeroMQ client's two connections and SQLite.
        let inUse = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count
        let limit = inUse + 64
        let (rc, out) = try runCommand("/usr/bin/prlimit", ["--pid", "\(pid)", "--nofile=\(limit):\(limit)"])
        XCTAssertEqual(rc, 0, out)

        let idle = try (0..<idleConnections).map { _ in try IdleConnection(port: pMetrics) }
        // The daemon takes every one of them off the listening socket (to keep or to close), so
        // the damage is done before ZeroMQ is tried; out of descriptors, it could not.
        XCTAssertTrue(waitForEmptyAcceptQueue(port: pMetrics, timeout: 10), "the metrics port stopped accepting")

        // ZeroMQ still accepts a producer and a subscriber and answers them.
        let client = try TestClient(ingest: "tcp://127.0.0.1:\(pIn)", publish: "tcp://127.0.0.1:\(pOut)")
        try client.waitUntilConnected()
        for seq in 0..<3 {
            try client.sendEmbedding(stream: "s", seq: UInt64(seq), values: TestDaemonEnvironment.embedding(forClass: 1))
        }
        XCTAssertEqual(try client.receive(count: 3) { $0.prediction != nil }.count, 3, proc.stderr)

        // The health check answers, or is refused outright while the cap is held; it never hangs.
        do {
            let (status, body) = try httpGet("http://127.0.0.1:\(pMetrics)/healthz", timeout: 10)
            XCTAssertEqual(status, 200, body)
        } catch let e as URLError {
            XCTAssertNotEqual(e.code, .timedOut, "/healthz hung behind idle connections")
        }

        // Every idle connection is closed by the daemon: at once beyond the cap, at the header
        // timeout within it.
        let stillOpen = IdleConnection.waitUntilClosedByPeer(idle, timeout: 20)
        XCTAssertEqual(stillOpen, 0, "idle connections the daemon kept open")

        let (status, body) = try httpGet("http://127.0.0.1:\(pMetrics)/metrics")
        XCTAssertEqual(status, 200)
        let m = Array(body.utf8)
        let refused = metricValue(m, "ttad_http_connections_refused_total{reason=\"max_connections\"}") ?? -1
        let headerTimeouts = metricValue(m, "ttad_http_connections_timed_out_total{timeout=\"header\"}") ?? -1
        XCTAssertGreaterThan(refused, 0)
        XCTAssertGreaterThan(headerTimeouts, 0)
        XCTAssertLessThanOrEqual(headerTimeouts, Double(idleConnections))
        XCTAssertGreaterThanOrEqual(refused + headerTimeouts, Double(idleConnections), "an idle connection neither refused nor timed out")
        XCTAssertEqual(metricValue(m, "ttad_http_connections_timed_out_total{timeout=\"idle\"}"), 0)
        let open = metricValue(m, "ttad_http_connections_open") ?? -1
        XCTAssertTrue((1...Double(cap)).contains(open), "open connections: \(open)")

        // Refusals are logged, but not one line each.
        let lines = proc.stderr.components(separatedBy: "\n").filter { $0.contains("connection cap") }
        XCTAssertFalse(lines.isEmpty, proc.stderr)
        XCTAssertLessThan(Double(lines.count), refused / 10, "refusals logged without a throttle")

        kill(pid, SIGTERM)
        XCTAssertTrue(proc.wait(timeout: 15), "did not exit after SIGTERM; stderr: \(proc.stderr)")
        XCTAssertEqual(proc.process.terminationStatus, 0, proc.stderr)
    }
}

/// Waits until the listening socket on 127.0.0.1:`port` has no connection waiting to be
/// accepted (its receive queue in /proc/net/tcp), or `timeout` passed.
func waitForEmptyAcceptQueue(port: Int, timeout: Double) -> Bool {
    let local = String(format: "0100007F:%04X", port)
    let deadline = Date().addingTimeInterval(timeout)
    repeat {
        let table = (try? String(contentsOfFile: "/proc/net/tcp", encoding: .utf8)) ?? ""
        let queued = table.split(separator: "\n").compactMap { line -> Int? in
            let f = line.split(separator: " ")
            // sl, local_address, rem_address, st (0A: LISTEN), tx_queue:rx_queue
            guard f.count > 4, f[1] == local, f[3] == "0A" else { return nil }
            return Int(f[4].split(separator: ":").last ?? "", radix: 16)
        }.first
        if queued == 0 { return true }
        Thread.sleep(forTimeInterval: 0.05)
    } while Date() < deadline
    return false
}

/// A TCP connection to 127.0.0.1 that sends nothing. Connects without blocking, so hundreds of
/// them open at once whatever the server's accept backlog.
final class IdleConnection {
    let fd: Int32

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = UInt16(port).bigEndian
        let rc = withUnsafePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 || errno == EINPROGRESS else {
            let e = errno
            close(fd)
            throw POSIXError(POSIXErrorCode(rawValue: e) ?? .EIO)
        }
    }

    deinit { close(fd) }

    /// True once the peer closed or reset the connection (a read returns 0 or fails).
    var closedByPeer: Bool {
        var byte: UInt8 = 0
        let n = recv(fd, &byte, 1, Int32(MSG_DONTWAIT))
        return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
    }

    /// Waits until the peer closed every connection or `timeout` passed; returns how many it
    /// left open.
    static func waitUntilClosedByPeer(_ connections: [IdleConnection], timeout: Double) -> Int {
        let deadline = Date().addingTimeInterval(timeout)
        var open = connections
        while !open.isEmpty && Date() < deadline {
            var fds = open.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
            _ = poll(&fds, nfds_t(fds.count), 200)
            open = open.filter { !$0.closedByPeer }
        }
        return open.count
    }
}
