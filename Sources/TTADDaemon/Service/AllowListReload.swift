import Foundation
import TTADZMQ

/// What a reload of the CURVE allow-list did.
public enum AllowListReload: Equatable, Sendable {
    /// The directory was read again; later handshakes are decided by these many keys.
    case replaced(clients: Int)
    /// The directory could not be read or holds a bad file: the list in effect stays.
    case failed(String)
    /// CURVE is off: there is no allow-list.
    case curveDisabled
    /// The daemon is not running (not started yet, or stopping).
    case notRunning
}

extension Daemon {
    /// SIGHUP (`systemctl reload`): reads `curve.allowed_clients_directory` again and hands the
    /// keys to the ZAP handler, so a camera added to or removed from the fleet needs no restart.
    /// Established connections stay up (ZeroMQ authenticates at the handshake only); a removed
    /// key is refused from its next connection. Only the allow-list is reloaded: every other
    /// setting needs a restart.
    @discardableResult
    public func reloadAllowList() -> AllowListReload {
        lifecycleLock.lock(); defer { lifecycleLock.unlock() }
        guard config.curve.enabled else {
            logger.notice("SIGHUP: nothing to reload (curve.enabled = false; other settings need a restart)")
            return .curveDisabled
        }
        guard running, !stopped, let io else { return .notRunning }
        let directory = config.curve.allowedClientsDirectory
        do {
            let keys = try ZAPAuthenticator.loadAllowList(directory: directory)
            if !io.replaceAllowList(keys) {
                logger.warning("the I/O thread has not applied the reloaded CURVE allow-list yet; it will on its next turn")
            }
            metrics.curve.allowedClients.set(Double(keys.count))
            metrics.curve.reloadsSucceeded.increment()
            logger.notice("CURVE allow-list reloaded", metadata: ["directory": "\(directory)", "clients": "\(keys.count)"])
            if keys.isEmpty { logger.warning("CURVE allow-list is empty: no new client can connect") }
            return .replaced(clients: keys.count)
        } catch {
            metrics.curve.reloadsFailed.increment()
            logger.error("CURVE allow-list not reloaded, the previous one stays in effect: \(error)")
            return .failed("\(error)")
        }
    }
}
