import KubeModel
import Testing
@testable import Controllers

@Suite struct PodDeletionOrderTests {
    func pod(_ name: String, node: String? = nil, phase: String = "Pending", ready: Bool = false,
             readySince: String = "2026-01-01T00:00:00Z", restarts: Int64 = 0,
             created: String = "2026-01-01T00:00:00Z") -> JSONValue {
        var p: JSONValue = ["metadata": ["name": .string(name), "creationTimestamp": .string(created)],
                            "spec": [:], "status": ["phase": .string(phase)]]
        if let node { p[path: ["spec", "nodeName"]] = .string(node) }
        p[path: ["status", "conditions"]] = [["type": "Ready", "status": ready ? "True" : "False",
                                              "lastTransitionTime": .string(readySince)]]
        p[path: ["status", "containerStatuses"]] = [["name": "c", "restartCount": .int(restarts)]]
        return p
    }

    func order(_ pods: [JSONValue]) -> [String] { PodDeletionOrder.sorted(pods).map { $0.name ?? "" } }

    @Test func unscheduledBeforeScheduled() {
        #expect(order([pod("on-node", node: "n1"), pod("floating")]) == ["floating", "on-node"])
    }

    @Test func pendingBeforeUnknownBeforeRunning() {
        let pods = [pod("running", node: "n", phase: "Running"), pod("unknown", node: "n", phase: "Unknown"),
                    pod("pending", node: "n", phase: "Pending")]
        #expect(order(pods) == ["pending", "unknown", "running"])
    }

    @Test func notReadyBeforeReadyAndRecentlyReadyBeforeLongReady() {
        let pods = [pod("ready-long", node: "n", phase: "Running", ready: true, readySince: "2026-01-01T00:00:00Z"),
                    pod("not-ready", node: "n", phase: "Running"),
                    pod("ready-recent", node: "n", phase: "Running", ready: true, readySince: "2026-01-01T01:00:00Z")]
        #expect(order(pods) == ["not-ready", "ready-recent", "ready-long"])
    }

    @Test func moreRestartsThenNewerFirst() {
        let pods = [pod("old", created: "2026-01-01T00:00:00Z"), pod("new", created: "2026-01-02T00:00:00Z"),
                    pod("crashy", restarts: 5, created: "2026-01-01T00:00:00Z")]
        #expect(order(pods) == ["crashy", "new", "old"])
    }
}
