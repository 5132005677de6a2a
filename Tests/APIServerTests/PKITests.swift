import Foundation
import KubeClient
import NIOSSL
import SwiftASN1
import Testing
import X509

@testable import APIServer

@Suite struct PKITests {
    func withDirectory(_ body: (String) throws -> Void) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("caravel-pki-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try body(dir)
    }

    func cert(_ pair: CertificateKeyPair) throws -> Certificate { try Certificate(pemEncoded: pair.certificatePEM) }

    @Test func leavesChainToTheCA() throws {
        try withDirectory { dir in
            let pki = try PKI.ensure(directory: dir, serverNames: PKI.serverNames(hostName: "node-a"))
            let ca = try cert(pki.ca)
            #expect(try ca.extensions.basicConstraints == .isCertificateAuthority(maxPathLength: nil))
            #expect(ca.publicKey.isValidSignature(ca.signature, for: ca))
            // About ten years.
            #expect(ca.notValidAfter.timeIntervalSinceNow > 9 * 365 * 86_400)
            for pair in [pki.server, pki.admin, pki.controllerManager] {
                let leaf = try cert(pair)
                #expect(leaf.issuer == ca.subject)
                #expect(ca.publicKey.isValidSignature(leaf.signature, for: leaf))
                #expect(try leaf.extensions.basicConstraints == .notCertificateAuthority)
                #expect(leaf.publicKey == (try Certificate.PrivateKey(pemEncoded: pair.keyPEM)).publicKey)
            }
        }
    }

    @Test func serverCertificateNamesEveryWayToReachTheServer() throws {
        try withDirectory { dir in
            let pki = try PKI.ensure(directory: dir, serverNames: PKI.serverNames(hostName: "node-a"))
            let server = try cert(pki.server)
            let sans = try #require(try server.extensions.subjectAlternativeNames)
            let dns = Set(sans.compactMap { if case .dnsName(let n) = $0 { n } else { nil } })
            #expect(dns.isSuperset(of: ["localhost", "node-a", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
                                        "kubernetes.default.svc.cluster.local"]))
            let ips = Set(sans.compactMap { if case .ipAddress(let o) = $0 { Array(o.bytes) } else { nil } })
            #expect(ips.contains([127, 0, 0, 1]))
            #expect(ips.contains([10, 96, 0, 1]))
            #expect(ips.contains([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]))
            #expect(try server.extensions.extendedKeyUsage?.contains(.serverAuth) == true)
        }
    }

    @Test func clientCertificatesCarryUserAndGroups() throws {
        try withDirectory { dir in
            let pki = try PKI.ensure(directory: dir)
            let admin = try cert(pki.admin)
            #expect(admin.subject.description.contains("CN=caravel-admin"))
            #expect(admin.subject.description.contains("O=system:masters"))
            #expect(try admin.extensions.extendedKeyUsage?.contains(.clientAuth) == true)
            #expect(try cert(pki.controllerManager).subject.description == "CN=system:kube-controller-manager")
        }
    }

    @Test func clientCertificateUserIsCNAndGroupsAreO() throws {
        try withDirectory { dir in
            let pki = try PKI.ensure(directory: dir)
            let nio = try NIOSSLCertificate(bytes: Array(pki.admin.certificatePEM.utf8), format: .pem)
            #expect(CertificateSubject(nio) == CertificateSubject(name: "caravel-admin", groups: ["system:masters"]))
            // The second read comes from the memo of DER bytes, and says the same.
            #expect(CertificateSubject(nio) == CertificateSubject(name: "caravel-admin", groups: ["system:masters"]))
            let controllers = try NIOSSLCertificate(bytes: Array(pki.controllerManager.certificatePEM.utf8), format: .pem)
            #expect(CertificateSubject(controllers) == CertificateSubject(name: "system:kube-controller-manager", groups: []))
        }
    }

    @Test func restartReusesFilesAndKeysArePrivate() throws {
        try withDirectory { dir in
            let first = try PKI.ensure(directory: dir)
            let second = try PKI.ensure(directory: dir)
            #expect(first.ca == second.ca)
            #expect(first.server == second.server)
            #expect(first.admin == second.admin)
            #expect(first.controllerManager == second.controllerManager)
            for name in ["ca", "server", "admin", "controller-manager"] {
                let attrs = try FileManager.default.attributesOfItem(atPath: "\(dir)/\(name).key")
                #expect((attrs[.posixPermissions] as? NSNumber)?.intValue == 0o600, "\(name).key")
            }
        }
    }

    @Test func leavesNearExpiryAreReissuedUnderTheSameCA() throws {
        try withDirectory { dir in
            let first = try PKI.ensure(directory: dir)
            // 340 days later the one-year leaves are within 30 days of expiry; the CA is not.
            let later = Date().addingTimeInterval(340 * 86_400)
            let second = try PKI.ensure(directory: dir, now: later)
            #expect(first.ca == second.ca)
            #expect(first.server != second.server)
            #expect(first.admin != second.admin)
            let server = try cert(second.server)
            #expect(server.notValidAfter > later.addingTimeInterval(300 * 86_400))
        }
    }

    @Test func changedServerNamesReissueTheServingCertificate() throws {
        try withDirectory { dir in
            let first = try PKI.ensure(directory: dir, serverNames: PKI.serverNames(hostName: "old-name"))
            let second = try PKI.ensure(directory: dir, serverNames: PKI.serverNames(hostName: "new-name"))
            #expect(first.server != second.server)
            #expect(first.admin == second.admin)
        }
    }

    @Test func tokenFileParsesKubeFormat() throws {
        let tokens = try TokenFile.parse("""
            # comment
            abc123,alice,uid-1,"dev,ops"
            def456,bob,uid-2

            """)
        #expect(tokens["abc123"] == UserInfo(name: "alice", uid: "uid-1", groups: ["dev", "ops"]))
        #expect(tokens["def456"] == UserInfo(name: "bob", uid: "uid-2", groups: []))
        #expect(throws: PKIError.self) { try TokenFile.parse("onlytoken\n") }
    }

    @Test func bearerTokensAuthenticateAndUnknownOnesDoNot() async {
        let auth = Authenticator(tokens: ["t0k": UserInfo(name: "alice", uid: "1", groups: ["dev"])])
        let alice = await auth.authenticate(authorization: "Bearer t0k", certificateSubject: { nil })
        #expect(alice?.name == "alice")
        #expect(alice?.groups == ["dev", "system:authenticated"])
        #expect(await auth.authenticate(authorization: "Bearer nope", certificateSubject: { nil }) == nil)
        #expect(await auth.authenticate(authorization: nil, certificateSubject: { nil }) == nil)
        #expect(Authenticator.bearerToken("bearer \tt0k \t") == "t0k")
        #expect(Authenticator.bearerToken("Bearer  ") == nil)
        #expect(Authenticator.bearerToken("Basic dXNlcjpwdw==") == nil)
        #expect(Authenticator.isPublic("/readyz"))
        #expect(!Authenticator.isPublic("/api/v1/pods"))
    }
}
