import NIOSSL
import Synchronization
import X509

/// Who a client certificate names, as Kubernetes' x509 authenticator reads it: the common
/// name is the user, each organization a group. The API server and the kubelet server both
/// authenticate clients this way.
public struct CertificateSubject: Sendable, Equatable {
    /// The subject's CN.
    public var name: String
    /// The subject's O values, in order.
    public var groups: [String]

    public init(name: String, groups: [String]) {
        self.name = name
        self.groups = groups
    }

    /// The subject of a certificate the TLS handshake verified; nil without a CN.
    ///
    /// Answers are kept by the certificate's DER bytes (the handshake verified the chain, so
    /// the bytes alone decide): clients present the same certificate on every connection, and
    /// parsing it cost more than the rest of a GET.
    public init?(_ certificate: NIOSSLCertificate) {
        guard let der = try? certificate.toDERBytes() else { return nil }
        if let known = Self.known.withLock({ $0[der] }) {
            self = known
            return
        }
        guard let parsed = Self(der: der) else { return nil }
        Self.known.withLock { known in
            if known.count >= Self.capacity { known.removeAll() }
            known[der] = parsed
        }
        self = parsed
    }

    /// The subject read from DER bytes, without the memo.
    init?(der: [UInt8]) {
        guard let certificate = try? Certificate(derEncoded: der) else { return nil }
        var name = ""
        var groups: [String] = []
        for rdn in certificate.subject {
            for attribute in rdn {
                guard let value = String(attribute.value) else { continue }
                if attribute.type == .RDNAttributeType.commonName {
                    name = value
                } else if attribute.type == .RDNAttributeType.organizationName {
                    groups.append(value)
                }
            }
        }
        guard !name.isEmpty else { return nil }
        self.init(name: name, groups: groups)
    }

    /// Certificates read so far, by DER bytes; emptied when full, since a cluster's clients
    /// share a handful of certificates and a flood of distinct ones should not grow memory.
    private static let known = Mutex<[[UInt8]: CertificateSubject]>([:])
    static let capacity = 1024
}
