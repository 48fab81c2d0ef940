import NIOCore
import NIOHTTPTypes

/// One per HTTP connection, between the HTTP codec and Hummingbird: admits the connection
/// through the shared gate (closing it at once beyond the cap) and closes it when it stays
/// silent: no complete first request within the header timeout, or no new request within the
/// idle timeout after the last response.
///
/// The HTTP decoder emits a request head only once all of it has arrived, so a client trickling
/// header bytes is as silent here as one sending nothing, and both are cut at the deadline.
final class ConnectionGuardHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let gate: HTTPConnectionGate
    private var started = false
    private var admitted = false
    private var sawRequest = false
    private var deadline: NIODeadline?
    private var timer: Scheduled<Void>?

    init(gate: HTTPConnectionGate) {
        self.gate = gate
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        finish()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head = unwrapInboundIn(data) { sawRequest = true }
        // A request is being read or answered: the idle clock restarts from now. A request body
        // that stalls is silence like any other.
        deadline = context.eventLoop.now + seconds(gate.limits.idleTimeoutSeconds)
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) {
            deadline = context.eventLoop.now + seconds(gate.limits.idleTimeoutSeconds)
        }
        context.write(data, promise: promise)
    }

    private func start(_ context: ChannelHandlerContext) {
        guard !started else { return }
        started = true
        guard gate.admit() else {
            context.close(promise: nil)
            return
        }
        admitted = true
        deadline = context.eventLoop.now + seconds(gate.limits.headerTimeoutSeconds)
        arm(context)
    }

    private func arm(_ context: ChannelHandlerContext) {
        guard let deadline else { return }
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            self.timer = nil
            self.check(context)
        }
    }

    private func check(_ context: ChannelHandlerContext) {
        guard admitted, let deadline else { return }
        if context.eventLoop.now < deadline {
            arm(context)  // activity moved the deadline since this check was scheduled
            return
        }
        gate.timedOut(sawRequest ? .idle : .header)
        self.deadline = nil
        context.close(promise: nil)
    }

    private func finish() {
        timer?.cancel()
        timer = nil
        deadline = nil
        if admitted {
            admitted = false
            gate.release()
        }
    }

    private func seconds(_ s: Double) -> TimeAmount {
        .nanoseconds(Int64(s * 1e9))
    }
}
