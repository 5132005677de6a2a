import Foundation
import KubeClient
import KubeModel

/// Kubernetes' root-ca-cert-publisher: every live namespace has the ConfigMap
/// `kube-root-ca.crt` whose `ca.crt` is the cluster CA, so pods can trust the API server
/// (the token volume mounts it). The CA is the one the manager itself trusts, from its
/// kubeconfig. Keys are namespace names; edits and deletions are undone.
public struct RootCAPublisher: Reconciler {
    static let resource = ResourcePath.core("configmaps")
    static let configMapName = "kube-root-ca.crt"
    static let dataKey = "ca.crt"

    let client: any ResourceClient
    let namespaces: ObjectCache
    let configMaps: ObjectCache
    let caPEM: String

    public func reconcile(key: String) async throws -> ReconcileResult {
        guard let ns = namespaces.get(key), !ObjectRules.isTerminating(ns), let name = ns.name else { return .done }
        let path = Self.resource.inNamespace(name)
        do {
            if let cm = configMaps.get(namespace: name, name: Self.configMapName) {
                guard cm[path: ["data", Self.dataKey]]?.stringValue != caPEM else { return .done }
                var updated = cm
                updated[path: ["data", Self.dataKey]] = .string(caPEM)
                _ = try await client.update(path.named(Self.configMapName).path, updated)
            } else {
                let body: JSONValue = ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": .string(Self.configMapName)],
                                       "data": [Self.dataKey: .string(caPEM)]]
                _ = try await client.create(path.path, body)
            }
        } catch let e as KubeAPIError where e.code == 409 || e.code == 403 || e.isNotFound {
            // A stale cache (the informer will deliver the current object and wake us) or a
            // namespace being deleted.
        }
        return .done
    }

    /// Watches namespaces and `kube-root-ca.crt` ConfigMaps; publishes `caPEM`.
    static func descriptor(client: any ResourceClient, caPEM: String) -> ControllerDescriptor {
        ControllerDescriptor(name: "root-ca-cert-publisher", workers: 1) { wiring in
            let events = handlers(enqueue: wiring.enqueue)
            wiring.watch(NamespaceController.resource, events.namespace)
            wiring.watch(resource, events.configMap)
            return RootCAPublisher(client: client, namespaces: wiring.cache(NamespaceController.resource),
                                   configMaps: wiring.cache(resource), caPEM: caPEM)
        }
    }

    /// Namespace events, and any change to a `kube-root-ca.crt`, wake the namespace.
    static func handlers(enqueue: @escaping @Sendable (String) -> Void) -> (namespace: InformerHandler, configMap: InformerHandler) {
        let namespace = InformerHandler.any { ns in if let n = ns.name { enqueue(n) } }
        let configMap = InformerHandler.any { cm in
            if cm.name == configMapName, let ns = cm.namespace { enqueue(ns) }
        }
        return (namespace, configMap)
    }

    /// The CA PEM the connection trusts, inline or from its file; nil without one.
    static func caPEM(_ connection: ClusterConnection) -> String? {
        switch connection.certificateAuthority {
        case .data(let bytes)?: return String(decoding: bytes, as: UTF8.self)
        case .file(let path)?: return try? String(contentsOfFile: path, encoding: .utf8)
        case nil: return nil
        }
    }
}
