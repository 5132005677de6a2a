import Foundation
import KubeClient
import KubeModel
import Logging

/// Kubernetes' serviceaccounts controller: every live namespace has a ServiceAccount
/// `default`, made again when deleted. Keys are namespace names. (The API server also makes
/// `default` on first need when no controller runs; both tolerate the other's create.)
public struct ServiceAccountController: Reconciler {
    static let resource = ResourcePath.core("serviceaccounts")
    static let accountName = "default"

    let client: KubeRESTClient
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

    /// The ServiceAccount controller and the root CA publisher, wired to the manager's
    /// namespace informer; the publisher only when the kubeconfig names a CA.
    static func controllers(client: KubeRESTClient, namespaces: Informer<ContinuousClock>,
                            informer: (ResourcePath) -> Informer<ContinuousClock>, logger: Logger)
        -> (informers: [Informer<ContinuousClock>], loops: [ControllerLoop<ContinuousClock>], queues: [WorkQueue<String, ContinuousClock>])
    {
        let accounts = informer(resource)
        let saQueue = WorkQueue<String, ContinuousClock>()
        let sa = handlers { saQueue.add($0) }
        namespaces.addHandler(sa.namespace)
        accounts.addHandler(sa.account)
        var informers = [accounts]
        var queues = [saQueue]
        var loops = [ControllerLoop(name: "serviceaccount", queue: saQueue,
                                    reconciler: ServiceAccountController(client: client, namespaces: namespaces.cache,
                                                                         serviceAccounts: accounts.cache),
                                    workers: 1, logger: logger)]
        if let pem = RootCAPublisher.caPEM(client.connection) {
            let configMaps = informer(RootCAPublisher.resource)
            let caQueue = WorkQueue<String, ContinuousClock>()
            let ca = RootCAPublisher.handlers { caQueue.add($0) }
            namespaces.addHandler(ca.namespace)
            configMaps.addHandler(ca.configMap)
            informers.append(configMaps)
            queues.append(caQueue)
            loops.append(ControllerLoop(name: "root-ca-cert-publisher", queue: caQueue,
                                        reconciler: RootCAPublisher(client: client, namespaces: namespaces.cache,
                                                                    configMaps: configMaps.cache, caPEM: pem),
                                        workers: 1, logger: logger))
        } else {
            logger.info("no cluster CA in the kubeconfig: kube-root-ca.crt is not published")
        }
        return (informers, loops, queues)
    }
}
