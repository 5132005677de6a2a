import Foundation
import KubeClient
import KubeModel

/// Kubernetes' serviceaccounts controller: every live namespace has a ServiceAccount
/// `default`, made again when deleted. Keys are namespace names. (The API server also makes
/// `default` on first need when no controller runs; both tolerate the other's create.)
public struct ServiceAccountController: Reconciler {
    static let resource = ResourcePath.core("serviceaccounts")
    static let accountName = "default"

    let client: any ResourceClient
    let namespaces: ObjectCache
    let serviceAccounts: ObjectCache

    public func reconcile(key: String) async throws -> ReconcileResult {
        guard let ns = namespaces.get(key), !ObjectRules.isTerminating(ns), let name = ns.name,
              serviceAccounts.get(namespace: name, name: Self.accountName) == nil else { return .done }
        let body: JSONValue = ["apiVersion": "v1", "kind": "ServiceAccount", "metadata": ["name": .string(Self.accountName)]]
        do {
            _ = try await client.create(Self.resource.inNamespace(name).path, body)
        } catch let e as KubeAPIError where e.code == 409 || e.code == 403 || e.isNotFound {
            // Already there (the API server may have made it), or the namespace is going away.
        }
        return .done
    }

    /// Namespace events and deletions of a `default` account wake the namespace.
    static func handlers(enqueue: @escaping @Sendable (String) -> Void) -> (namespace: InformerHandler, account: InformerHandler) {
        let namespace = InformerHandler.any { ns in if let n = ns.name { enqueue(n) } }
        let account = InformerHandler(onDelete: { sa in
            if sa.name == accountName, let ns = sa.namespace { enqueue(ns) }
        })
        return (namespace, account)
    }

    /// Watches namespaces (each gets its `default` account) and deleted accounts.
    static func descriptor(client: any ResourceClient) -> ControllerDescriptor {
        ControllerDescriptor(name: "serviceaccount", workers: 1) { wiring in
            let sa = handlers(enqueue: wiring.enqueue)
            wiring.watch(NamespaceController.resource, sa.namespace)
            wiring.watch(resource, sa.account)
            return ServiceAccountController(client: client, namespaces: wiring.cache(NamespaceController.resource),
                                            serviceAccounts: wiring.cache(resource))
        }
    }
}
