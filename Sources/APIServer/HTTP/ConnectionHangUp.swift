import Foundation
import NIOCore

/// Notices a client hanging up on a long response (a watch) without taking the request's
/// inbound stream: a small handler at the front of the connection's pipeline, present only
/// while the response runs, reports the peer closing its side. The connection stays usable
/// for the next request when the response ends on its own, so the response is kept alive
/// (no `Connection: close`), as kube-apiserver's watches are.
enum ConnectionHangUp {
    /// The connection of the request being answered (set by `APIResponder`).
    @TaskLocal static var channel: (any Channel)?

    /// Runs `body`, calling `onHangUp` (once) if the peer closes the connection meanwhile.
    static func watching<T>(_ channel: (any Channel)?, onHangUp: @escaping @Sendable () -> Void,
                            _ body: () async throws -> T) async throws -> T {
        guard let channel else { return try await body() }
        let name = "caravel-hangup-\(UUID().uuidString)"
        let added: Void? = try? await channel.eventLoop.submit {
            try channel.pipeline.syncOperations.addHandler(Observer(onHangUp: onHangUp), name: name, position: .first)
        }.get()
        // A connection already gone cannot be watched: that is a hang-up too.
        if added == nil || !channel.isActive { onHangUp() }
        defer { channel.pipeline.removeHandler(name: name, promise: nil) }
        return try await body()
    }

    final class Observer: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = NIOAny
        let onHangUp: @Sendable () -> Void
        private var fired = false

        init(onHangUp: @escaping @Sendable () -> Void) { self.onHangUp = onHangUp }

        private func fire() {
            guard !fired else { return }
            fired = true
            onHangUp()
        }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if let e = event as? ChannelEvent, e == .inputClosed { fire() }
            context.fireUserInboundEventTriggered(event)
        }

        func channelInactive(context: ChannelHandlerContext) {
            fire()
            context.fireChannelInactive()
        }
    }
}
