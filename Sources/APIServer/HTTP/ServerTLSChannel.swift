import HummingbirdCore
import Logging
import NIOCore
import NIOSSL

/// TLS on each accepted connection, as Hummingbird's `TLSChannel`, with one difference: the TLS
/// handler does not keep a large write's buffer. NIOSSL encrypts what it is given into one
/// buffer per connection and by default keeps that buffer's size for the connection's life,
/// so every keep-alive connection that once carried a large LIST held as much memory until
/// its client closed it. Together with bodies written in pieces (`ResponseBuilder.body`), a
/// connection keeps at most a piece's worth.
struct ServerTLSChannel<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value

    /// What a connection's TLS write buffer may keep between writes.
    static var preservedWriteBuffer: Int { 64 * 1024 }

    let base: Base
    let context: NIOSSLContext

    init(_ base: Base, tlsConfiguration: TLSConfiguration) throws {
        self.base = base
        self.context = try NIOSSLContext(configuration: tlsConfiguration)
    }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            var configuration = NIOSSLHandler.Configuration()
            configuration.maximumPreservedOutboundBufferCapacity = Self.preservedWriteBuffer
            try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context, configuration: configuration))
        }.flatMap {
            base.setup(channel: channel, logger: logger)
        }
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}
