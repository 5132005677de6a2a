import KubeClient
import KubeModel

/// The writes a workload controller makes to the pods it controls: adopting an orphan,
/// releasing a pod, deleting one, each guarded so it never acts on a pod that changed or was
/// replaced meanwhile.
enum ControlledPods {
    static let resource = ResourcePath.core("pods")

    /// Makes `owner` the controller of the orphan `pod`; answers the pod as written.
    static func adopt(_ pod: JSONValue, by owner: JSONValue, apiVersion: String, kind: String,
                      client: any ResourceClient) async throws -> JSONValue {
        var refs = pod[path: ["metadata", "ownerReferences"]]?.arrayValue ?? []
        refs.append(ObjectRules.ownerReference(to: owner, apiVersion: apiVersion, kind: kind))
        return try await setOwners(pod, refs, client: client)
    }

    /// Sets ownerReferences with the cached resourceVersion as precondition, so a pod that
    /// changed meanwhile (perhaps adopted by someone else) is a conflict, not an overwrite.
    static func setOwners(_ pod: JSONValue, _ refs: [JSONValue], client: any ResourceClient) async throws -> JSONValue {
        let path = resource.inNamespace(pod.namespace).named(pod.name ?? "").path
        let patch: JSONValue = ["metadata": ["ownerReferences": .array(refs), "resourceVersion": .string(pod.resourceVersion ?? "")]]
        return try await client.patch(path, patch, type: .merge)
    }

    /// Deletes `pod`; the uid precondition keeps a same-named successor safe. `gracePeriodSeconds`
    /// 0 removes it without waiting for a kubelet.
    static func delete(_ pod: JSONValue, gracePeriodSeconds: Int? = nil, client: any ResourceClient) async throws {
        let path = resource.inNamespace(pod.namespace).named(pod.name ?? "").path
        var options: JSONValue = ["apiVersion": "v1", "kind": "DeleteOptions", "preconditions": ["uid": .string(pod.uid ?? "")]]
        if let gracePeriodSeconds { options["gracePeriodSeconds"] = .int(Int64(gracePeriodSeconds)) }
        _ = try await client.delete(path, options: options)
    }
}
