import Crypto
import Foundation
import Hummingbird
import HummingbirdWebSocket
import KubeClient
import NIOCore
import NIOSSL
import SwiftASN1
import X509

/// The kubelet server's TLS: a serving certificate (given, or self-signed at start as a
/// kubelet without `--tls-cert-file` does) and client certificates checked against the
/// cluster CA. Verification is optional in the handshake so that a request without a
/// certificate gets a 401 Status rather than a broken connection.
enum KubeletTLS {
    static func configuration(servingCertificatePEM: String, servingKeyPEM: String, clientCA: String) throws -> TLSConfiguration {
        let chain = try NIOSSLCertificate.fromPEMBytes(Array(servingCertificatePEM.utf8))
        let key = try NIOSSLPrivateKey(bytes: Array(servingKeyPEM.utf8), format: .pem)
        var tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        tls.minimumTLSVersion = .tlsv12
        // Without a CA (an API server running --tls=false) no client is trusted: every request but /healthz gets 401.
        let ca = clientCA.isEmpty ? [] : try NIOSSLCertificate.fromPEMBytes(Array(clientCA.utf8))
        if !ca.isEmpty {
            tls.trustRoots = .certificates(ca)
            tls.sendCANameList = true
            tls.certificateVerification = .optionalVerification
        } else {
            tls.certificateVerification = .none
        }
        tls.applicationProtocols = ["http/1.1"]
        return tls
    }

    /// A self-signed P-256 serving certificate for `names` (IP addresses and DNS names).
    static func selfSigned(names: [String], now: Date = Date()) throws -> (certificatePEM: String, keyPEM: String) {
        let p256 = P256.Signing.PrivateKey()
        let key = Certificate.PrivateKey(p256)
        let host = ProcessInfo.processInfo.hostName
        let subject = try DistinguishedName { CommonName("\(host)@\(Int(now.timeIntervalSince1970))") }
        var sans: [GeneralName] = []
        for name in names {
            if let ip = ipBytes(name) {
                sans.append(.ipAddress(ASN1OctetString(contentBytes: ArraySlice(ip))))
            } else if !name.isEmpty {
                sans.append(.dnsName(name))
            }
        }
        let extensions = try Certificate.Extensions {
            Critical(BasicConstraints.notCertificateAuthority)
            Critical(KeyUsage(digitalSignature: true, keyEncipherment: false))
            try ExtendedKeyUsage([.serverAuth])
            SubjectAlternativeNames(sans)
        }
        let cert = try Certificate(version: .v3, serialNumber: .init(), publicKey: key.publicKey,
                                   notValidBefore: now.addingTimeInterval(-300), notValidAfter: now.addingTimeInterval(365 * 86_400),
                                   issuer: subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA256,
                                   extensions: extensions, issuerPrivateKey: key)
        return (try cert.serializeAsPEM().pemString, p256.pemRepresentation)
    }

    /// The SANs of a self-signed certificate: loopback, the host name and a specific bind address.
    static func defaultNames(bindAddress: String, extra: [String]) -> [String] {
        var names = ["127.0.0.1", "localhost", ProcessInfo.processInfo.hostName]
        if !["", "0.0.0.0", "::"].contains(bindAddress) { names.append(bindAddress) }
        for n in extra where !names.contains(n) { names.append(n) }
        return names
    }

    static func ipBytes(_ s: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, s, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, s, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }
}

/// The request context of the kubelet server: it keeps the connection's channel so the client
/// certificate of the TLS handshake can be read, and can carry a WebSocket upgrade.
public struct KubeletRequestContext: RequestContext, WebSocketRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let webSocket: WebSocketHandlerReference<KubeletRequestContext>
    public let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.webSocket = .init()
        self.channel = source.channel
    }

    func peerCertificate() async -> NIOSSLCertificate? {
        try? await channel.nioSSL_peerCertificate().get()
    }
}

/// Only the API server may read logs and exec: a CA-signed client certificate for
/// `kube-apiserver-kubelet-client` or a member of `system:masters` (the kubelet's own
/// authorization is not modelled beyond that). `/healthz` stays open for probes.
struct KubeletAuthMiddleware: RouterMiddleware {
    typealias Context = KubeletRequestContext
    static let apiServerUser = "kube-apiserver-kubelet-client"

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if request.uri.path == "/healthz" { return try await next(request, context) }
        // The handshake already checked the chain against the CA; here only who it is.
        guard let cert = await context.peerCertificate(), let who = CertificateSubject(cert) else {
            return KubeletStatus.response(code: 401, message: "Unauthorized")
        }
        guard who.name == Self.apiServerUser || who.groups.contains("system:masters") else {
            return KubeletStatus.response(code: 403, message: "Forbidden (user=\(who.name), path=\(request.uri.path))")
        }
        return try await next(request, context)
    }
}
