import KubeModel
import Testing
@testable import Controllers

/// The scheduler's filters and scores as pure functions over literal pods and nodes.
@Suite struct SchedulerFilterTests {
    static func node(_ name: String, cpu: String = "2", memory: String = "4Gi", pods: String = "110",
                     labels: [String: String] = [:], ready: Bool = true, unschedulable: Bool = false,
                     taints: [JSONValue] = []) -> JSONValue {
        var labelObject: [String: JSONValue] = ["kubernetes.io/hostname": .string(name)]
        for (k, v) in labels { labelObject[k] = .string(v) }
        return [
            "apiVersion": "v1", "kind": "Node",
            "metadata": ["name": .string(name), "labels": .object(labelObject)],
            "spec": ["unschedulable": .bool(unschedulable), "taints": .array(taints)],
            "status": [
                "allocatable": ["cpu": .string(cpu), "memory": .string(memory), "pods": .string(pods)],
                "conditions": [["type": "Ready", "status": ready ? "True" : "False"]],
            ],
        ]
    }

    static func pod(_ name: String, cpu: String? = nil, memory: String? = nil, labels: [String: String] = [:],
                    owner: String? = nil, spec extra: [String: JSONValue] = [:]) -> JSONValue {
        var requests: [String: JSONValue] = [:]
        if let cpu { requests["cpu"] = .string(cpu) }
        if let memory { requests["memory"] = .string(memory) }
        var spec: [String: JSONValue] = ["containers": [["name": "c", "image": "x", "resources": ["requests": .object(requests)]]]]
        for (k, v) in extra { spec[k] = v }
        var meta: JSONValue = ["name": .string(name), "namespace": "default", "uid": .string("uid-" + name),
                               "labels": .object(labels.mapValues { .string($0) })]
        if let owner {
            meta["ownerReferences"] = [["apiVersion": "apps/v1", "kind": "ReplicaSet", "name": .string(owner),
                                        "uid": .string(owner), "controller": true]]
        }
        return ["apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": .object(spec)]
    }

    static func info(_ node: JSONValue, _ pods: [JSONValue] = []) -> NodeInfo { NodeInfo(node: node, pods: pods) }

    static func fails(_ pod: JSONValue, _ info: NodeInfo, all: [NodeInfo]? = nil) -> [FilterFailure] {
        SchedulingFilters.failures(pod: pod, on: info, all: all ?? [info])
    }

    @Test func quantitiesAreParsedIntoSchedulerUnits() {
        let r = PodResources.requests(of: Self.pod("p", cpu: "500m", memory: "1Gi"))
        #expect(r["cpu"] == 500)
        #expect(r["memory"] == 1 << 30)
        let withInit = Self.pod("p", cpu: "250m", spec: ["initContainers": [["name": "i", "resources": ["requests": ["cpu": "1"]]]]])
        #expect(PodResources.requests(of: withInit)["cpu"] == 1000)
        let limitsOnly = Self.pod("p", spec: ["containers": [["name": "c", "resources": ["limits": ["memory": "128Mi"]]]]])
        #expect(PodResources.requests(of: limitsOnly)["memory"] == 128 << 20)
    }

    @Test func resourcesMustFitAllocatableMinusBoundPods() {
        let n = Self.node("a")
        let bound = (0..<3).map { Self.pod("b\($0)", cpu: "500m", memory: "1Gi") }
        #expect(Self.fails(Self.pod("p", cpu: "500m", memory: "1Gi"), Self.info(n, bound)).isEmpty)
        let full = bound + [Self.pod("b3", cpu: "500m")]
        #expect(Self.fails(Self.pod("p", cpu: "1m"), Self.info(n, full)) == [.insufficient("cpu")])
        #expect(Self.fails(Self.pod("p", cpu: "3", memory: "5Gi"), Self.info(n)) == [.insufficient("cpu"), .insufficient("memory")])
        #expect(Self.fails(Self.pod("p"), Self.info(Self.node("a", pods: "1"), [Self.pod("x")])) == [.tooManyPods])
    }

    @Test func nodeMustBeReadyAndSchedulable() {
        #expect(Self.fails(Self.pod("p"), Self.info(Self.node("a", ready: false))) == [.notReady])
        #expect(Self.fails(Self.pod("p"), Self.info(Self.node("a", unschedulable: true))) == [.unschedulable])
        let tolerant = Self.pod("p", spec: ["tolerations": [["key": "node.kubernetes.io/unschedulable", "operator": "Exists"]]])
        #expect(Self.fails(tolerant, Self.info(Self.node("a", unschedulable: true))).isEmpty)
    }

    @Test func nodeSelector() {
        let n = Self.node("a", labels: ["disk": "ssd"])
        #expect(Self.fails(Self.pod("p", spec: ["nodeSelector": ["disk": "ssd"]]), Self.info(n)).isEmpty)
        #expect(Self.fails(Self.pod("p", spec: ["nodeSelector": ["disk": "hdd"]]), Self.info(n)) == [.nodeSelectorMismatch])
    }

    static func affinity(_ expressions: [JSONValue]) -> [String: JSONValue] {
        ["affinity": ["nodeAffinity": ["requiredDuringSchedulingIgnoredDuringExecution": [
            "nodeSelectorTerms": [["matchExpressions": .array(expressions)]]]]]]
    }

    static let operatorCases: [(JSONValue, Bool)] = [
        (["key": "zone", "operator": "In", "values": ["a", "b"]], true),
        (["key": "zone", "operator": "In", "values": ["c"]], false),
        (["key": "zone", "operator": "NotIn", "values": ["c"]], true),
        (["key": "zone", "operator": "NotIn", "values": ["a"]], false),
        (["key": "zone", "operator": "Exists"], true),
        (["key": "gpu", "operator": "Exists"], false),
        (["key": "gpu", "operator": "DoesNotExist"], true),
        (["key": "cores", "operator": "Gt", "values": ["4"]], true),
        (["key": "cores", "operator": "Gt", "values": ["8"]], false),
        (["key": "cores", "operator": "Lt", "values": ["9"]], true),
        (["key": "zone", "operator": "Lt", "values": ["9"]], false),
        (["key": "zone", "operator": "Bogus"], false),
    ]

    @Test
    func nodeAffinityOperators() {
        let n = Self.node("a", labels: ["zone": "a", "cores": "8"])
        for (expression, fits) in Self.operatorCases {
            let failures = Self.fails(Self.pod("p", spec: Self.affinity([expression])), Self.info(n))
            #expect(failures == (fits ? [] : [.nodeSelectorMismatch]), "\(expression)")
        }
    }

    @Test func nodeAffinityTermsAreOredAndEmptyTermsMatchNothing() {
        let n = Self.node("a", labels: ["zone": "a"])
        let ored: [String: JSONValue] = ["affinity": ["nodeAffinity": ["requiredDuringSchedulingIgnoredDuringExecution": [
            "nodeSelectorTerms": [
                ["matchExpressions": [["key": "zone", "operator": "In", "values": ["z"]]]],
                ["matchFields": [["key": "metadata.name", "operator": "In", "values": ["a"]]]],
            ]]]]]
        #expect(Self.fails(Self.pod("p", spec: ored), Self.info(n)).isEmpty)
        let empty: [String: JSONValue] = ["affinity": ["nodeAffinity": ["requiredDuringSchedulingIgnoredDuringExecution": [
            "nodeSelectorTerms": [[:]]]]]]
        #expect(Self.fails(Self.pod("p", spec: empty), Self.info(n)) == [.nodeSelectorMismatch])
    }

    @Test func taintsAndTolerations() {
        let taint: JSONValue = ["key": "dedicated", "value": "gpu", "effect": "NoSchedule"]
        let n = Self.node("a", taints: [taint])
        #expect(Self.fails(Self.pod("p"), Self.info(n)) == [.untoleratedTaint(key: "dedicated", value: "gpu")])
        let ok: [JSONValue] = [
            ["key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"],
            ["key": "dedicated", "value": "gpu"],
            ["key": "dedicated", "operator": "Exists"],
            ["operator": "Exists"],
        ]
        for t in ok { #expect(SchedulingFilters.toleration(t, tolerates: taint), "\(t)") }
        let notOK: [JSONValue] = [
            ["key": "dedicated", "operator": "Equal", "value": "cpu"],
            ["key": "dedicated", "operator": "Exists", "effect": "NoExecute"],
            ["key": "other", "operator": "Exists"],
            ["operator": "Equal"],
        ]
        for t in notOK { #expect(!SchedulingFilters.toleration(t, tolerates: taint), "\(t)") }
        // PreferNoSchedule is a preference, not a filter; NoExecute filters too.
        #expect(Self.fails(Self.pod("p"), Self.info(Self.node("a", taints: [["key": "k", "effect": "PreferNoSchedule"]]))).isEmpty)
        #expect(!Self.fails(Self.pod("p"), Self.info(Self.node("a", taints: [["key": "k", "effect": "NoExecute"]]))).isEmpty)
        let tolerant = Self.pod("p", spec: ["tolerations": [["key": "dedicated", "operator": "Exists"]]])
        #expect(Self.fails(tolerant, Self.info(n)).isEmpty)
    }

    @Test func requiredPodAntiAffinityOnHostname() {
        let anti: [String: JSONValue] = ["affinity": ["podAntiAffinity": ["requiredDuringSchedulingIgnoredDuringExecution": [
            ["labelSelector": ["matchLabels": ["app": "web"]], "topologyKey": "kubernetes.io/hostname"]]]]]
        let a = Self.info(Self.node("a"), [Self.pod("w1", labels: ["app": "web"])])
        let b = Self.info(Self.node("b"), [Self.pod("o1", labels: ["app": "other"])])
        let incoming = Self.pod("w2", labels: ["app": "web"], spec: anti)
        #expect(Self.fails(incoming, a, all: [a, b]) == [.antiAffinity])
        #expect(Self.fails(incoming, b, all: [a, b]).isEmpty)
        // Symmetry: a placed pod's anti-affinity keeps matching newcomers away.
        let guarded = Self.info(Self.node("c"), [Self.pod("w0", labels: ["app": "web"], spec: anti)])
        #expect(Self.fails(Self.pod("plain", labels: ["app": "web"]), guarded, all: [guarded]) == [.existingAntiAffinity])
        #expect(SchedulingScore.schedule(pod: incoming, nodes: [a, b]) == .bind("b"))
    }

    @Test func unschedulableMessageCountsReasonsLikeKubernetes() {
        let nodes = [
            Self.info(Self.node("a", cpu: "100m")),
            Self.info(Self.node("b", labels: ["zone": "x"])),
            Self.info(Self.node("c", labels: ["zone": "x"])),
        ]
        let pod = Self.pod("p", cpu: "500m", spec: ["nodeSelector": ["zone": "y"]])
        #expect(SchedulingScore.schedule(pod: Self.pod("q", cpu: "500m"), nodes: [nodes[0]]) ==
            .unschedulable("0/1 nodes are available: 1 Insufficient cpu."))
        #expect(SchedulingScore.schedule(pod: pod, nodes: nodes) ==
            .unschedulable("0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector."))
        let mixed = Self.pod("p", cpu: "500m", spec: Self.affinity([["key": "kubernetes.io/hostname", "operator": "In", "values": ["a"]]]))
        #expect(SchedulingScore.schedule(pod: mixed, nodes: nodes) ==
            .unschedulable("0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't match Pod's node affinity/selector."))
        #expect(SchedulingScore.schedule(pod: pod, nodes: []) == .unschedulable("no nodes available to schedule pods"))
    }

    @Test func scoringPrefersLeastAllocatedThenSpreadsOwnersThenNames() {
        let empty = [Self.info(Self.node("b")), Self.info(Self.node("a"))]
        #expect(SchedulingScore.schedule(pod: Self.pod("p", cpu: "500m"), nodes: empty) == .bind("a"))
        let busy = [Self.info(Self.node("a"), [Self.pod("x", cpu: "1")]), Self.info(Self.node("b"))]
        #expect(SchedulingScore.schedule(pod: Self.pod("p", cpu: "500m"), nodes: busy) == .bind("b"))
        // Same usage; b already has one of the owner's pods, so a gets the next one.
        let owned = [Self.info(Self.node("a"), [Self.pod("x", cpu: "500m")]),
                     Self.info(Self.node("b"), [Self.pod("y", cpu: "500m", owner: "rs1")])]
        #expect(SchedulingScore.schedule(pod: Self.pod("p", cpu: "500m", owner: "rs1"), nodes: owned) == .bind("a"))
    }

    @Test func onlyPendingPodsForTheDefaultSchedulerAreQueued() {
        #expect(Scheduler.needsScheduling(Self.pod("p")))
        #expect(Scheduler.needsScheduling(Self.pod("p", spec: ["schedulerName": "default-scheduler"])))
        #expect(!Scheduler.needsScheduling(Self.pod("p", spec: ["schedulerName": "other"])))
        #expect(!Scheduler.needsScheduling(Self.pod("p", spec: ["nodeName": "a"])))
    }
}
