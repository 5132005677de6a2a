import Foundation

/// Writes kubeconfigs the real kubectl reads as they are: inline base64 PEM, so the file
/// works when copied elsewhere.
enum KubeconfigWriter {
    /// A one-context kubeconfig for `server`; with TLS material when `ca` is given.
    static func text(server: String, user: String, ca: String?, client: CertificateKeyPair?) -> String {
        let b64 = { (pem: String) in Data(pem.utf8).base64EncodedString() }
        let clusterExtra = ca.map { "\n    certificate-authority-data: \(b64($0))" } ?? ""
        let userBody = client.map {
            "\n    client-certificate-data: \(b64($0.certificatePEM))\n    client-key-data: \(b64($0.keyPEM))"
        } ?? " {}"
        return """
            apiVersion: v1
            kind: Config
            clusters:
            - name: caravel
              cluster:
                server: \(server)\(clusterExtra)
            users:
            - name: \(user)
              user:\(userBody)
            contexts:
            - name: caravel
              context:
                cluster: caravel
                user: \(user)
                namespace: default
            current-context: caravel
            preferences: {}

            """
    }

    /// Replaces `path` atomically; 0600 because it holds a private key.
    static func write(_ text: String, to path: String) throws {
        try SecureFile.writeAtomically(path, text, mode: 0o600)
    }
}
