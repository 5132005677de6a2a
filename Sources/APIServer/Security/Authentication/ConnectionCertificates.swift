import KubeClient
import NIOCore
import NIOSSL
import Synchronization

/// The subject of each open connection's client certificate, read once per connection. The
/// TLS handler may be read only on the connection's event loop, so each read from a request's
/// task was a hop onto that loop and back (a thread woken) for every request a keep-alive
/// connection carries, and each answer was then looked up by the certificate's bytes. A client
/// certificate cannot change after the handshake, so the first answer holds until the
/// connection closes, when its entry goes. Bearer tokens are still read per request: one
/// connection may carry several.
final class ConnectionCertificates: Sendable {
    /// One table for the process: request contexts are made by the HTTP server, which hands
    /// them the channel and nothing of ours.
    static let shared = ConnectionCertificates()

    private let known = Mutex<[ObjectIdentifier: CertificateSubject?]>([:])

    /// Who the certificate the client of `channel` presented names; nil without TLS, without a
    /// certificate, or for a certificate without a common name.
    func subject(of channel: any Channel) async -> CertificateSubject? {
        let id = ObjectIdentifier(channel)
        if let cached = known.withLock({ $0[id] }) { return cached }
        // No TLS handler in the pipeline (plain HTTP) fails the lookup: that is "no certificate".
        let subject = (try? await channel.nioSSL_peerCertificate().get()).flatMap { $0.flatMap(CertificateSubject.init) }
        known.withLock { $0[id] = .some(subject) }
        // Registered after the insert: on a channel already closed it runs at once, so no
        // entry outlives its connection (and no later channel at the same address finds it).
        channel.closeFuture.whenComplete { [weak self] _ in
            _ = self?.known.withLock { $0.removeValue(forKey: id) }
        }
        return subject
    }

    /// Connections with a remembered answer.
    var count: Int { known.withLock { $0.count } }
}
