import KubeClient
import KubeModel

/// `apply --prune -l SELECTOR`: deletes objects of kubectl's default prune kinds, in the
/// namespaces applied to, that match the selector, carry the last-applied annotation, and were
/// not in this apply.
struct Pruner {
    /// kubectl's default allow-list (group/version/kind).
    static let kinds: [(String, String)] = [
        ("v1", "ConfigMap"), ("v1", "Endpoints"), ("v1", "Namespace"), ("v1", "PersistentVolumeClaim"),
        ("v1", "PersistentVolume"), ("v1", "Pod"), ("v1", "ReplicationController"), ("v1", "Secret"),
        ("v1", "Service"), ("batch/v1", "Job"), ("batch/v1", "CronJob"), ("networking.k8s.io/v1", "Ingress"),
        ("apps/v1", "DaemonSet"), ("apps/v1", "Deployment"), ("apps/v1", "ReplicaSet"), ("apps/v1", "StatefulSet"),
    ]

    let client: KubeRESTClient
    let session: Session

    func prune(applied: [ManifestTarget], selector: String, dryRun: DryRun) async throws {
        let keep = Set(applied.map { "\($0.resource.groupResource)/\($0.namespace ?? "")/\($0.name)" })
        let namespaces = Set(applied.compactMap(\.namespace))
        let reader = ResourceReader(client: client)
        for (apiVersion, kind) in Self.kinds {
            guard let r = try await session.mapper().resource(apiVersion: apiVersion, kind: kind) else { continue }
            let scopes: [String?] = r.namespaced ? namespaces.sorted().map { Optional($0) } : [nil]
            for ns in scopes {
                let items = try await reader.list(r, namespace: ns, selectors: ["labelSelector": selector]).items
                for item in items {
                    let name = item["metadata"]?["name"]?.stringValue ?? ""
                    guard item["metadata"]?["annotations"]?[ClientSideApply.annotation] != nil,
                          !keep.contains("\(r.groupResource)/\(ns ?? "")/\(name)") else { continue }
                    if dryRun != .client {
                        try await client.delete(r.path(namespace: ns, name: name).path,
                                                options: .object(["propagationPolicy": "Background"]), query: dryRun.query)
                    }
                    Terminal.write("\(r.kindPrefix)/\(name) pruned\(dryRun.suffix)\n")
                }
            }
        }
    }
}
