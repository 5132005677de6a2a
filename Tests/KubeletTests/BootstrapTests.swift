import Foundation
import Logging
import Testing

@testable import APIServer
@testable import Kubelet

@Suite struct BootstrapTests {
    @Test func kubeletAndServerAgreeOnTheCAHash() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("caravel-boot-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let pki = try PKI.ensure(directory: dir, serverNames: ["localhost"])
        #expect(try KubeletBootstrap.caCertHash(certificatePEM: pki.ca.certificatePEM)
                == CSRSigner.caCertHash(certificatePEM: pki.ca.certificatePEM))
    }

    @Test func reusesOnlyAValidKubeconfigForThisNodeAndCA() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("caravel-boot-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let pki = try PKI.ensure(directory: dir + "/pki", serverNames: ["localhost"])
        let node = try PKI.nodeClient(directory: dir + "/pki", nodeName: "n1")
        let hash = try CSRSigner.caCertHash(certificatePEM: pki.ca.certificatePEM)
        let join = KubeletBootstrap.Join(server: "https://127.0.0.1:1", token: "abcdef.0123456789abcdef", caCertHash: hash)
        let boot = KubeletBootstrap(join: join, nodeName: "n1", rootDirectory: dir, logger: Logger(label: "t"))
        #expect(!boot.reusable(now: Date()))
        try KubeletBootstrap.writePrivate(KubeletBootstrap.kubeconfig(server: join.server, user: "system:node:n1", caPEM: pki.ca.certificatePEM,
                                                                      certPEM: node.certificatePEM, keyPEM: node.keyPEM), to: boot.kubeconfigPath)
        #expect(boot.reusable(now: Date()))
        let attrs = try FileManager.default.attributesOfItem(atPath: boot.kubeconfigPath)
        #expect((attrs[.posixPermissions] as? Int) == 0o600)
        // Another node name, another CA pin, or a certificate near expiry: a new CSR.
        #expect(!KubeletBootstrap(join: join, nodeName: "n2", rootDirectory: dir, logger: Logger(label: "t")).reusable(now: Date()))
        var other = join
        other.caCertHash = "sha256:00"
        #expect(!KubeletBootstrap(join: other, nodeName: "n1", rootDirectory: dir, logger: Logger(label: "t")).reusable(now: Date()))
        #expect(!boot.reusable(now: Date().addingTimeInterval(400 * 86_400)))
    }
}
