import Foundation

/// A one-context kubeconfig the real kubectl reads as it is: PEM material inline (base64), so
/// the file works when copied elsewhere. Used for the admin, controller-manager and node
/// kubeconfigs the server writes and for the one a joining kubelet writes.
public enum KubeconfigText {
    public static func render(server: String, user: String, caPEM: String?, clientCertificatePEM: String?,
                              clientKeyPEM: String?) -> String {
        let b64 = { (pem: String) in Data(pem.utf8).base64EncodedString() }
        let clusterExtra = caPEM.map { "\n    certificate-authority-data: \(b64($0))" } ?? ""
        var userBody = " {}"
        if let cert = clientCertificatePEM, let key = clientKeyPEM {
            userBody = "\n    client-certificate-data: \(b64(cert))\n    client-key-data: \(b64(key))"
        }
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
}
