import Foundation
import KubeModel

/// POST `pods/{name}/binding`: assigns a pending pod to a node, once (what a scheduler does).
enum PodBinding {
    static let handler = SubresourceHandler(.binding, methods: [.post: "POST"]) { endpoint, name in
        let status = try await bind(endpoint.registry, strategy: endpoint.strategy, namespace: endpoint.info.namespace, name: name,
                                    body: try await endpoint.body(), dryRun: try endpoint.writeOptions().dryRun)
        return ResponseBuilder.json(status, code: 201)
    }

    static func bind(_ registry: Registry, strategy: any ResourceStrategy, namespace: String?, name: String, body: JSONValue,
                     dryRun: Bool) async throws(APIError) -> JSONValue {
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
        let now = Timestamp.format(registry.clock())
        do {
            _ = try await registry.store.update(key: registry.key(def, namespace, name)) { cur in
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
                if dryRun { throw Registry.DryRunResult(object: pod) }
                return pod
            }
        } catch is Registry.DryRunResult {
        } catch {
            throw Registry.storeError(error, def: def, name: name)
        }
        return ["kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Success", "code": 201]
    }
}
