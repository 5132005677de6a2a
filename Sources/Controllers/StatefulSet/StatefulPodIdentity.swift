import KubeModel

/// What makes a StatefulSet's pod the one at its ordinal: the name `<set>-<ordinal>`, the
/// `statefulset.kubernetes.io/pod-name` and `apps.kubernetes.io/pod-index` labels, hostname and
/// subdomain (the governing Service), and a claim `<template>-<set>-<ordinal>` per volume claim
/// template mounted as the template's volume.
enum StatefulPodIdentity {
    static let podNameLabel = "statefulset.kubernetes.io/pod-name"
    static let podIndexLabel = "apps.kubernetes.io/pod-index"

    static func podName(set: String, ordinal: Int) -> String { "\(set)-\(ordinal)" }

    /// The ordinal in a pod's name when it is `<set>-<n>`, nil otherwise.
    static func ordinal(of pod: JSONValue, set: String) -> Int? {
        guard let name = pod.name, name.hasPrefix(set + "-") else { return nil }
        let digits = name.dropFirst(set.count + 1)
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber) else { return nil }
        return Int(digits)
    }

    static func claimName(template: String, set: String, ordinal: Int) -> String { "\(template)-\(set)-\(ordinal)" }

    /// The StatefulSet's claim templates.
    static func claimTemplates(_ set: JSONValue) -> [JSONValue] {
        set[path: ["spec", "volumeClaimTemplates"]]?.arrayValue ?? []
    }

    /// A pod of `set` at `ordinal` from `template`, labelled with `revision` (the revision's name).
    static func newPod(set: JSONValue, template: JSONValue, ordinal: Int, revision: String) -> JSONValue {
        let setName = set.name ?? ""
        let name = podName(set: setName, ordinal: ordinal)
        var labels = template[path: ["metadata", "labels"]]?.objectValue ?? [:]
        labels[podNameLabel] = .string(name)
        labels[podIndexLabel] = .string(String(ordinal))
        labels[ControllerHistory.podHashLabel] = .string(revision)
        var meta: JSONValue = [
            "name": .string(name), "labels": .object(labels),
            "ownerReferences": [ObjectRules.ownerReference(to: set, apiVersion: "apps/v1", kind: "StatefulSet")],
        ]
        if let ns = set.namespace { meta["namespace"] = .string(ns) }
        if let annotations = template[path: ["metadata", "annotations"]] { meta["annotations"] = annotations }
        var spec = template["spec"] ?? .object([:])
        spec["hostname"] = .string(name)
        if let service = set[path: ["spec", "serviceName"]]?.stringValue, !service.isEmpty { spec["subdomain"] = .string(service) }
        let claims = claimTemplates(set)
        if !claims.isEmpty {
            var volumes = spec["volumes"]?.arrayValue ?? []
            for claim in claims {
                let volume = claim[path: ["metadata", "name"]]?.stringValue ?? ""
                volumes.removeAll { $0["name"]?.stringValue == volume }
                volumes.append(["name": .string(volume), "persistentVolumeClaim": [
                    "claimName": .string(claimName(template: volume, set: setName, ordinal: ordinal)),
                ]])
            }
            spec["volumes"] = .array(volumes)
        }
        return ["apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec]
    }

    /// The claim for `template` at `ordinal`: the template's metadata and spec, labelled with
    /// the set's matchLabels as Kubernetes does, owned as the retention policy asks (by the
    /// set when `whenDeleted: Delete`).
    static func newClaim(set: JSONValue, template: JSONValue, ordinal: Int) -> JSONValue {
        let setName = set.name ?? ""
        let volume = template[path: ["metadata", "name"]]?.stringValue ?? ""
        var labels = template[path: ["metadata", "labels"]]?.objectValue ?? [:]
        for (k, v) in set[path: ["spec", "selector", "matchLabels"]]?.objectValue ?? [:] { labels[k] = v }
        var meta: JSONValue = ["name": .string(claimName(template: volume, set: setName, ordinal: ordinal))]
        if !labels.isEmpty { meta["labels"] = .object(labels) }
        if let ns = set.namespace { meta["namespace"] = .string(ns) }
        if let annotations = template[path: ["metadata", "annotations"]] { meta["annotations"] = annotations }
        if retention(set, "whenDeleted") == "Delete" { meta["ownerReferences"] = [ownerReference(to: set, kind: "StatefulSet", apiVersion: "apps/v1")] }
        var spec = template["spec"] ?? .object([:])
        if spec["volumeMode"] == nil { spec["volumeMode"] = "Filesystem" }
        return ["apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": meta, "spec": spec]
    }

    /// `Retain` or `Delete` for `whenDeleted` / `whenScaled`.
    static func retention(_ set: JSONValue, _ field: String) -> String {
        set[path: ["spec", "persistentVolumeClaimRetentionPolicy", field]]?.stringValue ?? "Retain"
    }

    /// A non-controller ownerReference: the claim goes with its owner, which does not manage it.
    static func ownerReference(to owner: JSONValue, kind: String, apiVersion: String) -> JSONValue {
        ["apiVersion": .string(apiVersion), "kind": .string(kind), "name": .string(owner.name ?? ""),
         "uid": .string(owner.uid ?? ""), "controller": false, "blockOwnerDeletion": true]
    }
}
