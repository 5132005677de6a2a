import KubeTesting
import Foundation
import KubeClient
import KubeModel
import NIOConcurrencyHelpers
import Testing
@testable import Controllers

/// A node going silent, against the real API server and ControllerManager with a 3 s grace
/// period: two fake nodes whose Leases the test renews, a Deployment spread over them; when
/// one node's Lease stops being renewed it becomes Unknown and tainted, its pods are evicted
/// after their (short) tolerationSeconds and replaced on the other node.
@Suite struct NodeLifecycleEndToEndTests {
    static let deployments = ResourcePath(group: "apps", version: "v1", plural: "deployments", namespace: "default")
    static let pods = ResourcePath.core("pods", namespace: "default")
    static let nodes = ResourcePath.core("nodes")
    static let leases = ResourcePath(group: "coordination.k8s.io", version: "v1", plural: "leases", namespace: "kube-node-lease")
    static let events = ResourcePath.core("events", namespace: "default")

    @Test(.timeLimit(.minutes(5))) func silentNodeIsTaintedAndItsPodsMove() async throws {
        try await withControlPlane(nodeMonitorGracePeriod: .seconds(3), scenario)
    }

    static func lease(_ node: String) -> JSONValue {
        [
            "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
            "metadata": ["name": .string(node), "namespace": "kube-node-lease"],
            "spec": ["holderIdentity": .string(node), "leaseDurationSeconds": 40,
                     "renewTime": .string(Timestamp.formatMicro(Date()))],
        ]
    }

    func scenario(_ client: KubeRESTClient) async throws {
        let renewing = NIOLockedValueBox<Set<String>>(["node-a", "node-b"])
        for name in ["node-a", "node-b"] {
            _ = try await client.create(Self.nodes.path, SchedulerEndToEndTests.node(name))
            _ = try await client.create(Self.leases.path, Self.lease(name))
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            // The kubelets' heartbeat, every 500 ms, for the nodes still alive: the Lease, and
            // the Ready condition a kubelet posts, so that a node the controller saw go silent
            // on a loaded machine (a late renewal) recovers as it would with a real kubelet.
            group.addTask {
                while !Task.isCancelled {
                    for name in renewing.withLockedValue({ $0 }) {
                        let now = JSONValue.string(Timestamp.formatMicro(Date()))
                        let patch: JSONValue = ["spec": ["renewTime": now]]
                        _ = try? await client.patch(Self.leases.named(name).path, patch, type: .merge)
                        let ready: JSONValue = ["status": ["conditions": [["type": "Ready", "status": "True", "reason": "KubeletReady",
                                                                           "lastHeartbeatTime": .string(Timestamp.now())]]]]
                        _ = try? await client.patch(Self.nodes.named(name).path + "/status", ready, type: .merge)
                    }
                    do { try await Task.sleep(for: .milliseconds(500)) } catch { return }
                }
            }
            try await silence(client, renewing: renewing)
            group.cancelAll()
        }
    }

    func silence(_ client: KubeRESTClient, renewing: NIOLockedValueBox<Set<String>>) async throws {
        let toleration: (String) -> JSONValue = { key in
            ["key": .string(key), "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 2]
        }
        let deployment: JSONValue = [
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": ["name": "web"],
            "spec": [
                "replicas": 2,
                "selector": ["matchLabels": ["app": "web"]],
                "template": [
                    "metadata": ["labels": ["app": "web"]],
                    "spec": [
                        "containers": [["name": "web", "image": "nginx"]],
                        "tolerations": [toleration("node.kubernetes.io/unreachable"), toleration("node.kubernetes.io/not-ready")],
                    ],
                ],
            ],
        ]
        _ = try await client.create(Self.deployments.path, deployment)
        var bound: [JSONValue] = []
        let scheduled = try await eventually(timeout: .seconds(30)) {
            bound = try await activeWebPods(client).filter { $0[path: ["spec", "nodeName"]]?.stringValue != nil }
            return bound.count == 2
        }
        try #require(scheduled, "bound pods: \(bound.count)")

        // Silence the node of the first pod; the other keeps its lease.
        let silent = try #require(bound.first?[path: ["spec", "nodeName"]]?.stringValue)
        let alive = silent == "node-a" ? "node-b" : "node-a"
        let doomed = Set(bound.filter { $0[path: ["spec", "nodeName"]]?.stringValue == silent }.compactMap(\.uid))
        renewing.withLockedValue { _ = $0.remove(silent) }

        var node: JSONValue = .null
        let tainted = try await eventually(timeout: .seconds(20)) {
            node = try await client.get(Self.nodes.named(silent).path)
            let ready = ObjectRules.condition(node, "Ready")
            let taints = Set(NodeLifecycle.taints(node).map { "\($0["key"]?.stringValue ?? ""):\($0["effect"]?.stringValue ?? "")" })
            return ready?["status"]?.stringValue == "Unknown" && ready?["reason"]?.stringValue == "NodeStatusUnknown"
                && taints == ["node.kubernetes.io/unreachable:NoExecute", "node.kubernetes.io/unreachable:NoSchedule"]
        }
        try #require(tainted, "node: \(node)")

        // Evicted (terminating: no kubelet finishes them) and replaced on the live node.
        var active: [JSONValue] = []
        let moved = try await eventually(timeout: .seconds(30)) {
            active = try await activeWebPods(client)
            let all = try await client.list(Self.pods.path)["items"]?.arrayValue ?? []
            let evicted = all.filter { doomed.contains($0.uid ?? "") }.allSatisfy(ObjectRules.isTerminating)
            return evicted && active.count == 2
                && active.allSatisfy { $0[path: ["spec", "nodeName"]]?.stringValue == alive }
        }
        try #require(moved, "active pods: \(active.map { "\($0.name ?? ""):\($0[path: ["spec", "nodeName"]] ?? .null)" })")

        // The live node was left alone, and the controller said what it did.
        let other = try await client.get(Self.nodes.named(alive).path)
        #expect(SchedulingFilters.isReady(other))
        #expect(NodeLifecycle.taints(other).isEmpty)
        let reasons = try await eventually(timeout: .seconds(10)) {
            let events = try await client.list(Self.events.path)["items"]?.arrayValue ?? []
            let reasons = Set(events.compactMap { $0["reason"]?.stringValue })
            return reasons.contains("TaintManagerEviction") && reasons.contains("NodeNotReady")
        }
        #expect(reasons)
    }

    /// The Deployment's pods that are neither terminating nor finished.
    func activeWebPods(_ client: KubeRESTClient) async throws -> [JSONValue] {
        let list = try await client.list(Self.pods.path, query: ["labelSelector": "app=web"])
        return (list["items"]?.arrayValue ?? []).filter(ObjectRules.isActive)
    }
}
