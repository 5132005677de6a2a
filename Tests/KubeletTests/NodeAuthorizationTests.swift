import KubeTesting
import APIServer
import Foundation
import KubeClient
import KubeModel
import Testing
@testable import Kubelet

/// A kubelet with its own client certificate (CN=system:node:node-a, O=system:nodes) against
/// the real server: it registers and renews its Lease, reads its pods and what they use, and
/// gets 403 for another node's pod, an unrelated Secret and another node's objects.
@Suite struct NodeAuthorizationTests {
    static let pods = ResourcePath.core("pods", namespace: "default")
    static let secrets = ResourcePath.core("secrets", namespace: "default")
    static let configMaps = ResourcePath.core("configmaps", namespace: "default")

    static func pod(_ name: String, node: String, secret: String? = nil, configMap: String? = nil) -> JSONValue {
        var container: JSONValue = ["name": "c", "image": "busybox"]
        var spec: JSONValue = ["nodeName": .string(node), "containers": []]
        if let secret { spec["volumes"] = [["name": "s", "secret": ["secretName": .string(secret)]]] }
        if let configMap {
            container["env"] = [["name": "X", "valueFrom": ["configMapKeyRef": ["name": .string(configMap), "key": "k"]]]]
        }
        spec["containers"] = [container]
        return ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": .string(name)], "spec": spec]
    }

    static func object(_ kind: String, _ name: String) -> JSONValue {
        ["apiVersion": "v1", "kind": .string(kind), "metadata": ["name": .string(name)], "data": ["k": kind == "Secret" ? "dg==" : "v"]]
    }

    /// A client authenticated by node `name`'s certificate, otherwise as the admin's.
    static func nodeClient(_ name: String, admin: KubeRESTClient, config: APIServerConfiguration) throws -> KubeRESTClient {
        let pki = try PKI.ensure(directory: config.pkiDirectory)
        let pair = try pki.nodeClient(name)
        var connection = admin.connection
        connection.clientCertificate = .data(Array(pair.certificatePEM.utf8))
        connection.clientKey = .data(Array(pair.keyPEM.utf8))
        connection.credential = .none
        return try KubeRESTClient(connection: connection)
    }

    static func code(_ body: () async throws -> Void) async -> Int {
        do {
            try await body()
            return 200
        } catch let e as KubeAPIError {
            return e.code
        } catch {
            return -1
        }
    }

    @Test(.timeLimit(.minutes(5))) func kubeletSeesOnlyItsOwn() async throws {
        try await withInProcessAPIServer { admin, config in
            for (kind, name, path) in [("Secret", "mine", Self.secrets), ("Secret", "other", Self.secrets),
                                       ("ConfigMap", "mine-cm", Self.configMaps), ("ConfigMap", "other-cm", Self.configMaps)] {
                _ = try await admin.create(path.path, Self.object(kind, name))
            }
            _ = try await admin.create(Self.pods.path, Self.pod("pod-a", node: "node-a", secret: "mine", configMap: "mine-cm"))
            _ = try await admin.create(Self.pods.path, Self.pod("pod-b", node: "node-b", secret: "other"))

            let a = try Self.nodeClient("node-a", admin: admin, config: config)
            do {
                // The node side works under the node's own identity.
                let reporter = NodeStatusReporter(client: a, nodeName: "node-a", runtimeName: "fake", kubeletPort: 10250,
                                                  hostIP: "10.0.0.1", capacity: FakeNodePool.defaultCapacity,
                                                  logger: NodeStatusTests.logger, pressure: { NodePressure() })
                let node = try await reporter.register()
                await reporter.tick(readiness: .ready)
                try await LeaseHeartbeat(client: a, nodeName: "node-a", nodeUID: node.uid ?? "", logger: NodeStatusTests.logger).renew()
                _ = try await admin.create(ResourcePath.core("nodes").path,
                                           ["apiVersion": "v1", "kind": "Node", "metadata": ["name": "node-b"]])

                #expect(await Self.code { _ = try await a.get(Self.pods.named("pod-a").path) } == 200)
                #expect(await Self.code { _ = try await a.get(Self.pods.named("pod-b").path) } == 403)
                #expect(await Self.code { _ = try await a.get(Self.secrets.named("mine").path) } == 200)
                #expect(await Self.code { _ = try await a.get(Self.secrets.named("other").path) } == 403)
                #expect(await Self.code { _ = try await a.get(Self.configMaps.named("mine-cm").path) } == 200)
                #expect(await Self.code { _ = try await a.get(Self.configMaps.named("other-cm").path) } == 403)
                #expect(await Self.code { _ = try await a.list(Self.secrets.path) } == 403)
                var status = Self.pods.named("pod-b")
                status.subresource = "status"
                #expect(await Self.code { _ = try await a.patch(status.path, ["status": ["message": "x"]]) } == 403)
                status.name = "pod-a"
                #expect(await Self.code { _ = try await a.patch(status.path, ["status": ["message": "x"]]) } == 200)
                let nodeB = ResourcePath.core("nodes").named("node-b")
                #expect(await Self.code { _ = try await a.get(nodeB.path) } == 200)
                #expect(await Self.code { _ = try await a.patch(nodeB.path, ["metadata": ["labels": ["x": "y"]]]) } == 403)
                let leaseB = ResourcePath(group: "coordination.k8s.io", version: "v1", plural: "leases",
                                          namespace: "kube-node-lease", name: "node-b")
                #expect(await Self.code { _ = try await a.get(leaseB.path) } == 403)
                // Services are RBAC's business: system:node may read them.
                #expect(await Self.code { _ = try await a.list(ResourcePath.core("services", namespace: "default").path) } == 200)
                // NetworkPolicy enforcement reads namespaces, policies and every pod; writes none.
                #expect(await Self.code { _ = try await a.list(ResourcePath.core("namespaces").path) } == 200)
                #expect(await Self.code { _ = try await a.list(ResourcePath.core("pods").path) } == 200)
                #expect(await Self.code {
                    _ = try await a.list(ResourcePath(group: "networking.k8s.io", version: "v1", plural: "networkpolicies").path)
                } == 200)
                #expect(await Self.code { _ = try await a.patch(ResourcePath.core("namespaces").named("default").path,
                                                               ["metadata": ["labels": ["x": "y"]]]) } == 403)

                // Once a pod of node-a mounts "other", node-a may read it.
                _ = try await admin.create(Self.pods.path, Self.pod("pod-a2", node: "node-a", secret: "other"))
                #expect(await Self.code { _ = try await a.get(Self.secrets.named("other").path) } == 200)
            } catch {
                try? await a.shutdown()
                throw error
            }
            try await a.shutdown()
        }
    }
}
