import KubeClient
import KubeModel

extension Scheduler {
    /// Deletes the victims chosen for `pod`, each with its own grace period, after marking it
    /// `DisruptionTarget` (reason PreemptionByScheduler) and telling it why with an event, as
    /// Kubernetes' scheduler does. The pod waits, nominated to the node, until they are gone.
    func preempt(_ candidate: Preemption.Candidate, for pod: JSONValue) async {
        for victim in candidate.victims {
            let target = victim.pod
            let path = Self.podResource.inNamespace(target.namespace).named(target.name ?? "")
            var conditions = (target[path: ["status", "conditions"]]?.arrayValue ?? []).filter { $0["type"]?.stringValue != "DisruptionTarget" }
            conditions.append([
                "type": "DisruptionTarget", "status": "True", "reason": "PreemptionByScheduler",
                "message": .string("\(Self.name): preempting to accommodate a higher priority pod"),
                "lastProbeTime": .null, "lastTransitionTime": .string(Timestamp.now()),
            ])
            var status = path
            status.subresource = "status"
            // A stale copy loses the race: the condition is a courtesy, the deletion is what counts.
            _ = try? await client.patch(status.path, ["metadata": ["resourceVersion": .string(target.resourceVersion ?? "")],
                                                      "status": ["conditions": .array(conditions)]], type: .merge)
            do {
                _ = try await client.delete(path.path, options: ["preconditions": ["uid": .string(victim.uid)]])
            } catch {
                continue
            }
            cache.markDeleting(key: victim.key, uid: victim.uid)
            await event(target, type: "Normal", reason: "Preempted",
                        message: "Preempted by pod \(pod.uid ?? "") on node \(candidate.node)")
        }
    }
}
