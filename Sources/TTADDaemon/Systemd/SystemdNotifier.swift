#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Foundation

/// sd_notify(3) without libsystemd: one datagram of newline-separated KEY=VALUE lines to the
/// AF_UNIX socket named by $NOTIFY_SOCKET. Without that variable (not under systemd) every call is
/// a no-op, so the daemon runs the same way by hand, in tests and under systemd.
///
/// Thread-safe: each message is a single `sendto` on a socket created once.
public final class SystemdNotifier: @unchecked Sendable {
    private let fd: Int32
    private var address = sockaddr_un()
    private var addressLength: socklen_t = 0
    /// Half of $WATCHDOG_USEC (systemd's recommendation), nil when the watchdog is off.
    public let watchdogInterval: Double?
    public var isActive: Bool { fd >= 0 }
    private let lock = NSLock()
    private var lastWatchdog: Double = 0

    public convenience init() {
        self.init(environment: ProcessInfo.processInfo.environment)
    }

    public init(environment: [String: String]) {
        if let usec = environment["WATCHDOG_USEC"].flatMap(UInt64.init), usec > 0,
           environment["WATCHDOG_PID"].flatMap(Int32.init).map({ $0 == getpid() }) ?? true {
            watchdogInterval = Double(usec) / 1e6 / 2
        } else {
            watchdogInterval = nil
        }
        guard var path = environment["NOTIFY_SOCKET"], !path.isEmpty,
              path.hasPrefix("/") || path.hasPrefix("@") else {
            fd = -1
            return
        }
        var bytes = Array(path.utf8)
        if path.hasPrefix("@") { bytes[0] = 0 }  // Linux abstract namespace
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard bytes.count < capacity else { fd = -1; path = ""; return }
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
        }
        // Exact length: abstract names are length-sensitive.
        addressLength = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \sockaddr_un.sun_path)! + bytes.count)
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    }

    deinit {
        if fd >= 0 { close(fd) }
    }

    /// Sends one notification; returns false when not under systemd or the send failed.
    @discardableResult
    public func notify(_ assignments: [String: String]) -> Bool {
        notify(assignments.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "\n"))
    }

    @discardableResult
    public func notify(_ message: String) -> Bool {
        guard fd >= 0 else { return false }
        let bytes = Array(message.utf8)
        let sent = withUnsafePointer(to: &address) { ap in
            ap.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                bytes.withUnsafeBytes { buf in
                    sendto(fd, buf.baseAddress, buf.count, Int32(MSG_NOSIGNAL), sa, addressLength)
                }
            }
        }
        return sent == bytes.count
    }

    public func ready(status: String) { notify("READY=1\nSTATUS=\(oneLine(status))") }
    public func status(_ status: String) { notify("STATUS=\(oneLine(status))") }
    public func stopping(status: String) { notify("STOPPING=1\nSTATUS=\(oneLine(status))") }
    public func extendTimeout(seconds: Double) { notify("EXTEND_TIMEOUT_USEC=\(UInt64(seconds * 1e6))") }

    /// Pinged from the processing loop, so a wedged loop stops the pings and systemd restarts
    /// the service. Rate-limited to half the watchdog period.
    public func watchdog(now: Double) {
        guard let interval = watchdogInterval, fd >= 0 else { return }
        lock.lock()
        let due = now - lastWatchdog >= interval
        if due { lastWatchdog = now }
        lock.unlock()
        if due { notify("WATCHDOG=1") }
    }

    private func oneLine(_ s: String) -> String {
        String(s.map { $0.isNewline ? " " : $0 })
    }
}
