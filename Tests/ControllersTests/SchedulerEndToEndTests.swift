import KubeTesting
import APIServer
import Foundation
import KubeClient
import KubeModel
import Logging
import ServiceLifecycle
import Testing
@testable import Controllers

/// The real API server in-process with two fake nodes (no kubelet), the ControllerManager
/// against it over HTTP: the scheduler spreads a Deployment's pods, leaves an unplaceable pod
/// Pending with the reason, respects taints, and retries when nodes change.
@Suite struct SchedulerEndToEndTests {
    static let deployments = ResourcePath(group: "apps", version: "v1", plural: "deployments", namespace: "default")
    static let pods = ResourcePath.core("pods", namespace: "default")
    static let nodes = ResourcePath.core("nodes")
    static let events = ResourcePath.core("events", namespace: "default")

    @Test(.timeLimit(.minutes(5))) func schedulesSpreadsAndExplains() async throws {
        try await withControlPlane(scenario)
    }

    static func node(_ name: String) -> JSONValue {
        let resources: JSONValue = ["cpu": "2", "memory": "4Gi", "pods": "110"]
        return [
            "apiVersion": "v1", "kind": "Node",
            "metadata": ["name": .string(name), "labels": ["kubernetes.io/hostname": .string(name)]],
            "status": [
                "capacity": resources, "allocatable": resources,
                "conditions": [["type": "Ready", "status": "True", "reason": "KubeletReady"]],
            ],
        ]
    }

    static func pod(_ name: String, spec extra: [String: JSONValue]) -> JSONValue {
        var spec: [String: JSONValue] = ["containers": [["name": "c", "image": "busybox"]]]
        for (k, v) in extra { spec[k] = v }
        return ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": .string(name)], "spec": .object(spec)]
    }

    func scenario(_ client: KubeRESTClient) async throws {
        for name in ["node-a", "node-b"] { _ = try await client.create(Self.nodes.path, Self.node(name)) }

        // Four replicas of 500m on two 2-cpu nodes: all bound, two per node.
        let deployment: JSONValue = [
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": ["name": "web"],
            "spec": [
                "replicas": 4,
                "selector": ["matchLabels": ["app": "web"]],
                "template": [
                    "metadata": ["labels": ["app": "web"]],
                    "spec": ["containers": [["name": "web", "image": "nginx", "resources": ["requests": ["cpu": "500m"]]]]],
                ],
            ],
        ]
        _ = try await client.create(Self.deployments.path, deployment)
        var perNode: [String: Int] = [:]
        let spread = try await eventually(timeout: .seconds(30)) {
            let pods = try await items(client, Self.pods).filter { $0.labels["app"] == "web" }
            perNode = Dictionary(grouping: pods.compactMap { $0[path: ["spec", "nodeName"]]?.stringValue }, by: { $0 }).mapValues(\.count)
            return pods.count == 4 && perNode.values.reduce(0, +) == 4
        }
        try #require(spread, "pods per node: \(perNode)")
        #expect(perNode == ["node-a": 2, "node-b": 2])

        // No node has the label: Pending, PodScheduled=False/Unschedulable, a FailedScheduling event.
        _ = try await client.create(Self.pods.path, Self.pod("picky", spec: ["nodeSelector": ["disk": "nvme"]]))
        let expected = "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector."
            + " preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling."
        let explained = try await eventually(timeout: .seconds(20)) {
            let pod = try await client.get(Self.pods.named("picky").path)
            let cond = ObjectRules.condition(pod, "PodScheduled")
            let events = try await items(client, Self.events).filter {
                $0[path: ["involvedObject", "name"]]?.stringValue == "picky" && $0["reason"]?.stringValue == "FailedScheduling"
            }
            return pod[path: ["spec", "nodeName"]] == nil
                && cond?["status"]?.stringValue == "False" && cond?["reason"]?.stringValue == "Unschedulable"
                && cond?["message"]?.stringValue == expected
                && events.contains {
                    $0["type"]?.stringValue == "Warning" && $0["message"]?.stringValue == expected
                        && $0["reportingComponent"]?.stringValue == "default-scheduler"
                        && $0[path: ["involvedObject", "kind"]]?.stringValue == "Pod"
                }
        }
        #expect(explained)

        // A tainted node takes only pods that tolerate the taint.
        let taint: JSONValue = ["spec": ["taints": [["key": "dedicated", "value": "infra", "effect": "NoSchedule"]]]]
        _ = try await client.patch(Self.nodes.named("node-a").path, taint, type: .merge)
        let onA: JSONValue = ["kubernetes.io/hostname": "node-a"]
        _ = try await client.create(Self.pods.path, Self.pod("intolerant", spec: ["nodeSelector": onA]))
        _ = try await client.create(Self.pods.path, Self.pod("tolerant", spec: [
            "nodeSelector": onA, "tolerations": [["key": "dedicated", "operator": "Equal", "value": "infra", "effect": "NoSchedule"]],
        ]))
        let tainted = try await eventually(timeout: .seconds(20)) {
            let tolerant = try await client.get(Self.pods.named("tolerant").path)
            let intolerant = try await client.get(Self.pods.named("intolerant").path)
            return tolerant[path: ["spec", "nodeName"]]?.stringValue == "node-a"
                && intolerant[path: ["spec", "nodeName"]] == nil
                && ObjectRules.condition(intolerant, "PodScheduled")?["message"]?.stringValue
                == "0/2 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) had untolerated taint {dedicated: infra}."
                + " preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling."
        }
        #expect(tainted)

        // A node change re-evaluates waiting pods: labelling node-b lets "picky" in.
        _ = try await client.patch(Self.nodes.named("node-b").path, ["metadata": ["labels": ["disk": "nvme"]]], type: .merge)
        let placed = try await eventually(timeout: .seconds(20)) {
            try await client.get(Self.pods.named("picky").path)[path: ["spec", "nodeName"]]?.stringValue == "node-b"
        }
        #expect(placed)
    }

    func items(_ client: KubeRESTClient, _ resource: ResourcePath) async throws -> [JSONValue] {
        try await client.list(resource.path)["items"]?.arrayValue ?? []
    }
}
