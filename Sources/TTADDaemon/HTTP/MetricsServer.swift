import Foundation
import Hummingbird
import Logging
import NIOCore

/// The operations port: /metrics (Prometheus text format 0.0.4), /healthz and /readyz.
/// Bound to 127.0.0.1 by default: metrics can reveal stream names and traffic volumes. Its
/// connections are capped and timed out (`HTTPConnectionLimits`), so that whatever clients do
/// here, the descriptors ZeroMQ and SQLite need stay free.
public enum MetricsServer {
    public static func makeApplication(
        host: String, port: Int, limits: HTTPConnectionLimits, metrics: DaemonMetrics, health: HealthState, logger: Logger,
        onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let router = Router()
        router.get("/metrics") { _, _ -> Response in
            let body = metrics.exposition()
            return Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: body)))
        }
        router.get("/healthz") { _, _ -> Response in
            let (ok, detail) = health.health()
            return Response(status: ok ? .ok : .serviceUnavailable,
                            headers: [.contentType: "text/plain; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(string: detail + "\n")))
        }
        router.get("/readyz") { _, _ -> Response in
            let ready = health.ready
            return Response(status: ready ? .ok : .serviceUnavailable,
                            headers: [.contentType: "text/plain; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(string: ready ? "ready\n" : "not ready\n")))
        }
        let gate = HTTPConnectionGate(limits: limits, metrics: metrics, logger: logger)
        return Application(
            router: router,
            // No Hummingbird idle timeout: the guard handler keeps both deadlines, and counts them.
            server: .http1(configuration: .init(additionalChannelHandlers: [ConnectionGuardHandler(gate: gate)])),
            configuration: .init(address: .hostname(host, port: port), serverName: "ttad"),
            onServerRunning: { channel in
                await onRunning(channel.localAddress?.port ?? port)
            },
            logger: logger)
    }
}
