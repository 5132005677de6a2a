import Foundation
import KubeModel
import Testing
@testable import Controllers

/// The node lifecycle controller's decisions with a fixed clock: staleness, conditions,
/// taints and the taint manager's eviction times.
@Suite struct NodeLifecycleTests {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    static func node(ready: String = "True", taints: [JSONValue] = []) -> JSONValue {
        [
            "apiVersion": "v1", "kind": "Node",
            "metadata": ["name": "n1", "creationTimestamp": .string(Timestamp.format(t0.addingTimeInterval(-3600)))],
            "spec": ["taints": .array(taints)],
            "status": ["conditions": [
                ["type": "Ready", "status": .string(ready), "reason": "KubeletReady",
                 "lastHeartbeatTime": .string(Timestamp.format(t0.addingTimeInterval(-600)))],
                ["type": "MemoryPressure", "status": "False", "reason": "KubeletHasSufficientMemory"],
            ]],
        ]
    }

    static func lease(renewed: Date) -> JSONValue {
        ["metadata": ["name": "n1", "namespace": "kube-node-lease"], "spec": ["renewTime": .string(Timestamp.formatMicro(renewed))]]
    }

    static func pod(tolerations: [JSONValue]) -> JSONValue {
        ["metadata": ["name": "p", "namespace": "default"], "spec": ["nodeName": "n1", "tolerations": .array(tolerations)]]
    }

    static func keys(_ taints: [JSONValue]) -> Set<String> {
        Set(taints.map { "\($0["key"]?.stringValue ?? ""):\($0["effect"]?.stringValue ?? "")" })
    }

    @Test func staleLeaseMakesNodeUnknownAndUnreachable() throws {
        let node = Self.node()
        // The lease, not the old Ready heartbeat, decides while it exists.
        #expect(!NodeLifecycle.isStale(node: node, lease: Self.lease(renewed: Self.t0.addingTimeInterval(-39)), now: Self.t0, grace: 40))
        let lease = Self.lease(renewed: Self.t0.addingTimeInterval(-41))
        let stale = NodeLifecycle.isStale(node: node, lease: lease, now: Self.t0, grace: 40)
        #expect(stale)
        // Without a lease the Ready heartbeat (10 minutes old) counts.
        #expect(NodeLifecycle.isStale(node: node, lease: nil, now: Self.t0, grace: 40))

        let conditions = try #require(NodeLifecycle.unknownConditions(node, now: Self.t0))
        #expect(conditions.count == 2)
        for c in conditions {
            #expect(c["status"]?.stringValue == "Unknown")
            #expect(c["reason"]?.stringValue == "NodeStatusUnknown")
            #expect(c["lastTransitionTime"]?.stringValue == Timestamp.format(Self.t0))
        }
        var marked = node
        marked[path: ["status", "conditions"]] = .array(conditions)
        #expect(NodeLifecycle.unknownConditions(marked, now: Self.t0) == nil, "already Unknown: nothing to write")

        #expect(NodeLifecycle.health(node: marked, stale: stale) == .unknown)
        let taints = NodeLifecycle.desiredTaints(marked, health: .unknown, now: Self.t0)
        #expect(Self.keys(taints) == ["node.kubernetes.io/unreachable:NoExecute", "node.kubernetes.io/unreachable:NoSchedule"])
        let noExecute = taints.first { $0["effect"]?.stringValue == "NoExecute" }
        #expect(noExecute?["timeAdded"]?.stringValue == Timestamp.format(Self.t0))
    }

    @Test func notReadyNodeGetsNotReadyTaints() {
        let other: JSONValue = ["key": "dedicated", "value": "gpu", "effect": "NoSchedule"]
        let node = Self.node(ready: "False", taints: [other])
        #expect(NodeLifecycle.health(node: node, stale: false) == .notReady)
        let taints = NodeLifecycle.desiredTaints(node, health: .notReady, now: Self.t0)
        #expect(Self.keys(taints) == ["dedicated:NoSchedule", "node.kubernetes.io/not-ready:NoExecute",
                                      "node.kubernetes.io/not-ready:NoSchedule"])
    }

    @Test func recoveredNodeIsUntainted() {
        let added = Timestamp.format(Self.t0.addingTimeInterval(-100))
        let other: JSONValue = ["key": "dedicated", "value": "gpu", "effect": "NoSchedule"]
        let node = Self.node(taints: [
            other,
            ["key": "node.kubernetes.io/unreachable", "effect": "NoExecute", "timeAdded": .string(added)],
            ["key": "node.kubernetes.io/unreachable", "effect": "NoSchedule"],
        ])
        let lease = Self.lease(renewed: Self.t0.addingTimeInterval(-1))
        let stale = NodeLifecycle.isStale(node: node, lease: lease, now: Self.t0, grace: 40)
        #expect(!stale)
        #expect(NodeLifecycle.health(node: node, stale: stale) == .ready)
        #expect(NodeLifecycle.desiredTaints(node, health: .ready, now: Self.t0) == [other])
        // Still unreachable: the taints stay as they are, timeAdded included.
        #expect(NodeLifecycle.desiredTaints(node, health: .unknown, now: Self.t0) == NodeLifecycle.taints(node))
    }

    @Test func tolerationSecondsTimeTheEviction() {
        let added = Self.t0.addingTimeInterval(-100)
        let taints: [JSONValue] = [
            ["key": "node.kubernetes.io/unreachable", "effect": "NoExecute", "timeAdded": .string(Timestamp.format(added))],
            ["key": "node.kubernetes.io/unreachable", "effect": "NoSchedule"],
        ]
        func toleration(_ seconds: Int64?) -> JSONValue {
            var t: JSONValue = ["key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"]
            if let seconds { t["tolerationSeconds"] = .int(seconds) }
            return t
        }
        // No toleration: at once.
        #expect(NodeLifecycle.eviction(pod: Self.pod(tolerations: []), taints: taints, now: Self.t0) == .now)
        // The default 300 s: due 300 s after the taint was added, i.e. 200 s from now.
        let defaulted = Self.pod(tolerations: [toleration(300)])
        #expect(NodeLifecycle.eviction(pod: defaulted, taints: taints, now: Self.t0) == .at(added.addingTimeInterval(300)))
        #expect(NodeLifecycle.eviction(pod: defaulted, taints: taints, now: added.addingTimeInterval(299)) == .at(added.addingTimeInterval(300)))
        #expect(NodeLifecycle.eviction(pod: defaulted, taints: taints, now: added.addingTimeInterval(300)) == .now)
        // Already past a short toleration; the shortest matching one wins.
        #expect(NodeLifecycle.eviction(pod: Self.pod(tolerations: [toleration(600), toleration(30)]), taints: taints, now: Self.t0) == .now)
        // Tolerated forever.
        #expect(NodeLifecycle.eviction(pod: Self.pod(tolerations: [toleration(nil)]), taints: taints, now: Self.t0) == .keep)
        // NoSchedule taints never evict.
        #expect(NodeLifecycle.eviction(pod: Self.pod(tolerations: []), taints: [taints[1]], now: Self.t0) == .keep)
    }

    @Test func deletableResourcesFromDiscovery() {
        let list: JSONValue = ["resources": [
            ["name": "pods", "namespaced": true, "verbs": ["create", "delete", "deletecollection", "get", "list"]],
            ["name": "pods/status", "namespaced": true, "verbs": ["get", "patch", "update"]],
            ["name": "nodes", "namespaced": false, "verbs": ["delete", "list"]],
            ["name": "bindings", "namespaced": true, "verbs": ["create"]],
            ["name": "configmaps", "namespaced": true, "verbs": ["delete", "list"]],
        ]]
        #expect(NamespaceController.deletableResources(list) == ["pods", "configmaps"])
    }
}
