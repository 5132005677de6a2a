import Foundation
import KubeClient
import KubeModel

extension DeploymentController {
    /// Computes the Deployment's status from its ReplicaSets and writes it through `/status`
    /// when it changed; answers the status as it now stands.
    @discardableResult
    func writeStatus(_ d: JSONValue, newRS: JSONValue?, olds: [JSONValue], progressed: Bool = false) async throws -> JSONValue {
        let status = Self.status(of: d, newRS: newRS, olds: olds, now: now(), progressed: progressed)
        if status != (d["status"] ?? .object([:])) { try await patchDeploymentStatus(d, status) }
        return status
    }

    func patchDeploymentStatus(_ d: JSONValue, _ status: JSONValue) async throws {
        var path = Self.resource.inNamespace(d.namespace).named(d.name ?? "")
        path.subresource = "status"
        do { _ = try await client.patch(path.path, ["status": status], type: .merge) } catch let e as KubeAPIError where e.isNotFound {}
    }

    /// The status Kubernetes would report: counts summed over the ReplicaSets, and the
    /// Available and Progressing conditions.
    static func status(of d: JSONValue, newRS: JSONValue?, olds: [JSONValue], now: Date, progressed: Bool = false) -> JSONValue {
        let all = olds + (newRS.map { [$0] } ?? [])
        func sum(_ path: [String]) -> Int { all.reduce(0) { $0 + ObjectRules.int($1[path: path]) } }
        let desired = ObjectRules.int(d[path: ["spec", "replicas"]], default: 1)
        let available = sum(["status", "availableReplicas"])

        var status = d["status"] ?? .object([:])
        status["observedGeneration"] = d[path: ["metadata", "generation"]] ?? .int(1)
        status["replicas"] = .int(Int64(sum(["status", "replicas"])))
        status["updatedReplicas"] = .int(Int64(ObjectRules.int(newRS?[path: ["status", "replicas"]])))
        status["readyReplicas"] = .int(Int64(sum(["status", "readyReplicas"])))
        status["availableReplicas"] = .int(Int64(available))
        status["unavailableReplicas"] = .int(Int64(max(0, sum(["spec", "replicas"]) - available)))

        var conditions = status["conditions"]?.arrayValue ?? []
        let minAvailable = desired - fenceposts(d).unavailable
        if available >= minAvailable {
            setCondition(&conditions, type: "Available", status: "True", reason: "MinimumReplicasAvailable",
                         message: "Deployment has minimum availability.", now: now)
        } else {
            setCondition(&conditions, type: "Available", status: "False", reason: "MinimumReplicasUnavailable",
                         message: "Deployment does not have minimum availability.", now: now)
        }
        let paused = d[path: ["spec", "paused"]]?.boolValue ?? false
        if paused {
            setCondition(&conditions, type: "Progressing", status: "Unknown", reason: "DeploymentPaused",
                         message: "Deployment is paused", now: now)
        } else if let newRS {
            setProgressing(&conditions, d: d, status: status, newRS: newRS, progressed: progressed, now: now)
        }
        status["conditions"] = .array(conditions)
        return status
    }

    /// Every replica updated and available, no old pod left (`DeploymentComplete`).
    static func isComplete(_ d: JSONValue, status: JSONValue) -> Bool {
        let desired = ObjectRules.int(d[path: ["spec", "replicas"]], default: 1)
        return ObjectRules.int(status["updatedReplicas"]) == desired
            && ObjectRules.int(status["replicas"]) == desired
            && ObjectRules.int(status["availableReplicas"]) == desired
            && ObjectRules.int(status["observedGeneration"]) >= ObjectRules.int(d[path: ["metadata", "generation"]], default: 1)
    }

    /// Sets a condition; times move only when something about it changes, so an unchanged
    /// status compares equal and costs no write.
    static func setCondition(_ conditions: inout [JSONValue], type: String, status: String, reason: String,
                             message: String, now: Date) {
        let stamp = JSONValue.string(Timestamp.format(now))
        let index = conditions.firstIndex { $0["type"]?.stringValue == type }
        let old = index.map { conditions[$0] }
        if let old, old["status"]?.stringValue == status, old["reason"]?.stringValue == reason,
           old["message"]?.stringValue == message { return }
        var c: JSONValue = ["type": .string(type), "status": .string(status), "reason": .string(reason),
                            "message": .string(message), "lastUpdateTime": stamp, "lastTransitionTime": stamp]
        if let old, old["status"]?.stringValue == status, let t = old["lastTransitionTime"] { c["lastTransitionTime"] = t }
        if let index { conditions[index] = c } else { conditions.append(c) }
    }
}
