import Foundation
import Testing
import KubeModel
@testable import KubeClient

@Suite struct KubeconfigTests {
    private let sample = """
        apiVersion: v1
        kind: Config
        current-context: admin@caravel
        clusters:
        - name: caravel
          cluster:
            server: https://127.0.0.1:6443/
            certificate-authority: pki/ca.crt
        - name: plain
          cluster:
            server: http://127.0.0.1:8080
        - name: insecure
          cluster:
            server: https://10.0.0.1
            insecure-skip-tls-verify: true
        contexts:
        - name: admin@caravel
          context: {cluster: caravel, user: admin, namespace: team-a}
        - name: plain
          context: {cluster: plain, user: bot}
        - name: anon
          context: {cluster: insecure}
        - name: broken
          context: {cluster: nowhere, user: admin}
        users:
        - name: admin
          user:
            client-certificate-data: aGVsbG8=
            client-key: /etc/caravel/admin.key
        - name: bot
          user:
            tokenFile: bot.token
        """

    @Test func currentContextWithRelativeFiles() throws {
        let c = try Kubeconfig.parse(yaml: sample, baseDirectory: "/home/me/.kube")
        #expect(c.server == "https://127.0.0.1:6443")
        #expect(c.usesTLS)
        #expect(c.certificateAuthority == .file("/home/me/.kube/pki/ca.crt"))
        #expect(c.clientCertificate == .data(Array("hello".utf8)))
        #expect(c.clientKey == .file("/etc/caravel/admin.key"))
        #expect(c.credential == .none)
        #expect(c.namespace == "team-a")
        #expect(c.contextName == "admin@caravel")
        #expect(!c.insecureSkipTLSVerify)
    }

    @Test func explicitContextTokenFileAndDefaultNamespace() throws {
        let c = try Kubeconfig.parse(yaml: sample, context: "plain", baseDirectory: "/cfg/")
        #expect(c.server == "http://127.0.0.1:8080")
        #expect(!c.usesTLS)
        #expect(c.credential == .tokenFile("/cfg/bot.token"))
        #expect(c.namespace == "default")
    }

    @Test func contextWithoutUserIsAnonymous() throws {
        let c = try Kubeconfig.parse(yaml: sample, context: "anon")
        #expect(c.insecureSkipTLSVerify)
        #expect(c.credential == .none)
        #expect(c.clientCertificate == nil)
    }

    @Test func inlineToken() throws {
        let yaml = """
            current-context: c
            clusters: [{name: k, cluster: {server: "http://h:1"}}]
            contexts: [{name: c, context: {cluster: k, user: u}}]
            users: [{name: u, user: {token: abc.def}}]
            """
        #expect(try Kubeconfig.parse(yaml: yaml).credential == .token("abc.def"))
    }

    private func failure(_ yaml: String, context: String? = nil) -> String? {
        do { _ = try Kubeconfig.parse(yaml: yaml, context: context); return nil } catch let e as KubeconfigError {
            return e.message
        } catch { return "unexpected \(error)" }
    }

    @Test func clearErrors() {
        #expect(failure(sample, context: "missing")?.contains("context \"missing\" not found in contexts (known: admin@caravel, plain, anon, broken)") == true)
        #expect(failure(sample, context: "broken")?.contains("cluster \"nowhere\" not found") == true)
        #expect(failure("clusters: []")?.contains("no current-context") == true)
        #expect(failure("- a list") == "kubeconfig is not a mapping")
        #expect(failure("a: [unclosed")?.hasPrefix("invalid kubeconfig YAML") == true)

        let noServer = """
            current-context: c
            clusters: [{name: k, cluster: {}}]
            contexts: [{name: c, context: {cluster: k}}]
            """
        #expect(failure(noServer) == "cluster \"k\" has no server URL")

        let badScheme = noServer.replacingOccurrences(of: "cluster: {}", with: "cluster: {server: \"ftp://x\"}")
        #expect(failure(badScheme)?.contains("is not an http(s) URL") == true)

        let certNoKey = """
            current-context: c
            clusters: [{name: k, cluster: {server: "https://h"}}]
            contexts: [{name: c, context: {cluster: k, user: u}}]
            users: [{name: u, user: {client-certificate: /c.crt}}]
            """
        #expect(failure(certNoKey) == "user \"u\" has a client certificate but no client key")

        let exec = certNoKey.replacingOccurrences(of: "{client-certificate: /c.crt}", with: "{exec: {command: gcloud}}")
        #expect(failure(exec)?.contains("uses exec credentials, which KubeClient does not support") == true)

        let badBase64 = certNoKey.replacingOccurrences(of: "{client-certificate: /c.crt}",
                                                        with: "{client-certificate-data: \"%%%\", client-key: /k}")
        #expect(failure(badBase64) == "user \"u\": client-certificate-data is not valid base64")

        let both = noServer.replacingOccurrences(
            of: "cluster: {}", with: "cluster: {server: \"https://h\", insecure-skip-tls-verify: true, certificate-authority: /ca}")
        #expect(failure(both)?.contains("both a certificate authority and insecure-skip-tls-verify") == true)
    }

    @Test func transportForPlainHTTPWithToken() throws {
        let c = ClusterConnection(server: "http://127.0.0.1:1", certificateAuthority: .file("/nonexistent"),
                                  credential: .token("t0k"))
        // Plain HTTP never touches TLS material, so the missing CA file is no error.
        #expect(try Transport.tlsConfiguration(for: c) == nil)
        #expect(try Transport.authorization(for: c) == "Bearer t0k")
    }

    @Test func transportNamesUnreadableFiles() {
        let c = ClusterConnection(server: "https://127.0.0.1:1", certificateAuthority: .file("/nonexistent/ca.crt"))
        #expect(throws: KubeconfigError("cannot read certificate authority file /nonexistent/ca.crt")) {
            _ = try Transport.tlsConfiguration(for: c)
        }
    }
}
