import KubeModel
import Testing
@testable import Controllers

/// The PodTopologySpread filter (DoNotSchedule) as a pure function over literal pods and nodes.
@Suite struct TopologySpreadTests {
    typealias F = SchedulerFilterTests

    static func spread(_ key: String = "zone", maxSkew: Int = 1, when: String = "DoNotSchedule",
                       app: String = "web") -> [String: JSONValue] {
        ["topologySpreadConstraints": [["maxSkew": .int(Int64(maxSkew)), "topologyKey": .string(key),
                                        "whenUnsatisfiable": .string(when),
                                        "labelSelector": ["matchLabels": ["app": .string(app)]]]]]
    }

    static func web(_ name: String) -> JSONValue { F.pod(name, labels: ["app": "web"]) }

    /// Zones a (two nodes), b (one node) and a node without a zone label.
    static func cluster(a1: Int, a2: Int = 0, b: Int) -> [NodeInfo] {
        [F.info(F.node("a1", labels: ["zone": "a"]), (0..<a1).map { web("a1-\($0)") }),
         F.info(F.node("a2", labels: ["zone": "a"]), (0..<a2).map { web("a2-\($0)") }),
         F.info(F.node("b1", labels: ["zone": "b"]), (0..<b).map { web("b1-\($0)") }),
         F.info(F.node("nozone"))]
    }

    static func feasible(_ pod: JSONValue, _ all: [NodeInfo]) -> [String] {
        all.filter { F.fails(pod, $0, all: all).isEmpty }.map(\.name)
    }

    @Test func skewIsCountedPerDomainAgainstTheMinimum() {
        let pod = F.pod("p", labels: ["app": "web"], spec: Self.spread())
        // a has 1, b has 0: only b keeps the skew at 1; the unlabeled node is never eligible.
        #expect(Self.feasible(pod, Self.cluster(a1: 1, b: 0)) == ["b1"])
        // Balanced: every labeled node is fine.
        #expect(Self.feasible(pod, Self.cluster(a1: 1, b: 1)) == ["a1", "a2", "b1"])
        // Pods on both nodes of zone a add up to the zone's count.
        #expect(Self.feasible(pod, Self.cluster(a1: 1, a2: 1, b: 1)) == ["b1"])
    }

    @Test func maxSkewAllowsImbalance() {
        let pod = F.pod("p", labels: ["app": "web"], spec: Self.spread(maxSkew: 2))
        #expect(Self.feasible(pod, Self.cluster(a1: 1, b: 0)) == ["a1", "a2", "b1"])
        #expect(Self.feasible(pod, Self.cluster(a1: 2, b: 0)) == ["b1"])
    }

    @Test func failureIsWordedAsKubernetes() {
        let pod = F.pod("p", labels: ["app": "web"], spec: Self.spread())
        let all = Self.cluster(a1: 1, b: 0)
        #expect(F.fails(pod, all[0], all: all) == [.topologySpread])
        #expect(FilterFailure.topologySpread.description == "node(s) didn't match pod topology spread constraints")
        #expect(F.fails(pod, all[3], all: all) == [.topologySpread])
    }

    @Test func scheduleAnywayAndOtherPodsAreIgnored() {
        let soft = F.pod("p", labels: ["app": "web"], spec: Self.spread(when: "ScheduleAnyway"))
        #expect(Self.feasible(soft, Self.cluster(a1: 3, b: 0)).count == 4)
        // Pods that the selector does not match, or in another namespace, do not count.
        var other = Self.web("x")
        other["metadata"]?["namespace"] = "elsewhere"
        let all = [F.info(F.node("a1", labels: ["zone": "a"]), [F.pod("db", labels: ["app": "db"]), other]),
                   F.info(F.node("b1", labels: ["zone": "b"]))]
        let pod = F.pod("p", labels: ["app": "web"], spec: Self.spread())
        #expect(Self.feasible(pod, all) == ["a1", "b1"])
    }

    @Test func nodesExcludedByNodeSelectorDoNotSetTheMinimum() {
        // Zone b is empty but the pod may only go to zone a, so b's zero is not the minimum.
        var spec = Self.spread()
        spec["nodeSelector"] = ["zone": "a"]
        let pod = F.pod("p", labels: ["app": "web"], spec: spec)
        #expect(Self.feasible(pod, Self.cluster(a1: 3, b: 0)) == ["a1", "a2"])
    }
}
