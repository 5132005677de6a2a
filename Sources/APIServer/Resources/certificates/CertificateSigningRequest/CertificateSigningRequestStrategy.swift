import Foundation
import KubeModel
import SwiftASN1
import X509

/// certificates.k8s.io/v1 CertificateSigningRequest: cluster-scoped; the spec (a PEM request,
/// signer, usages) is fixed at create; `approval` adds Approved/Denied conditions, `status` is
/// where the signer puts the certificate. The requester (`spec.username`, `groups`) is set by
/// admission from the caller, never taken from the body.
public struct CertificateSigningRequestStrategy: ResourceStrategy {
    typealias K = ResourceKit

    public init() {}

    public let definition = ResourceDefinition(
        group: "certificates.k8s.io", versions: ["v1"], kind: "CertificateSigningRequest", plural: "certificatesigningrequests",
        shortNames: ["csr"], namespaced: false, subresources: [.status, .approval],
        schemaNames: ["v1": "io.k8s.api.certificates.v1.CertificateSigningRequest"])

    static let knownUsages: Set<String> = [
        "signing", "digital signature", "content commitment", "key encipherment", "key agreement", "data encipherment",
        "cert sign", "crl sign", "encipher only", "decipher only", "any", "server auth", "client auth", "code signing",
        "email protection", "s/mime", "ipsec end system", "ipsec tunnel", "ipsec user", "timestamping", "ocsp signing",
        "microsoft sgc", "netscape sgc",
    ]

    /// The spec is immutable: an update keeps the stored one, as Kubernetes does.
    public func prepareForUpdate(_ object: inout JSONValue, old: JSONValue) {
        object["spec"] = old["spec"]
    }

    public func validate(_ object: JSONValue) -> [FieldError] {
        var errs: [FieldError] = []
        let spec = object["spec"] ?? .object([:])
        if let request = spec["request"]?.stringValue, !request.isEmpty {
            if let der = Data(base64Encoded: request) {
                do { _ = try CSRSigner.parseRequest(String(decoding: der, as: UTF8.self)) } catch {
                    errs.append(.invalid("spec.request", "[]byte{...}", "\(error)"))
                }
            } else {
                errs.append(.invalid("spec.request", "[]byte{...}", "illegal base64 data"))
            }
        } else {
            errs.append(.required("spec.request", ""))
        }
        let signer = K.string(spec["signerName"])
        if signer.isEmpty {
            errs.append(.required("spec.signerName", ""))
        } else if !Self.isQualifiedSignerName(signer) {
            errs.append(.invalid("spec.signerName", signer, "must be a fully qualified domain and path of the form 'example.com/signer-name'"))
        }
        let usages = (spec["usages"]?.arrayValue ?? []).map { K.string($0) }
        if usages.isEmpty { errs.append(.required("spec.usages", "usages must be provided")) }
        var seen: Set<String> = []
        for (i, u) in usages.enumerated() {
            if !Self.knownUsages.contains(u) { errs.append(.notSupported(K.idx("spec.usages", i), "\"\(u)\"", Self.knownUsages.sorted())) }
            if !seen.insert(u).inserted { errs.append(.duplicate(K.idx("spec.usages", i), "\"\(u)\"")) }
        }
        if let e = spec["expirationSeconds"]?.intValue, e < 600 {
            errs.append(.invalid("spec.expirationSeconds", String(e), "may not specify a duration less than 600 seconds (10 minutes)"))
        }
        return errs + validateConditions(object, old: nil)
    }

    public func validateStatusUpdate(_ object: JSONValue, old: JSONValue) -> [FieldError] {
        validateConditions(object, old: old)
    }

    /// Approved and Denied exclude each other and stay once set; a certificate needs approval,
    /// must be PEM certificates, and is never replaced.
    func validateConditions(_ object: JSONValue, old: JSONValue?) -> [FieldError] {
        var errs: [FieldError] = []
        let conditions = object[path: ["status", "conditions"]]?.arrayValue ?? []
        var types: Set<String> = []
        for (i, c) in conditions.enumerated() {
            let t = K.string(c["type"])
            if t.isEmpty { errs.append(.required(K.idx("status.conditions", i) + ".type", "")) }
            if ["Approved", "Denied", "Failed"].contains(t) {
                if !types.insert(t).inserted { errs.append(.duplicate(K.idx("status.conditions", i) + ".type", "\"\(t)\"")) }
                if K.string(c["status"]) != "True" {
                    errs.append(.notSupported(K.idx("status.conditions", i) + ".status", FieldError.show(c["status"]), ["True"]))
                }
            } else if !["True", "False", "Unknown"].contains(K.string(c["status"])) {
                errs.append(.notSupported(K.idx("status.conditions", i) + ".status", FieldError.show(c["status"]), ["False", "True", "Unknown"]))
            }
        }
        if types.contains("Approved") && types.contains("Denied") {
            errs.append(.invalid("status.conditions", "", "Approved and Denied conditions are mutually exclusive"))
        }
        let cert = K.string(object[path: ["status", "certificate"]])
        if let old {
            let oldTypes = Set((old[path: ["status", "conditions"]]?.arrayValue ?? []).map { K.string($0["type"]) })
            for t in ["Approved", "Denied"] where oldTypes.contains(t) && !types.contains(t) {
                errs.append(.forbidden("status.conditions", "updates may not remove a condition of type \"\(t)\""))
            }
            let oldCert = K.string(old[path: ["status", "certificate"]])
            if !oldCert.isEmpty && cert != oldCert { errs.append(.forbidden("status.certificate", "updates may not modify existing certificate content")) }
        }
        if !cert.isEmpty {
            if !types.contains("Approved") || types.contains("Denied") || types.contains("Failed") {
                errs.append(.forbidden("status.certificate", "certificate may only be set if the Approved condition is present and Denied and Failed are not"))
            }
            let pem = Data(base64Encoded: cert).map { String(decoding: $0, as: UTF8.self) } ?? ""
            let blocks = (try? PEMDocument.parseMultiple(pemString: pem)) ?? []
            if blocks.isEmpty || blocks.contains(where: { $0.discriminator != "CERTIFICATE" || (try? Certificate(derEncoded: $0.derBytes)) == nil }) {
                errs.append(.invalid("status.certificate", "<certificate data>", "must contain at least one PEM CERTIFICATE block"))
            }
        }
        return errs
    }

    /// `domain/path`: a DNS subdomain, a slash, and a non-empty path.
    static func isQualifiedSignerName(_ s: String) -> Bool {
        let parts = s.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[1].isEmpty, s.count <= 571 else { return false }
        return NameValidation.isDNS1123Subdomain(String(parts[0])).isEmpty
    }

    /// `kubectl get csr`'s CONDITION: Approved/Denied/Failed, plus Issued once signed.
    static func condition(_ object: JSONValue) -> String {
        var parts = (object[path: ["status", "conditions"]]?.arrayValue ?? []).compactMap { c -> String? in
            guard K.string(c["status"]) == "True" else { return nil }
            let t = K.string(c["type"])
            return t.isEmpty ? nil : t
        }
        if !K.string(object[path: ["status", "certificate"]]).isEmpty { parts.append("Issued") }
        return parts.isEmpty ? "Pending" : parts.joined(separator: ",")
    }

    public var tableColumns: [TableColumn] {
        [
            TableColumn("Name", format: "name", description: "Name must be unique within a namespace."),
            TableColumn("Age", description: "CreationTimestamp is a timestamp representing the server time when this object was created."),
            TableColumn("SignerName", description: "Requested signer for the request."),
            TableColumn("Requestor", description: "Name of the user which created the request."),
            TableColumn("RequestedDuration", description: "Requested duration of the issued certificate."),
            TableColumn("Condition", description: "Current condition of the request."),
        ]
    }

    public func tableCells(for object: JSONValue, now: Date) -> [JSONValue] {
        let duration = object[path: ["spec", "expirationSeconds"]]?.intValue.map { TableFormat.humanDuration(Double($0)) } ?? "<none>"
        return [.string(object.name ?? ""), .string(TableFormat.age(of: object, now: now)),
                .string(K.string(object[path: ["spec", "signerName"]])), .string(K.string(object[path: ["spec", "username"]])),
                .string(duration), .string(Self.condition(object))]
    }
}
