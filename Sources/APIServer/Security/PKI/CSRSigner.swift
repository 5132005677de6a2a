import Crypto
import Foundation
import SwiftASN1
import X509

/// The signer names Caravel issues for, as Kubernetes' built-in signers.
public enum SignerName {
    /// Kubelet client certificates: `CN=system:node:NAME, O=system:nodes`, client auth only.
    public static let kubeletClient = "kubernetes.io/kube-apiserver-client-kubelet"
    /// Any client certificate the API server trusts (not `system:masters`).
    public static let apiServerClient = "kubernetes.io/kube-apiserver-client"
    /// Kubelet serving certificates: node identity, server auth, DNS/IP SANs.
    public static let kubeletServing = "kubernetes.io/kubelet-serving"
    /// Signers that exist (others may be served by external signers, so they are not refused).
    public static let builtin: Set<String> = [kubeletClient, apiServerClient, kubeletServing]
}

/// The cluster CA issuing certificates for approved CertificateSigningRequests, enforcing
/// what each built-in signer may issue (Kubernetes' csrsigning controller).
public struct CSRSigner: Sendable {
    let caCertificate: Certificate
    let caKey: Certificate.PrivateKey
    /// Longest validity issued; a CSR's `expirationSeconds` may ask for less.
    public var maxValidity: TimeInterval = 365 * 86_400

    /// A signer from the CA's PEM certificate and key.
    public init(caCertificatePEM: String, caKeyPEM: String) throws {
        do {
            caCertificate = try Certificate(pemEncoded: caCertificatePEM)
            caKey = try Certificate.PrivateKey(pemEncoded: caKeyPEM)
        } catch {
            throw PKIError("cannot read the signing CA: \(error)")
        }
        guard caKey.publicKey == caCertificate.publicKey else { throw PKIError("the signing key does not match the CA certificate") }
    }

    /// A signer from files (`--cluster-signing-cert-file`, `--cluster-signing-key-file`).
    public init(certificateFile: String, keyFile: String) throws {
        guard let cert = try? String(contentsOfFile: certificateFile, encoding: .utf8) else { throw PKIError("cannot read \(certificateFile)") }
        guard let key = try? String(contentsOfFile: keyFile, encoding: .utf8) else { throw PKIError("cannot read \(keyFile)") }
        try self.init(caCertificatePEM: cert, caKeyPEM: key)
    }

    /// The server's own CA under `DIR/pki`.
    public init(pkiDirectory: String) throws {
        let files = PEMFiles(directory: pkiDirectory)
        try self.init(certificateFile: files.path("ca", "crt"), keyFile: files.path("ca", "key"))
    }

    // MARK: - requests

    /// A PEM `CERTIFICATE REQUEST` whose self-signature holds.
    public static func parseRequest(_ pem: String) throws -> CertificateSigningRequest {
        let csr: CertificateSigningRequest
        do { csr = try CertificateSigningRequest(pemEncoded: pem) } catch {
            throw PKIError("spec.request is not a PEM certificate request: \(error)")
        }
        guard csr.publicKey.isValidSignature(csr.signature, for: csr) else {
            throw PKIError("the certificate request's signature does not verify")
        }
        return csr
    }

    /// CN and O values of a subject.
    public static func names(_ subject: DistinguishedName) -> (commonName: String, organizations: [String]) {
        var cn = ""
        var orgs: [String] = []
        for rdn in subject {
            for a in rdn {
                guard let v = String(a.value) else { continue }
                if a.type == .RDNAttributeType.commonName { cn = v } else if a.type == .RDNAttributeType.organizationName { orgs.append(v) }
            }
        }
        return (cn, orgs)
    }

    /// CN and O of a PEM request, nil when it does not parse or verify.
    public static func subject(ofRequestPEM pem: String) -> (commonName: String, organizations: [String])? {
        guard let csr = try? parseRequest(pem) else { return nil }
        return names(csr.subject)
    }

    /// Requested SANs, split the way the signer rules look at them.
    static func sans(of csr: CertificateSigningRequest) throws -> (dns: [String], ips: Int, other: Int, all: SubjectAlternativeNames?) {
        guard let request = try csr.attributes.extensionRequest, let san = try request.extensions.subjectAlternativeNames else {
            return ([], 0, 0, nil)
        }
        var dns: [String] = [], ips = 0, other = 0
        for name in san {
            switch name {
            case .dnsName(let d): dns.append(d)
            case .ipAddress: ips += 1
            default: other += 1
            }
        }
        return (dns, ips, other, san)
    }

    /// Why a built-in signer refuses this request, or nil when it may be issued. A signer
    /// Caravel does not run answers `notOurs` (left for someone else, as Kubernetes does).
    public enum Verdict: Equatable, Sendable { case ok, notOurs, refused(String) }

    public static func check(_ csr: CertificateSigningRequest, signerName: String, usages: [String]) -> Verdict {
        let (cn, orgs) = names(csr.subject)
        let usageSet = Set(usages)
        let sans: (dns: [String], ips: Int, other: Int, all: SubjectAlternativeNames?)
        do { sans = try Self.sans(of: csr) } catch { return .refused("cannot read the requested extensions: \(error)") }
        let nodeIdentity = orgs == ["system:nodes"] && cn.hasPrefix("system:node:") && cn.count > "system:node:".count
        switch signerName {
        case SignerName.kubeletClient:
            guard nodeIdentity else { return .refused("subject must be CN=system:node:<name>, O=system:nodes, got CN=\(cn), O=\(orgs)") }
            guard sans.all == nil else { return .refused("kubelet client certificates carry no subject alternative names") }
            guard usageSet.contains("client auth"), usageSet.isSubset(of: ["digital signature", "key encipherment", "client auth"]) else {
                return .refused("usages must be client auth with digital signature or key encipherment, got \(usages)")
            }
        case SignerName.apiServerClient:
            guard !cn.isEmpty else { return .refused("subject needs a common name") }
            guard !orgs.contains("system:masters") else { return .refused("this signer does not issue certificates for group system:masters") }
            guard usageSet.contains("client auth"), usageSet.isSubset(of: ["digital signature", "key encipherment", "client auth"]) else {
                return .refused("usages must be client auth with digital signature or key encipherment, got \(usages)")
            }
        case SignerName.kubeletServing:
            guard nodeIdentity else { return .refused("subject must be CN=system:node:<name>, O=system:nodes, got CN=\(cn), O=\(orgs)") }
            guard sans.other == 0, !sans.dns.isEmpty || sans.ips > 0 else {
                return .refused("serving certificates need DNS or IP subject alternative names and nothing else")
            }
            guard usageSet.contains("server auth"), usageSet.isSubset(of: ["digital signature", "key encipherment", "server auth"]) else {
                return .refused("usages must be server auth with digital signature or key encipherment, got \(usages)")
            }
        default:
            return .notOurs
        }
        return .ok
    }

    // MARK: - issuing

    /// A PEM certificate for the request, or nil when `signerName` is not a built-in signer.
    /// Throws `PKIError` when the request breaks the signer's rules.
    public func sign(requestPEM: String, signerName: String, usages: [String], expirationSeconds: Int?,
                     now: Date = Date()) throws -> String? {
        let csr = try Self.parseRequest(requestPEM)
        switch Self.check(csr, signerName: signerName, usages: usages) {
        case .notOurs: return nil
        case .refused(let why): throw PKIError(why)
        case .ok: break
        }
        var validity = maxValidity
        if let s = expirationSeconds { validity = min(validity, TimeInterval(max(s, 600))) }
        let notAfter = min(now.addingTimeInterval(validity), caCertificate.notValidAfter)
        let server = usages.contains("server auth")
        let sans = try Self.sans(of: csr).all
        let extensions = try Certificate.Extensions {
            Critical(BasicConstraints.notCertificateAuthority)
            Critical(KeyUsage(digitalSignature: true, keyEncipherment: usages.contains("key encipherment")))
            try ExtendedKeyUsage([server ? .serverAuth : .clientAuth])
            AuthorityKeyIdentifier(keyIdentifier: try caCertificate.extensions.subjectKeyIdentifier?.keyIdentifier)
            if let sans { sans }
        }
        let cert = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: csr.publicKey,
            notValidBefore: now.addingTimeInterval(-300), notValidAfter: notAfter,
            issuer: caCertificate.subject, subject: csr.subject, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: extensions, issuerPrivateKey: caKey)
        return try cert.serializeAsPEM().pemString
    }

    // MARK: - CA pinning

    /// `sha256:<hex>` of the certificate's SubjectPublicKeyInfo DER, as kubeadm's
    /// `--discovery-token-ca-cert-hash`: it pins the CA's key whatever else the cert says.
    public static func caCertHash(certificatePEM: String) throws -> String {
        let cert = try Certificate(pemEncoded: certificatePEM)
        var serializer = DER.Serializer()
        try serializer.serialize(cert.publicKey)
        return "sha256:" + SHA256.hash(data: serializer.serializedBytes).map { String(format: "%02x", $0) }.joined()
    }
}
