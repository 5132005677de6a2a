import Hummingbird
import KubeClient
import NIOCore

/// The request context of the API server: Hummingbird's core context plus the connection's
/// channel, from which the TLS handshake's client certificate is read for authentication.
public struct APIRequestContext: RequestContext {
    /// Hummingbird's per-request storage.
    public var coreContext: CoreRequestContextStorage
    /// The connection the request came in on.
    public let channel: any Channel
    /// The request as parsed once by the front (`ObservationMiddleware`), filled in by each step.
    var record: RequestRecord?

    /// A context for a request arriving on `source.channel`.
    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.channel = source.channel
    }

    /// Who the client certificate validated during the handshake names; `nil` without TLS or
    /// a certificate.
    public func certificateSubject() async -> CertificateSubject? {
        await ConnectionCertificates.shared.subject(of: channel)
    }
}
