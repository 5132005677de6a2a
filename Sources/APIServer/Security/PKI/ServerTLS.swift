import NIOSSL

/// The API server's TLS settings: its serving certificate, TLS 1.2 or newer, and client
/// certificates requested but not required (tokens authenticate too), verified against the CA.
public enum ServerTLS {
    /// A server `TLSConfiguration` from the PKI.
    public static func configuration(_ pki: PKI) throws -> TLSConfiguration {
        let chain = try NIOSSLCertificate.fromPEMBytes(Array(pki.server.certificatePEM.utf8))
        let key = try NIOSSLPrivateKey(bytes: Array(pki.server.keyPEM.utf8), format: .pem)
        let ca = try NIOSSLCertificate.fromPEMBytes(Array(pki.ca.certificatePEM.utf8))
        var tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) },
                                                           privateKey: .privateKey(key))
        tls.minimumTLSVersion = .tlsv12
        tls.trustRoots = .certificates(ca)
        // Send the CA as the acceptable issuer so clients (kubectl) offer their certificate.
        tls.sendCANameList = true
        tls.certificateVerification = .optionalVerification
        tls.applicationProtocols = ["http/1.1"]
        return tls
    }
}
