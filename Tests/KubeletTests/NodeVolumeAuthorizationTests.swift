import KubeTesting
import APIServer
import Foundation
import KubeClient
import KubeModel
import Testing
@testable import Kubelet

/// A node reads the claims its pods use and their volumes, the volumes pinned to it, and
/// gets 404 for a volume that does not exist (how it learns a local directory can go); every
/// other claim or volume is 403.
@Suite struct NodeVolumeAuthorizationTests {
    static let claims = ResourcePath.core("persistentvolumeclaims", namespace: "default")
    static let volumes = ResourcePath.core("persistentvolumes")

    static func claim(_ name: String) -> JSONValue {
        ["apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": ["name": .string(name)],
         "spec": ["accessModes": ["ReadWriteOnce"], "resources": ["requests": ["storage": "1Gi"]], "storageClassName": ""]]
    }

    static func volume(_ name: String, claim: String? = nil, node: String? = nil) -> JSONValue {
        var spec: JSONValue = ["capacity": ["storage": "1Gi"], "accessModes": ["ReadWriteOnce"], "hostPath": ["path": .string("/srv/\(name)")]]
        if let claim { spec["claimRef"] = ["namespace": "default", "name": .string(claim)] }
        if let node {
            spec["nodeAffinity"] = ["required": ["nodeSelectorTerms": [["matchExpressions": [
                ["key": "kubernetes.io/hostname", "operator": "In", "values": [.string(node)]]]]]]]
        }
        return ["apiVersion": "v1", "kind": "PersistentVolume", "metadata": ["name": .string(name)], "spec": spec]
    }

    @Test(.timeLimit(.minutes(5))) func nodeReadsOnlyTheStorageOfItsPods() async throws {
        try await withInProcessAPIServer { admin, config in
            for name in ["mine", "other"] { _ = try await admin.create(Self.claims.path, Self.claim(name)) }
            _ = try await admin.create(Self.volumes.path, Self.volume("pv-mine", claim: "mine"))
            _ = try await admin.create(Self.volumes.path, Self.volume("pv-other", claim: "other"))
            _ = try await admin.create(Self.volumes.path, Self.volume("pv-pinned", node: "node-a"))
            _ = try await admin.create(Self.volumes.path, Self.volume("pv-elsewhere", node: "node-b"))
            var pod = NodeAuthorizationTests.pod("pod-a", node: "node-a")
            pod[path: ["spec", "volumes"]] = [["name": "d", "persistentVolumeClaim": ["claimName": "mine"]]]
            _ = try await admin.create(NodeAuthorizationTests.pods.path, pod)

            let node = try NodeAuthorizationTests.nodeClient("node-a", admin: admin, config: config)
            func get(_ path: String) async -> Int { await NodeAuthorizationTests.code { _ = try await node.get(path) } }
            let codes = [
                await get(Self.claims.named("mine").path), await get(Self.claims.named("other").path),
                await get(Self.volumes.named("pv-mine").path), await get(Self.volumes.named("pv-other").path),
                await get(Self.volumes.named("pv-pinned").path), await get(Self.volumes.named("pv-elsewhere").path),
                await get(Self.volumes.named("pv-gone").path),
                await NodeAuthorizationTests.code { _ = try await node.list(Self.volumes.path) },
                await NodeAuthorizationTests.code { _ = try await node.delete(Self.claims.named("mine").path) },
            ]
            try await node.shutdown()
            #expect(codes == [200, 403, 200, 403, 200, 403, 404, 403, 403])
        }
    }
}
