import Foundation
import KubeModel

/// Writes kubeconfigs the real kubectl reads as they are: inline base64 PEM, so the file
/// works when copied elsewhere.
enum KubeconfigWriter {
    /// A one-context kubeconfig for `server`; with TLS material when `ca` is given.
    static func text(server: String, user: String, ca: String?, client: CertificateKeyPair?) -> String {
        KubeconfigText.render(server: server, user: user, caPEM: ca, clientCertificatePEM: client?.certificatePEM,
                              clientKeyPEM: client?.keyPEM)
    }

    /// Replaces `path` atomically; 0600 because it holds a private key.
    static func write(_ text: String, to path: String) throws {
        try SecureFile.writeAtomically(path, text, mode: 0o600)
    }
}
