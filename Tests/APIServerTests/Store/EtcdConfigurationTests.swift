import Foundation
import KubeTesting
import Testing

@testable import APIServer

@Suite struct EtcdConfigurationTests {
    @Test func endpointsParseAsURLs() throws {
        let endpoints = try EtcdConfiguration.parseEndpoints("https://127.0.0.1:2379, http://etcd-1:12379,https://[::1]")
        #expect(endpoints.map(\.description) == ["https://127.0.0.1:2379", "http://etcd-1:12379", "https://::1:2379"])
        #expect(endpoints.map(\.tls) == [true, false, true])
    }

    @Test(arguments: ["", " , ", "127.0.0.1:2379", "ftp://h:1", "https://:2379", "http://h:0", "http://h:70000"])
    func badEndpointsAreRefused(_ value: String) {
        #expect(throws: EtcdConfigurationError.self) { _ = try EtcdConfiguration.parseEndpoints(value) }
    }

    @Test func tlsFlagsGoTogether() throws {
        let https = try EtcdConfiguration.parseEndpoints("https://127.0.0.1:2379")
        #expect(throws: EtcdConfigurationError.self) { try EtcdConfiguration(endpoints: https, certFile: "c.pem").validate() }
        let http = try EtcdConfiguration.parseEndpoints("http://127.0.0.1:2379")
        #expect(throws: EtcdConfigurationError.self) { try EtcdConfiguration(endpoints: http, caFile: "ca.pem").validate() }
        #expect(throws: EtcdConfigurationError.self) { try EtcdConfiguration(endpoints: http, prefix: "registry").validate() }
        #expect(throws: EtcdConfigurationError.self) { try EtcdConfiguration(endpoints: http, prefix: "/registry/").validate() }
        try EtcdConfiguration(endpoints: https, caFile: "ca.pem", certFile: "c.pem", keyFile: "k.pem", prefix: "/cluster-a").validate()
    }

    @Test func keysMapUnderThePrefixAndBack() {
        let layout = EtcdKeyLayout(prefix: "/cluster-a")
        // Kubernetes' layout: built-in resources without their group, with its historical names.
        let cases = [
            ("/registry/apps/deployments/default/web", "/cluster-a/deployments/default/web"),
            ("/registry/core/pods/default/p", "/cluster-a/pods/default/p"),
            ("/registry/core/pods/", "/cluster-a/pods/"),
            ("/registry/core/nodes/n1", "/cluster-a/minions/n1"),
            ("/registry/core/services/default/kubernetes", "/cluster-a/services/specs/default/kubernetes"),
            ("/registry/core/endpoints/default/kubernetes", "/cluster-a/services/endpoints/default/kubernetes"),
            ("/registry/core/replicationcontrollers/ns/rc", "/cluster-a/controllers/ns/rc"),
            ("/registry/coordination.k8s.io/leases/kube-system/apiserver-1", "/cluster-a/leases/kube-system/apiserver-1"),
            ("/registry/rbac.authorization.k8s.io/clusterroles/admin", "/cluster-a/clusterroles/admin"),
            // Groups kept: CRDs, APIServices, custom resources, the server's own records.
            ("/registry/apiextensions.k8s.io/customresourcedefinitions/a.example.com", "/cluster-a/apiextensions.k8s.io/customresourcedefinitions/a.example.com"),
            ("/registry/example.com/widgets/ns/w", "/cluster-a/example.com/widgets/ns/w"),
            ("/registry/ranges/serviceips/10.96.0.1", "/cluster-a/ranges/serviceips/10.96.0.1"),
            ("/registry/", "/cluster-a/"),
        ]
        for (store, etcd) in cases {
            let key = layout.etcdKey(store)
            #expect(String(decoding: key, as: UTF8.self) == etcd)
            #expect(layout.storeKey(key) == store)
        }
        #expect(layout.storeKey(Data("/other/x".utf8)) == nil)
        #expect(EtcdKeyLayout.rangeEnd(forPrefix: Data("/a/".utf8)) == Data("/a0".utf8))
        #expect(EtcdKeyLayout.rangeEnd(forPrefix: Data([0x61, 0xff])) == Data([0x62]))
        #expect(EtcdKeyLayout.successor(Data("k".utf8)) == Data([0x6b, 0]))
    }
}

/// Several endpoints: calls go to the next when one is unreachable.
@Suite struct EtcdFailoverTests {
    @Test func anUnreachableFirstEndpointFailsOverToTheNext() async throws {
        let etcd = try EtcdProcess.start()
        defer { etcd.stop() }
        // Nobody listens on the first port, and nobody can while it is held.
        let deadPort = try BoundLoopbackSocket()
        defer { deadPort.close() }
        let dead = "http://127.0.0.1:\(deadPort.port)"
        let first = try await etcd.connect(historySize: 100)
        first.close()
        let config = EtcdConfiguration(endpoints: try EtcdConfiguration.parseEndpoints("\(dead),\(etcd.clientURL)"))
        let store = try await EtcdStore.connect(config, historySize: 100, compactionInterval: nil, startTimeout: .seconds(5))
        defer { store.close() }
        let created = try await store.create(key: "/registry/core/configmaps/default/a", object: ["metadata": ["name": "a"]])
        #expect(try await store.get(key: "/registry/core/configmaps/default/a")?.revision == created.revision)
        // The watch feed moved on as well.
        let sub = try store.watch(prefix: "/registry/core/configmaps/", after: created.revision - 1)
        defer { sub.cancel() }
        var seen: Int64?
        for await item in sub.items {
            if case .event(let e) = item { seen = e.revision; break }
        }
        #expect(seen == created.revision)
    }
}

/// etcd over TLS asking for client certificates: the store connects with the CA and a client
/// certificate, and without the client certificate it is refused.
@Suite struct EtcdTLSTests {
    /// CA, etcd's serving certificate for 127.0.0.1 and a client certificate, by openssl.
    static func makeCertificates(in dir: URL) throws {
        let script = """
            set -e
            openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 1 -subj /CN=etcd-test-ca 2>/dev/null
            openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=etcd 2>/dev/null
            printf 'subjectAltName=IP:127.0.0.1\\nextendedKeyUsage=serverAuth,clientAuth\\n' > server.ext
            openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 1 -extfile server.ext 2>/dev/null
            openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr -subj /CN=caravel 2>/dev/null
            printf 'extendedKeyUsage=clientAuth\\n' > client.ext
            openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out client.crt -days 1 -extfile client.ext 2>/dev/null
            """
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", script]
        p.currentDirectoryURL = dir
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw StoreError.io("openssl could not make the test certificates (is openssl installed?)") }
    }

    @Test func clientCertificatesAndTheCAAreUsed() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("caravel-etcd-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.makeCertificates(in: dir)
        let file = { (name: String) in dir.appendingPathComponent(name).path }
        let etcd = try EtcdProcess.start(tls: (ca: file("ca.crt"), cert: file("server.crt"), key: file("server.key")))
        defer { etcd.stop() }
        let endpoints = try EtcdConfiguration.parseEndpoints(etcd.clientURL)
        #expect(endpoints.first?.tls == true)
        let config = EtcdConfiguration(endpoints: endpoints, caFile: file("ca.crt"), certFile: file("client.crt"), keyFile: file("client.key"))
        let store = try await etcd.connect(config)
        defer { store.close() }
        let created = try await store.create(key: "/registry/core/configmaps/default/tls", object: ["metadata": ["name": "tls"]])
        #expect(try await store.get(key: "/registry/core/configmaps/default/tls")?.revision == created.revision)
        // Without a client certificate etcd refuses the connection.
        let anonymous = EtcdConfiguration(endpoints: endpoints, caFile: file("ca.crt"))
        await #expect(throws: (any Error).self) {
            let s = try await EtcdStore.connect(anonymous, historySize: 100, compactionInterval: nil, startTimeout: .seconds(1))
            s.close()
        }
    }
}
