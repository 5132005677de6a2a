import Foundation
import NIOSSL

/// Turns a `ClusterConnection` into what AsyncHTTPClient needs: a TLS configuration (CA bundle,
/// client certificate and key, or no verification) and the `Authorization` header. This is where
/// referenced files are read, so errors name the file that could not be used.
enum Transport {
    /// `nil` for plain-HTTP servers: TLS material in the kubeconfig is then unused, as in kubectl.
    static func tlsConfiguration(for c: ClusterConnection) throws -> TLSConfiguration? {
        guard c.usesTLS else { return nil }
        var tls = TLSConfiguration.makeClientConfiguration()
        if c.insecureSkipTLSVerify {
            tls.certificateVerification = .none
        } else if let ca = c.certificateAuthority {
            let roots = try certificates(ca, what: "certificate authority")
            guard !roots.isEmpty else { throw KubeconfigError("certificate authority holds no PEM certificate") }
            // Only the cluster CA: a kubeconfig CA replaces the system roots rather than adding to them.
            tls.trustRoots = .certificates(roots)
        }
        if let certSource = c.clientCertificate, let keySource = c.clientKey {
            let chain = try certificates(certSource, what: "client certificate")
            guard !chain.isEmpty else { throw KubeconfigError("client certificate holds no PEM certificate") }
            tls.certificateChain = chain.map { .certificate($0) }
            let keyBytes = try bytes(keySource, what: "client key")
            do {
                tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: keyBytes, format: .pem))
            } catch {
                throw KubeconfigError("client key\(origin(keySource)) is not a PEM private key: \(error)")
            }
        }
        return tls
    }

    /// The `Authorization` header value, if the connection carries a bearer token.
    static func authorization(for c: ClusterConnection) throws -> String? {
        switch c.credential {
        case .none:
            return nil
        case .token(let token):
            return "Bearer " + token
        case .tokenFile(let path):
            // Read once at client construction; rotating tokens need a new client (for now).
            let raw = try bytes(.file(path), what: "token file")
            let token = String(decoding: raw, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard !token.isEmpty else { throw KubeconfigError("token file \(path) is empty") }
            return "Bearer " + token
        }
    }

    private static func certificates(_ source: PEMSource, what: String) throws -> [NIOSSLCertificate] {
        let pem = try bytes(source, what: what)
        do { return try NIOSSLCertificate.fromPEMBytes(pem) } catch {
            throw KubeconfigError("\(what)\(origin(source)) is not PEM: \(error)")
        }
    }

    private static func bytes(_ source: PEMSource, what: String) throws -> [UInt8] {
        switch source {
        case .data(let d):
            return d
        case .file(let path):
            guard let data = FileManager.default.contents(atPath: path) else {
                throw KubeconfigError("cannot read \(what) file \(path)")
            }
            return Array(data)
        }
    }

    private static func origin(_ source: PEMSource) -> String {
        if case .file(let path) = source { return " (\(path))" }
        return ""
    }
}
