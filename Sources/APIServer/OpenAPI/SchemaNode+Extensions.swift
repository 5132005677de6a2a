import KubeModel

extension SchemaNode {
    /// The `x-kubernetes-*` list, map and patch extensions of this node, as both OpenAPI
    /// versions publish them.
    var kubernetesExtensions: [String: JSONValue] {
        var out: [String: JSONValue] = [:]
        if let s = patchStrategy { out["x-kubernetes-patch-strategy"] = .string(s) }
        if let k = patchMergeKey { out["x-kubernetes-patch-merge-key"] = .string(k) }
        if let t = listType { out["x-kubernetes-list-type"] = .string(t) }
        if !listMapKeys.isEmpty { out["x-kubernetes-list-map-keys"] = .array(listMapKeys.map { .string($0) }) }
        if let m = mapType { out["x-kubernetes-map-type"] = .string(m) }
        if preserveUnknownFields { out["x-kubernetes-preserve-unknown-fields"] = true }
        return out
    }
}
