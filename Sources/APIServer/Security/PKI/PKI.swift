import Crypto
import Foundation
import SwiftASN1
import X509

/// A certificate and its private key, both PEM.
public struct CertificateKeyPair: Sendable, Equatable {
    /// The certificate, PEM (`CERTIFICATE`).
    public var certificatePEM: String
    /// Its private key, PEM (PKCS#8 `PRIVATE KEY`).
    public var keyPEM: String
}

/// A PKI problem, naming the file concerned.
public struct PKIError: Error, Sendable, CustomStringConvertible {
    /// What went wrong.
    public var message: String
    /// A PKI error with a message for the operator.
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The cluster's certificates under `DIR/pki/`, made on first start as k3s does: a CA, the API
/// server's serving certificate, and client certificates for the admin and the controller manager.
/// Existing files are reused; a leaf is reissued when it is missing, unreadable, not signed by
/// the CA, names other SANs, or expires within `renewBefore`.
public struct PKI: Sendable {
    /// The directory holding the files (`DIR/pki`).
    public let directory: String
    /// The cluster CA.
    public let ca: CertificateKeyPair
    /// The API server's serving certificate.
    public let server: CertificateKeyPair
    /// `CN=caravel-admin, O=system:masters`: written into the admin kubeconfig.
    public let admin: CertificateKeyPair
    /// `CN=system:kube-controller-manager`.
    public let controllerManager: CertificateKeyPair
    /// `CN=kube-apiserver-kubelet-client, O=system:masters`: the API server's identity towards
    /// kubelets (pods/log, pods/exec).
    public let kubeletClient: CertificateKeyPair
    /// `CN=front-proxy-client`: the API server's identity towards aggregated API servers, which
    /// believe its `X-Remote-*` headers when they trust the cluster CA for request headers.
    public let frontProxyClient: CertificateKeyPair

    /// Validity of a new CA.
    static let caValidity: TimeInterval = 10 * 365 * 86_400
    /// Validity of a new leaf certificate.
    static let leafValidity: TimeInterval = 365 * 86_400
    /// Leaves closer to expiry than this at start are reissued.
    public static let renewBefore: TimeInterval = 30 * 86_400
    /// The first address of the default service CIDR (10.96.0.0/12): the `kubernetes` Service.
    static let serviceIP = "10.96.0.1"

    /// The SANs of the serving certificate: loopback, the host name and the in-cluster names.
    public static func serverNames(hostName: String = ProcessInfo.processInfo.hostName) -> [String] {
        var names = ["localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
                     "kubernetes.default.svc.cluster.local", "127.0.0.1", "::1", serviceIP]
        if !hostName.isEmpty && !names.contains(hostName) { names.insert(hostName, at: 1) }
        return names
    }

    /// Loads the PKI under `directory`, creating or reissuing what is missing or due.
    public static func ensure(directory: String, serverNames: [String] = PKI.serverNames(), now: Date = Date()) throws -> PKI {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        let store = PEMFiles(directory: directory)
        let ca = try loadOrCreateCA(store, now: now)
        let serverSANs = try sanExtension(serverNames)
        let server = try leaf(store, name: "server", ca: ca, now: now,
                              subject: try DistinguishedName { CommonName("kube-apiserver") },
                              usage: .serverAuth, sans: serverSANs)
        let admin = try leaf(store, name: "admin", ca: ca, now: now,
                             subject: try DistinguishedName {
                                 OrganizationName("system:masters")
                                 CommonName("caravel-admin")
                             }, usage: .clientAuth, sans: nil)
        let cm = try leaf(store, name: "controller-manager", ca: ca, now: now,
                          subject: try DistinguishedName { CommonName("system:kube-controller-manager") },
                          usage: .clientAuth, sans: nil)
        let kubeletClient = try leaf(store, name: "apiserver-kubelet-client", ca: ca, now: now,
                                     subject: try DistinguishedName {
                                         OrganizationName("system:masters")
                                         CommonName("kube-apiserver-kubelet-client")
                                     }, usage: .clientAuth, sans: nil)
        let frontProxyClient = try leaf(store, name: "front-proxy-client", ca: ca, now: now,
                                        subject: try DistinguishedName { CommonName("front-proxy-client") }, usage: .clientAuth, sans: nil)
        return PKI(directory: directory, ca: ca.pair, server: server, admin: admin, controllerManager: cm,
                   kubeletClient: kubeletClient, frontProxyClient: frontProxyClient)
    }

    /// The client certificate of node `nodeName`'s kubelet: `CN=system:node:<name>, O=system:nodes`,
    /// as the node authorizer expects. Issued once and kept under `DIR/pki/node-<name>.*`.
    public func nodeClient(_ nodeName: String, now: Date = Date()) throws -> CertificateKeyPair {
        try Self.nodeClient(directory: directory, nodeName: nodeName, now: now)
    }

    /// As `nodeClient(_:)`, touching nothing but the CA and that node's files: safe while a
    /// server runs on the same directory.
    public static func nodeClient(directory: String, nodeName: String, now: Date = Date()) throws -> CertificateKeyPair {
        let store = PEMFiles(directory: directory)
        guard store.read("ca") != nil else { throw PKIError("no CA under \(directory): start `caravel server` once first") }
        let ca = try loadOrCreateCA(store, now: now)
        return try leaf(store, name: "node-" + nodeName, ca: ca, now: now,
                             subject: try DistinguishedName {
                                 OrganizationName("system:nodes")
                                 CommonName("system:node:" + nodeName)
                             }, usage: .clientAuth, sans: nil)
    }

    // MARK: - CA

    private struct Authority {
        var certificate: Certificate
        var key: Certificate.PrivateKey
        var pair: CertificateKeyPair
    }

    private static func loadOrCreateCA(_ store: PEMFiles, now: Date) throws -> Authority {
        if let pair = store.read("ca"), let cert = try? Certificate(pemEncoded: pair.certificatePEM),
           let key = try? Certificate.PrivateKey(pemEncoded: pair.keyPEM), cert.notValidAfter > now,
           cert.publicKey == key.publicKey
        {
            return Authority(certificate: cert, key: key, pair: pair)
        }
        // A new CA invalidates every leaf: they fail the signature check below and are reissued.
        let p256 = P256.Signing.PrivateKey()
        let key = Certificate.PrivateKey(p256)
        let name = try DistinguishedName { CommonName("caravel-ca") }
        let extensions = try Certificate.Extensions {
            Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
            Critical(KeyUsage(digitalSignature: true, keyCertSign: true, cRLSign: true))
            SubjectKeyIdentifier(hash: key.publicKey)
        }
        let cert = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: key.publicKey,
            notValidBefore: now.addingTimeInterval(-300), notValidAfter: now.addingTimeInterval(caValidity),
            issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: extensions, issuerPrivateKey: key)
        let pair = CertificateKeyPair(certificatePEM: try cert.serializeAsPEM().pemString, keyPEM: p256.pemRepresentation)
        try store.write("ca", pair)
        return Authority(certificate: cert, key: key, pair: pair)
    }

    // MARK: - leaves

    private static func leaf(_ store: PEMFiles, name: String, ca: Authority, now: Date, subject: DistinguishedName,
                             usage: ExtendedKeyUsage.Usage, sans: SubjectAlternativeNames?) throws -> CertificateKeyPair {
        if let pair = store.read(name), let cert = try? Certificate(pemEncoded: pair.certificatePEM),
           let key = try? Certificate.PrivateKey(pemEncoded: pair.keyPEM),
           cert.publicKey == key.publicKey, cert.subject == subject, cert.issuer == ca.certificate.subject,
           ca.certificate.publicKey.isValidSignature(cert.signature, for: cert),
           cert.notValidAfter.timeIntervalSince(now) > renewBefore,
           (try? cert.extensions.subjectAlternativeNames) == sans
        {
            return pair
        }
        let p256 = P256.Signing.PrivateKey()
        let key = Certificate.PrivateKey(p256)
        let extensions = try Certificate.Extensions {
            Critical(BasicConstraints.notCertificateAuthority)
            Critical(KeyUsage(digitalSignature: true, keyEncipherment: false))
            try ExtendedKeyUsage([usage])
            SubjectKeyIdentifier(hash: key.publicKey)
            AuthorityKeyIdentifier(keyIdentifier: try ca.certificate.extensions.subjectKeyIdentifier?.keyIdentifier)
            if let sans { sans }
        }
        let notAfter = min(now.addingTimeInterval(leafValidity), ca.certificate.notValidAfter)
        let cert = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: key.publicKey,
            notValidBefore: now.addingTimeInterval(-300), notValidAfter: notAfter,
            issuer: ca.certificate.subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: extensions, issuerPrivateKey: ca.key)
        let pair = CertificateKeyPair(certificatePEM: try cert.serializeAsPEM().pemString, keyPEM: p256.pemRepresentation)
        try store.write(name, pair)
        return pair
    }

    /// DNS names and IP addresses (v4 or v6) as a SAN extension, in the order given.
    static func sanExtension(_ names: [String]) throws -> SubjectAlternativeNames {
        SubjectAlternativeNames(names.map { name in
            if let ip = IPAddressBytes.parse(name) { return .ipAddress(ASN1OctetString(contentBytes: ArraySlice(ip))) }
            return .dnsName(name)
        })
    }
}

/// `NAME.crt` / `NAME.key` in one directory; keys are 0600, written atomically.
struct PEMFiles {
    let directory: String

    func path(_ name: String, _ ext: String) -> String { (directory as NSString).appendingPathComponent("\(name).\(ext)") }

    func read(_ name: String) -> CertificateKeyPair? {
        guard let cert = try? String(contentsOfFile: path(name, "crt"), encoding: .utf8),
              let key = try? String(contentsOfFile: path(name, "key"), encoding: .utf8) else { return nil }
        return CertificateKeyPair(certificatePEM: cert, keyPEM: key)
    }

    func write(_ name: String, _ pair: CertificateKeyPair) throws {
        try SecureFile.writeAtomically(path(name, "key"), pair.keyPEM, mode: 0o600)
        try SecureFile.writeAtomically(path(name, "crt"), pair.certificatePEM, mode: 0o644)
    }
}

/// Textual IP addresses to their network-order bytes.
enum IPAddressBytes {
    static func parse(_ s: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, s, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, s, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }
}
