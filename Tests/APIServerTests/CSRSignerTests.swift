import Crypto
import Foundation
import KubeModel
import SwiftASN1
import Testing
import X509

@testable import APIServer

@Suite struct CSRSignerTests {
    func withPKI(_ body: (PKI) throws -> Void) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("caravel-csr-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try body(try PKI.ensure(directory: dir, serverNames: ["localhost"]))
    }

    func request(cn: String, orgs: [String]) throws -> String {
        let key = Certificate.PrivateKey(P256.Signing.PrivateKey())
        let subject = try DistinguishedName {
            for o in orgs { OrganizationName(o) }
            CommonName(cn)
        }
        let csr = try CertificateSigningRequest(version: .v1, subject: subject, privateKey: key,
                                                attributes: .init(), signatureAlgorithm: .ecdsaWithSHA256)
        return try csr.serializeAsPEM().pemString
    }

    func csrObject(_ pem: String, signer: String = SignerName.kubeletClient, usages: [String] = ["digital signature", "client auth"]) -> JSONValue {
        ["apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest", "metadata": ["name": "x"],
         "spec": ["request": .string(Data(pem.utf8).base64EncodedString()), "signerName": .string(signer),
                  "usages": .array(usages.map(JSONValue.string))]]
    }

    @Test func signsOnlyNodeIdentitiesForTheKubeletClientSigner() throws {
        try withPKI { pki in
            let signer = try CSRSigner(caCertificatePEM: pki.ca.certificatePEM, caKeyPEM: pki.ca.keyPEM)
            let usages = ["digital signature", "client auth"]
            let pem = try #require(try signer.sign(requestPEM: request(cn: "system:node:n1", orgs: ["system:nodes"]),
                                                   signerName: SignerName.kubeletClient, usages: usages, expirationSeconds: 3600))
            let cert = try Certificate(pemEncoded: pem)
            let ca = try Certificate(pemEncoded: pki.ca.certificatePEM)
            #expect(ca.publicKey.isValidSignature(cert.signature, for: cert))
            #expect(CSRSigner.names(cert.subject) == ("system:node:n1", ["system:nodes"]) ? true : false)
            #expect(cert.notValidAfter.timeIntervalSinceNow < 3700)
            #expect(try cert.extensions.extendedKeyUsage == ExtendedKeyUsage([.clientAuth]))
            for (cn, orgs) in [("alice", ["system:nodes"]), ("system:node:n1", ["system:masters"]), ("system:node:n1", ["system:nodes", "x"]), ("system:node:", ["system:nodes"])] {
                #expect(throws: PKIError.self) {
                    try signer.sign(requestPEM: request(cn: cn, orgs: orgs), signerName: SignerName.kubeletClient, usages: usages, expirationSeconds: nil)
                }
            }
            #expect(throws: PKIError.self) {
                try signer.sign(requestPEM: request(cn: "system:node:n1", orgs: ["system:nodes"]), signerName: SignerName.kubeletClient,
                                usages: ["server auth"], expirationSeconds: nil)
            }
            // Not a signer this CA runs: left alone.
            #expect(try signer.sign(requestPEM: request(cn: "a", orgs: []), signerName: "example.com/other", usages: usages, expirationSeconds: nil) == nil)
            #expect(throws: PKIError.self) {
                try signer.sign(requestPEM: request(cn: "root", orgs: ["system:masters"]), signerName: SignerName.apiServerClient, usages: usages, expirationSeconds: nil)
            }
        }
    }

    @Test func caHashIsSHA256OfTheSubjectPublicKeyInfo() throws {
        try withPKI { pki in
            let cert = try Certificate(pemEncoded: pki.ca.certificatePEM)
            var serializer = DER.Serializer()
            try serializer.serialize(cert.publicKey)
            let spki = serializer.serializedBytes
            let expected = "sha256:" + SHA256.hash(data: spki).map { String(format: "%02x", $0) }.joined()
            #expect(try CSRSigner.caCertHash(certificatePEM: pki.ca.certificatePEM) == expected)
            #expect(expected.count == 7 + 64)
            // DER of an EC P-256 SPKI is 91 bytes.
            #expect(spki.count == 91)
        }
    }

    @Test func strategyValidatesRequestSignerAndUsages() throws {
        let s = CertificateSigningRequestStrategy()
        #expect(s.validate(csrObject(try request(cn: "system:node:n1", orgs: ["system:nodes"]))).isEmpty)
        var bad = csrObject("not pem", signer: "nope", usages: ["bogus", "bogus"])
        let fields = Set(s.validate(bad).map(\.field))
        #expect(fields.isSuperset(of: ["spec.request", "spec.signerName", "spec.usages[0]", "spec.usages[1]"]))
        bad[path: ["spec", "expirationSeconds"]] = 60
        #expect(s.validate(bad).contains { $0.field == "spec.expirationSeconds" })
    }

    @Test func approvalAndCertificateRules() throws {
        let s = CertificateSigningRequestStrategy()
        let old = csrObject(try request(cn: "system:node:n1", orgs: ["system:nodes"]))
        func with(_ types: [String], cert: Bool = false) -> JSONValue {
            var o = old
            o[path: ["status", "conditions"]] = .array(types.map { ["type": .string($0), "status": "True"] })
            if cert { o[path: ["status", "certificate"]] = .string(Data("junk".utf8).base64EncodedString()) }
            return o
        }
        #expect(s.validateStatusUpdate(with(["Approved"]), old: old).isEmpty)
        #expect(!s.validateStatusUpdate(with(["Approved", "Denied"]), old: old).isEmpty)
        #expect(!s.validateStatusUpdate(with([]), old: with(["Approved"])).isEmpty)
        // A certificate needs approval, and must be PEM.
        #expect(!s.validateStatusUpdate(with([], cert: true), old: old).isEmpty)
        #expect(s.validateStatusUpdate(with(["Approved"], cert: true), old: with(["Approved"])).contains { $0.field == "status.certificate" })
        #expect(CertificateSigningRequestStrategy.condition(with(["Approved"])) == "Approved")
        #expect(CertificateSigningRequestStrategy.condition(old) == "Pending")
    }
}
