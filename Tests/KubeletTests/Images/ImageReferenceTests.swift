import Foundation
import Testing
@testable import Kubelet

@Suite struct ImageReferenceTests {
    @Test func dockerHubDefaults() throws {
        let busybox = try ImageReference(parsing: "busybox")
        #expect(busybox.registry == "docker.io")
        #expect(busybox.repository == "library/busybox")
        #expect(busybox.tag == "latest")
        #expect(busybox.description == "docker.io/library/busybox:latest")
        let org = try ImageReference(parsing: "caravel/demo-app:1.0")
        #expect(org.registry == "docker.io" && org.repository == "caravel/demo-app" && org.tag == "1.0")
    }

    @Test func registriesPortsAndDigests() throws {
        let local = try ImageReference(parsing: "127.0.0.1:5000/demo:1")
        #expect(local.registry == "127.0.0.1:5000" && local.repository == "demo" && local.tag == "1")
        let noTag = try ImageReference(parsing: "localhost:5000/team/tool")
        #expect(noTag.registry == "localhost:5000" && noTag.repository == "team/tool" && noTag.tag == "latest")
        let digest = "sha256:" + String(repeating: "ab", count: 32)
        let pinned = try ImageReference(parsing: "quay.io/org/app@\(digest)")
        #expect(pinned.tag == nil && pinned.digest == digest && pinned.reference == digest)
        let both = try ImageReference(parsing: "quay.io/org/app:v2@\(digest)")
        #expect(both.tag == "v2" && both.reference == digest)
    }

    @Test func invalidReferences() {
        for bad in ["", "Busybox", "app:bad tag", "app@sha256:short", "a//b", "app:"] {
            #expect(throws: ImageReference.ParseError.self) { try ImageReference(parsing: bad) }
        }
    }

    @Test func defaultPullPolicy() {
        #expect(ImageReference.defaultPullPolicy(for: "busybox") == "Always")
        #expect(ImageReference.defaultPullPolicy(for: "busybox:latest") == "Always")
        #expect(ImageReference.defaultPullPolicy(for: "busybox:1.36") == "IfNotPresent")
        #expect(ImageReference.defaultPullPolicy(for: "busybox@sha256:" + String(repeating: "0", count: 64)) == "IfNotPresent")
    }
}

@Suite struct RegistryConfigTests {
    @Test func challengeParsing() throws {
        let challenge = try #require(AuthChallenge(header: #"Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push""#))
        #expect(challenge.scheme == "bearer")
        #expect(challenge.parameters["scope"] == "repository:a/b:pull,push")
        let url = try #require(challenge.tokenURL(scope: "ignored"))
        #expect(url.hasPrefix("https://auth.example/token?"))
        #expect(url.contains("service=registry.example"))
        #expect(AuthChallenge(header: #"Basic realm="Registry Realm""#)?.scheme == "basic")
        #expect(AuthChallenge.token(fromResponse: Data(#"{"access_token":"t1"}"#.utf8)) == "t1")
    }

    @Test func dockerConfigJSON() {
        let auth = Data("alice:s3cret".utf8).base64EncodedString()
        let json = #"{"auths":{"https://index.docker.io/v1/":{"auth":"\#(auth)"},"127.0.0.1:5000":{"username":"bob","password":"pw"}}}"#
        let credentials = RegistryCredential.fromDockerConfig(Data(json.utf8))
        #expect(credentials["docker.io"] == RegistryCredential(username: "alice", password: "s3cret"))
        #expect(credentials["127.0.0.1:5000"] == RegistryCredential(username: "bob", password: "pw"))
        #expect(RegistryCredential.fromDockerConfig(Data("not json".utf8)).isEmpty)
    }

    @Test func registriesYAMLAndInsecureHosts() throws {
        var hosts = RegistryHosts(insecure: ["127.0.0.1:5000"])
        try hosts.merge(yaml: """
        mirrors:
          "mirror.test:5001":
            endpoint: ["http://127.0.0.1:5001"]
        configs:
          "secure.test":
            auth: {username: u, password: p}
            tls: {insecure_skip_verify: true}
        """)
        #expect(hosts.endpoints(for: "127.0.0.1:5000").map(\.baseURL) == ["http://127.0.0.1:5000"])
        #expect(hosts.endpoints(for: "mirror.test:5001").map(\.baseURL) == ["http://127.0.0.1:5001", "https://mirror.test:5001"])
        #expect(hosts.endpoints(for: "docker.io").map(\.baseURL) == ["https://registry-1.docker.io"])
        #expect(hosts.endpoints(for: "secure.test").first?.skipTLSVerify == true)
        #expect(hosts.credential(for: "secure.test") == RegistryCredential(username: "u", password: "p"))
    }

    @Test func indexPicksLinuxAmd64() throws {
        let index = try ManifestDocument.decode(Data("""
        {"schemaVersion":2,"mediaType":"\(MediaType.ociIndex)","manifests":[
          {"digest":"sha256:aa","size":1,"platform":{"os":"linux","architecture":"arm64"}},
          {"digest":"sha256:bb","size":2,"platform":{"os":"linux","architecture":"amd64"}}]}
        """.utf8))
        #expect(index.isIndex)
        #expect(try index.manifest(for: .node).digest == "sha256:bb")
        let armOnly = ManifestDocument(schemaVersion: 2, mediaType: MediaType.dockerManifestList,
                                       manifests: [Descriptor(mediaType: nil, digest: "sha256:aa", size: 1,
                                                              platform: Platform(architecture: "arm64", os: "linux"))])
        #expect(throws: ImageError.self) { try armOnly.manifest(for: .node) }
    }
}
