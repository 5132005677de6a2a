import Foundation
import KubeClient
import KubeModel

extension StatefulSetController {
    /// Writes replicas, ready/available/current/updated counts and the two revisions when they
    /// changed. A RollingUpdate whose every pod is updated and ready makes the update revision
    /// current. Asks to look again while a ready pod waits out minReadySeconds.
    func updateStatus(_ set: JSONValue, plan: StatefulSetPlan, owned: [JSONValue], collisionCount: Int) async throws -> ReconcileResult {
        var replicas = 0, ready = 0, available = 0, current = 0, updated = 0
        for pod in owned {
            replicas += 1
            if StatefulSetPlan.isRunningAndReady(pod) { ready += 1 }
            if plan.isHealthy(pod) { available += 1 }
            guard !ObjectRules.isTerminating(pod) else { continue }
            let revision = StatefulSetPlan.revision(of: pod)
            if revision == plan.currentRevision { current += 1 }
            if revision == plan.updateRevision { updated += 1 }
        }
        var currentRevision = plan.currentRevision
        if plan.rollingUpdate, updated == replicas, ready == replicas, replicas == plan.replicas {
            currentRevision = plan.updateRevision
            current = updated
        }
        var status = set["status"] ?? .object([:])
        let before = status
        status["replicas"] = .int(Int64(replicas))
        status["readyReplicas"] = .int(Int64(ready))
        status["availableReplicas"] = .int(Int64(available))
        status["currentReplicas"] = .int(Int64(current))
        status["updatedReplicas"] = .int(Int64(updated))
        status["currentRevision"] = .string(currentRevision)
        status["updateRevision"] = .string(plan.updateRevision)
        status["observedGeneration"] = set[path: ["metadata", "generation"]] ?? .int(1)
        status["collisionCount"] = .int(Int64(collisionCount))
        if status != before {
            var sub = Self.resource.inNamespace(set.namespace).named(set.name ?? "")
            sub.subresource = "status"
            do { _ = try await client.patch(sub.path, ["status": status], type: .merge) } catch let e as KubeAPIError where e.isNotFound {}
        }
        return ready > available ? .requeue(after: .seconds(1)) : .done
    }
}
