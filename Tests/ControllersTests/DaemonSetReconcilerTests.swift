import Foundation
import KubeModel
import KubeTesting
import Testing
@testable import Controllers
@testable import KubeClient

/// The DaemonSet reconciler against the recording fake client: placement by selector and
/// taints, the daemon pod's shape, history, and RollingUpdate steps.
@Suite struct DaemonSetReconcilerTests {
    let client = RecordingClient()
    let daemonSets = ObjectCache()
    let pods = ObjectCache()
    let nodes = ObjectCache()
    let revisions = ObjectCache()

    @discardableResult
    func daemonSet(nodeSelector: JSONValue? = nil, rolling: JSONValue = ["maxUnavailable": 1, "maxSurge": 0]) -> JSONValue {
        var podSpec: JSONValue = ["containers": [["name": "agent", "image": "agent:1"]]]
        if let nodeSelector { podSpec["nodeSelector"] = nodeSelector }
        return client.seed([
            "apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": ["name": "agent", "namespace": "kube-system", "generation": 1],
            "spec": ["selector": ["matchLabels": ["app": "agent"]], "revisionHistoryLimit": 10,
                     "updateStrategy": ["type": "RollingUpdate", "rollingUpdate": rolling],
                     "template": ["metadata": ["labels": ["app": "agent"]], "spec": podSpec]],
        ], as: DaemonSetController.resource, into: daemonSets)
    }

    @discardableResult
    func node(_ name: String, labels: JSONValue = [:], taints: [JSONValue] = [], unschedulable: Bool = false) -> JSONValue {
        client.seed([
            "apiVersion": "v1", "kind": "Node", "metadata": ["name": .string(name), "labels": labels],
            "spec": ["taints": .array(taints), "unschedulable": .bool(unschedulable)],
            "status": ["conditions": [["type": "Ready", "status": "True"]]],
        ], as: DaemonSetController.nodeResource, into: nodes)
    }

    @discardableResult
    func pod(_ name: String, on node: String, owner: JSONValue, hash: String, ready: Bool = true) -> JSONValue {
        client.seed([
            "apiVersion": "v1", "kind": "Pod",
            "metadata": ["name": .string(name), "namespace": "kube-system", "creationTimestamp": "2026-01-01T00:00:00Z",
                         "labels": ["app": "agent", "controller-revision-hash": .string(hash)],
                         "ownerReferences": [ObjectRules.ownerReference(to: owner, apiVersion: "apps/v1", kind: "DaemonSet")]],
            "spec": ["nodeName": .string(node), "containers": [["name": "agent", "image": "agent:0"]]],
            "status": ["phase": "Running", "conditions": [["type": "Ready", "status": ready ? "True" : "False",
                                                           "lastTransitionTime": "2026-01-01T00:00:00Z"]]],
        ], as: DaemonSetController.podResource, into: pods)
    }

    func controller() -> DaemonSetController {
        DaemonSetController(client: client, daemonSets: daemonSets, pods: pods, nodes: nodes, revisions: revisions)
    }

    func currentHash(_ ds: JSONValue) -> String { ControllerHistory.hash(of: ControllerHistory.data(of: ds), collisionCount: 0) }

    @Test func onePodPerEligibleNodeWithTheDaemonTolerations() async throws {
        daemonSet()
        node("plain")
        node("gpu", taints: [["key": "dedicated", "value": "gpu", "effect": "NoSchedule"]])
        node("cordoned", taints: [["key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"]], unschedulable: true)
        node("unreachable", taints: [["key": "node.kubernetes.io/unreachable", "effect": "NoExecute"]])
        _ = try await controller().reconcile(key: "kube-system/agent")

        let revisionCreates = client.actions().filter { $0.matches("create", "controllerrevisions") }
        #expect(revisionCreates.count == 1)
        let revision = try #require(revisionCreates.first?.object)
        #expect(revision["revision"] == 1)
        #expect(revision[path: ["data", "spec", "template", "$patch"]] == "replace")

        let creates = client.actions().filter { $0.matches("create", "pods") }
        let targets = creates.compactMap { $0.object.flatMap(DaemonPlacement.node(of:)) }
        #expect(Set(targets) == ["plain", "cordoned", "unreachable"])
        let pod = try #require(creates.first?.object)
        #expect(pod[path: ["metadata", "labels", "controller-revision-hash"]] == revision[path: ["metadata", "labels", "controller-revision-hash"]])
        #expect(pod[path: ["metadata", "ownerReferences"]]?.arrayValue?.first?["kind"] == "DaemonSet")
        let tolerations = pod[path: ["spec", "tolerations"]]?.arrayValue ?? []
        #expect(Set(tolerations.compactMap { $0["key"]?.stringValue }) == [
            "node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable", "node.kubernetes.io/disk-pressure",
            "node.kubernetes.io/memory-pressure", "node.kubernetes.io/pid-pressure", "node.kubernetes.io/unschedulable"])
        #expect(pod[path: ["spec", "nodeName"]] == nil)

        let status = try #require(client.actions().last { $0.matches("patch", "daemonsets", subresource: "status") })
        #expect(status.object?[path: ["status", "desiredNumberScheduled"]] == 3)
        #expect(status.object?[path: ["status", "currentNumberScheduled"]] == 0)
        #expect(status.object?[path: ["status", "numberUnavailable"]] == 3)
    }

    @Test func podsLeaveNodesThatNoLongerQualifyOrAreGone() async throws {
        let ds = daemonSet(nodeSelector: ["role": "edge"])
        let hash = currentHash(ds)
        node("edge", labels: ["role": "edge"])
        node("core", labels: ["role": "core"])
        pod("agent-edge", on: "edge", owner: ds, hash: hash)
        pod("agent-core", on: "core", owner: ds, hash: hash)
        pod("agent-gone", on: "removed", owner: ds, hash: hash)
        _ = try await controller().reconcile(key: "kube-system/agent")

        let deleted = Set(client.actions().filter { $0.matches("delete", "pods") }.compactMap(\.name))
        #expect(deleted == ["agent-core", "agent-gone"])
        #expect(client.actions().filter { $0.matches("create", "pods") }.isEmpty)
        let status = try #require(client.actions().last { $0.matches("patch", "daemonsets", subresource: "status") })
        #expect(status.object?[path: ["status", "desiredNumberScheduled"]] == 1)
        #expect(status.object?[path: ["status", "numberMisscheduled"]] == 1)
        #expect(status.object?[path: ["status", "updatedNumberScheduled"]] == 1)
    }

    @Test func rollingUpdateReplacesWithinMaxUnavailable() async throws {
        let ds = daemonSet()
        for n in ["a", "b", "c"] {
            node(n)
            pod("agent-\(n)", on: n, owner: ds, hash: "old")
        }
        _ = try await controller().reconcile(key: "kube-system/agent")
        let deletes = client.actions().filter { $0.matches("delete", "pods") }
        #expect(deletes.count == 1)
        #expect(client.actions().filter { $0.matches("create", "pods") }.isEmpty)
    }

    @Test func surgeStartsTheNewPodBesideTheOldOne() {
        let ds = daemonSet(rolling: ["maxUnavailable": 0, "maxSurge": 1])
        let hash = currentHash(ds)
        let nodeList = ["a", "b"].map { node($0) }
        let oldA = pod("agent-a", on: "a", owner: ds, hash: "old")
        let oldB = pod("agent-b", on: "b", owner: ds, hash: "old")
        let start = DaemonNodes(ds: ds, nodes: nodeList, pods: [oldA, oldB], hash: hash, now: Date())
        #expect(start.basicPlan().isEmpty)
        #expect(start.rollingUpdatePlan() == DaemonNodes.Plan(createOn: ["a"], delete: []))

        let newA = pod("agent-a2", on: "a", owner: ds, hash: hash)
        let surged = DaemonNodes(ds: ds, nodes: nodeList, pods: [oldA, oldB, newA], hash: hash, now: Date())
        #expect(surged.basicPlan().isEmpty)
        #expect(surged.rollingUpdatePlan().delete.map(\.name) == ["agent-a"])
        #expect(surged.rollingUpdatePlan().createOn.isEmpty)
    }

    @Test func aChangedTemplateGetsTheNextRevisionAndOldOnesArePruned() async throws {
        var ds = daemonSet()
        ds[path: ["spec", "revisionHistoryLimit"]] = 1
        daemonSets.put(ds)
        for i in 1...3 {
            client.seed([
                "apiVersion": "apps/v1", "kind": "ControllerRevision",
                "metadata": ["name": .string("agent-r\(i)"), "namespace": "kube-system", "labels": ["controller-revision-hash": .string("r\(i)")],
                             "ownerReferences": [ObjectRules.ownerReference(to: ds, apiVersion: "apps/v1", kind: "DaemonSet")]],
                "data": ["spec": ["template": ["metadata": ["labels": ["app": "agent"]], "spec": [:], "$patch": "replace"]]],
                "revision": .int(Int64(i)),
            ], as: ControllerHistory.resource, into: revisions)
        }
        _ = try await controller().reconcile(key: "kube-system/agent")
        let created = try #require(client.actions().first { $0.matches("create", "controllerrevisions") }?.object)
        #expect(created["revision"] == 4)
        // Nothing runs the older revisions: all but the newest one of them go.
        let pruned = Set(client.actions().filter { $0.matches("delete", "controllerrevisions") }.compactMap(\.name))
        #expect(pruned == ["agent-r1", "agent-r2"])
    }

    @Test func onDeleteLeavesOldPodsAndReplacesDeletedOnes() async throws {
        var ds = daemonSet()
        ds[path: ["spec", "updateStrategy"]] = ["type": "OnDelete"]
        daemonSets.put(ds)
        node("a")
        node("b")
        pod("agent-a", on: "a", owner: ds, hash: "old")
        _ = try await controller().reconcile(key: "kube-system/agent")
        #expect(client.actions().filter { $0.matches("delete", "pods") }.isEmpty)
        let creates = client.actions().filter { $0.matches("create", "pods") }
        #expect(creates.compactMap { $0.object.flatMap(DaemonPlacement.node(of:)) } == ["b"])
        #expect(creates.first?.object?.labels["controller-revision-hash"] == currentHash(ds))
    }

    @Test func onlyNodeChangesPlacementReadsWakeTheDaemonSets() {
        let a = node("a", labels: ["disk": "ssd"])
        var heartbeat = a
        heartbeat[path: ["status", "conditions"]] = [["type": "Ready", "status": "True", "lastHeartbeatTime": "2026-01-01T00:00:10Z"]]
        heartbeat[path: ["metadata", "resourceVersion"]] = "9"
        #expect(DaemonPlacement.placementView(of: a) == DaemonPlacement.placementView(of: heartbeat))
        var relabelled = a
        relabelled[path: ["metadata", "labels", "disk"]] = "hdd"
        var tainted = a
        tainted[path: ["spec", "taints"]] = [["key": "k", "effect": "NoSchedule"]]
        var deleting = a
        deleting[path: ["metadata", "deletionTimestamp"]] = "2026-01-01T00:00:00Z"
        for changed in [relabelled, tainted, deleting] {
            #expect(DaemonPlacement.placementView(of: a) != DaemonPlacement.placementView(of: changed))
        }
    }
}
