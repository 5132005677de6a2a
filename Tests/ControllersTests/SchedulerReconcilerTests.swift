import KubeModel
import KubeTesting
import Testing
@testable import Controllers
@testable import KubeClient

/// The scheduler's reconcile against the recording fake client: concurrent reconciles assume
/// their pods so that neither takes the room the other was given, and a failed binding gives
/// the room back.
@Suite struct SchedulerReconcilerTests {
    typealias F = SchedulerFilterTests
    let client = RecordingClient()
    let pods = ObjectCache()
    let cache = SchedulerCache(clock: ContinuousClock())

    init() {
        // Bindings succeed and answer a Status, as the API server's do.
        client.prependReactor("create", "pods") { action in
            action.subresource == "binding" ? ["kind": "Status", "status": "Success"] : nil
        }
        for name in ["a", "b"] { cache.setNode(F.node(name)) }
    }

    var scheduler: Scheduler { Scheduler(client: client, pods: pods, cache: cache) }

    func pending(_ name: String, cpu: String) {
        client.seed(F.pod(name, cpu: cpu), as: Scheduler.podResource.inNamespace("default"), into: pods)
    }

    func bindings() -> [String: String] {
        var out: [String: String] = [:]
        for a in client.actions(on: "pods") where a.matches("create", "pods", subresource: "binding") {
            out[a.name ?? ""] = a.object?[path: ["target", "name"]]?.stringValue
        }
        return out
    }

    @Test func concurrentReconcilesSeeEachOthersPlacements() async throws {
        pending("p1", cpu: "1500m")
        pending("p2", cpu: "1500m")
        let s = scheduler
        async let r1 = s.reconcile(key: "default/p1")
        async let r2 = s.reconcile(key: "default/p2")
        #expect(try await [r1, r2] == [.done, .done])
        #expect(Set(bindings().values) == ["a", "b"])
        // Both still count on their nodes until the informer shows them bound.
        #expect(cache.isAssumed("default/p1") && cache.isAssumed("default/p2"))
        #expect(cache.nodes.allSatisfy { $0.requested["cpu"] == 1500 })
        // A third does not fit: PodScheduled=False and a FailedScheduling event.
        pending("p3", cpu: "1500m")
        #expect(try await s.reconcile(key: "default/p3") == .requeue(after: .seconds(1)))
        let status = client.actions(on: "pods").last { $0.matches("patch", "pods", subresource: "status") }
        #expect(status?.object?[path: ["status", "conditions"]]?.arrayValue?.first?["message"]?.stringValue
                == "0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.")
        #expect(client.actions(on: "events").contains { $0.object?["reason"]?.stringValue == "FailedScheduling" })
    }

    @Test func aFailedBindingGivesTheNodeBack() async throws {
        client.prependReactor("create", "pods") { action in
            guard action.subresource == "binding" else { return nil }
            throw KubeAPIError(code: 500, reason: "InternalError", message: "disk full")
        }
        pending("p", cpu: "1500m")
        await #expect(throws: KubeAPIError.self) { try await scheduler.reconcile(key: "default/p") }
        #expect(!cache.isAssumed("default/p"))
        #expect(cache.nodes.allSatisfy { ($0.requested["cpu"] ?? 0) == 0 })
    }

    @Test func aConflictingBindingIsDoneAndForgotten() async throws {
        client.prependReactor("create", "pods") { action in
            guard action.subresource == "binding" else { return nil }
            throw KubeAPIError(code: 409, reason: "Conflict", message: "pod p is already assigned to node b")
        }
        pending("p", cpu: "1500m")
        #expect(try await scheduler.reconcile(key: "default/p") == .done)
        #expect(!cache.isAssumed("default/p"))
        #expect(cache.nodes.allSatisfy { ($0.requested["cpu"] ?? 0) == 0 })
    }
}
