import Foundation
import Testing
@testable import APIServer
import KubeModel

/// The eviction subresource against a real registry over an in-memory SQLite store.
@Suite struct PodEvictionTests {
    let f: AdmissionFixture

    init() throws { f = try AdmissionFixture([]) }

    func runningPod(_ name: String, labels: [String: String] = ["app": "web"], ready: Bool = true) async throws {
        var pod = AdmissionFixture.pod(name)
        pod[path: ["metadata", "labels"]] = .object(labels.mapValues { .string($0) })
        let created = try await f.create("pods", "ns", pod).object
        var status = created
        status["status"] = ["phase": "Running", "conditions": [["type": "Ready", "status": ready ? "True" : "False"]]]
        _ = try await f.registry.update(try f.strategy("pods"), version: "v1", namespace: "ns", name: name, body: status,
                                        target: .status, options: WriteOptions())
    }

    func budget(_ name: String = "web", allowed: Int64, desired: Int64 = 2, current: Int64 = 2,
                selector: JSONValue = ["matchLabels": ["app": "web"]], observedGeneration: Int64? = 1) async throws {
        let created = try await f.create("poddisruptionbudgets", "ns", [
            "apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": ["name": .string(name)],
            "spec": ["minAvailable": .int(desired), "selector": selector],
        ], group: "policy").object
        var body = created
        body["status"] = ["observedGeneration": .int(observedGeneration ?? 0), "disruptionsAllowed": .int(allowed),
                          "currentHealthy": .int(current), "desiredHealthy": .int(desired), "expectedPods": .int(current)]
        _ = try await f.registry.update(try f.strategy("poddisruptionbudgets", group: "policy"), version: "v1", namespace: "ns", name: name,
                                        body: body, target: .status, options: WriteOptions())
    }

    func evict(_ name: String, dryRun: Bool = false) async throws(APIError) -> JSONValue {
        let pods: any ResourceStrategy
        do { pods = try f.strategy("pods") } catch { throw APIError.internalError("pods") }
        let eviction = PodEviction(registry: f.registry, pods: pods, namespace: "ns", name: name)
        return try await eviction.evict(["apiVersion": "policy/v1", "kind": "Eviction", "metadata": ["name": .string(name), "namespace": "ns"]],
                                        options: WriteOptions(dryRun: dryRun))
    }

    func exists(_ name: String) async throws -> Bool {
        do { _ = try await f.registry.get(try f.strategy("pods"), version: "v1", namespace: "ns", name: name); return true } catch let e as APIError where e.code == 404 { return false }
    }

    func storedBudget(_ name: String = "web") async throws -> JSONValue {
        try await f.registry.get(try f.strategy("poddisruptionbudgets", group: "policy"), version: "v1", namespace: "ns", name: name)
    }

    @Test func withoutABudgetTheEvictionDeletes() async throws {
        try await f.namespace("ns")
        try await runningPod("a")
        let answer = try await evict("a")
        #expect(answer["status"] == "Success" && answer["code"] == 201)
        #expect(try await exists("a") == false)
    }

    @Test func aBudgetWithRoomIsSpentThenRefuses() async throws {
        try await f.namespace("ns")
        try await runningPod("a")
        try await runningPod("b")
        try await budget(allowed: 1, desired: 1)
        _ = try await evict("a")
        #expect(try await exists("a") == false)
        let spent = try await storedBudget()
        #expect(spent[path: ["status", "disruptionsAllowed"]] == 0)
        #expect(spent[path: ["status", "disruptedPods", "a"]]?.stringValue != nil)
        #expect(spent[path: ["status", "conditions"]]?.arrayValue?.first?["reason"] == "InsufficientPods")

        do {
            _ = try await evict("b")
            Issue.record("a spent budget allowed an eviction")
        } catch {
            #expect(error.code == 429 && error.reason == "TooManyRequests")
            #expect(error.message == "Cannot evict pod as it would violate the pod's disruption budget.")
            #expect(error.details?["causes"]?.arrayValue?.first?["reason"] == "DisruptionBudget")
            #expect(error.details?["causes"]?.arrayValue?.first?["message"] == "The disruption budget web needs 1 healthy pods and has 2 currently")
        }
        #expect(try await exists("b"))
    }

    @Test func dryRunSpendsNothing() async throws {
        try await f.namespace("ns")
        try await runningPod("a")
        try await budget(allowed: 1, desired: 1)
        _ = try await evict("a", dryRun: true)
        #expect(try await exists("a"))
        #expect(try await storedBudget()[path: ["status", "disruptionsAllowed"]] == 1)
    }

    @Test func pendingPodsAndOtherSelectorsIgnoreTheBudget() async throws {
        try await f.namespace("ns")
        _ = try await f.create("pods", "ns", AdmissionFixture.pod("pending"))
        try await runningPod("other", labels: ["app": "db"])
        try await budget(allowed: 0)
        _ = try await evict("pending")
        _ = try await evict("other")
        #expect(try await exists("pending") == false)
        #expect(try await exists("other") == false)
    }

    @Test func anUnreadyPodGoesWhileTheHealthyOnesSuffice() async throws {
        try await f.namespace("ns")
        try await runningPod("sick", ready: false)
        try await budget(allowed: 0, desired: 2, current: 2)
        _ = try await evict("sick")
        #expect(try await exists("sick") == false)
        #expect(try await storedBudget()[path: ["status", "disruptionsAllowed"]] == 0)
    }

    @Test func unprocessedBudgetsAndTwoBudgetsRefuse() async throws {
        try await f.namespace("ns")
        try await runningPod("a")
        try await budget(allowed: 5, observedGeneration: 0)
        do {
            _ = try await evict("a")
            Issue.record("a budget the controller has not seen allowed an eviction")
        } catch {
            #expect(error.code == 429)
            #expect(error.details?["causes"]?.arrayValue?.first?["message"] == "The disruption budget web is still being processed by the server.")
        }
        try await budget("second", allowed: 5)
        do {
            _ = try await evict("a")
            Issue.record("two budgets allowed an eviction")
        } catch {
            #expect(error.code == 500)
            #expect(error.message == "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.")
        }
        #expect(try await exists("a"))
    }

    @Test func theBodyMustNameThePod() async throws {
        try await f.namespace("ns")
        try await runningPod("a")
        let eviction = PodEviction(registry: f.registry, pods: try f.strategy("pods"), namespace: "ns", name: "a")
        do {
            _ = try await eviction.evict(["apiVersion": "policy/v1", "kind": "Eviction", "metadata": ["name": "b"]], options: WriteOptions())
            Issue.record("a mismatched name was accepted")
        } catch {
            #expect(error.code == 400)
        }
        #expect(try await exists("a"))
    }

    @Test func budgetValidationAndTable() {
        let s = PodDisruptionBudgetStrategy()
        func spec(_ v: JSONValue) -> JSONValue { ["metadata": ["name": "b"], "spec": v] }
        #expect(s.validate(spec(["minAvailable": 2, "selector": ["matchLabels": ["a": "b"]]])).isEmpty)
        #expect(s.validate(spec(["minAvailable": 1, "maxUnavailable": 1])).map(\.field) == ["spec"])
        #expect(s.validate(spec(["maxUnavailable": "120%"])).map(\.field) == ["spec.maxUnavailable"])
        #expect(s.validate(spec(["minAvailable": -1])).map(\.field) == ["spec.minAvailable"])
        #expect(s.validate(spec(["unhealthyPodEvictionPolicy": "Sometimes"])).map(\.field) == ["spec.unhealthyPodEvictionPolicy"])
        let cells = s.tableCells(for: ["metadata": ["name": "b"], "spec": ["maxUnavailable": "25%"], "status": ["disruptionsAllowed": 1]], now: Date())
        #expect(Array(cells.prefix(4)) == ["b", "N/A", "25%", 1])
    }
}
