import Foundation
import KubeModel

extension Registry {
    /// POST `pods/{name}/binding`: assigns a pending pod to a node, once.
    public func bind(_ strategy: any ResourceStrategy, namespace: String?, name: String, body: JSONValue, dryRun: Bool) async throws(APIError) -> JSONValue {
        let def = strategy.definition
        guard body["kind"]?.stringValue == nil || body["kind"]?.stringValue == "Binding" else {
            throw APIError.badRequest("the kind in the request body does not match the expected kind Binding")
        }
        guard let node = body[path: ["target", "name"]]?.stringValue, !node.isEmpty else {
            throw APIError(code: 422, reason: "Invalid", message: "Binding.core \"\(name)\" is invalid: target.name: Required value")
        }
        if let n = body.name, !n.isEmpty, n != name {
            throw APIError.badRequest("the name of the object (\(n)) does not match the name on the URL (\(name))")
        }
        let now = Timestamp.format(clock())
        do {
            _ = try await store.update(key: key(def, namespace, name)) { cur in
                var pod = cur.object
                if let uid = body[path: ["metadata", "uid"]]?.stringValue, !uid.isEmpty, uid != pod.uid {
                    throw APIError.conflict(def, name, "Precondition failed: UID in precondition: \(uid), UID in object meta: \(pod.uid ?? "")")
                }
                if pod[path: ["metadata", "deletionTimestamp"]] != nil {
                    throw APIError.conflict(def, name, "pod \(name) is being deleted, cannot be assigned to a host")
                }
                if let existing = pod[path: ["spec", "nodeName"]]?.stringValue, !existing.isEmpty {
                    throw APIError.conflict(def, name, "pod \(name) is already assigned to node \"\(existing)\"")
                }
                pod[path: ["spec", "nodeName"]] = .string(node)
                var conditions = (pod[path: ["status", "conditions"]]?.arrayValue ?? []).filter { $0["type"]?.stringValue != "PodScheduled" }
                conditions.append(["type": "PodScheduled", "status": "True", "lastProbeTime": .null, "lastTransitionTime": .string(now)])
                pod[path: ["status", "conditions"]] = .array(conditions)
                if dryRun { throw DryRunResult(object: pod) }
                return pod
            }
        } catch is DryRunResult {
        } catch {
            throw Self.storeError(error, def: def, name: name)
        }
        return ["kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Success", "code": 201]
    }
}
