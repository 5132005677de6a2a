import Foundation
import KubeClient
import KubeModel

/// Keeps each ResourceQuota's `status.hard` (= `spec.hard`) and `status.used` current, so
/// `kubectl describe quota` shows Used/Hard. Pod changes recompute the quotas of their
/// namespace at once; every quota is also recomputed every `resyncInterval`, which is how
/// changes to other counted kinds (services, secrets, `count/…`) show up. Enforcement does not
/// depend on this status: the API server's quota admission counts from its store.
public struct ResourceQuotaController: Reconciler {
    typealias Q = ResourceQuotaUsage
    static let resource = ResourcePath.core("resourcequotas")

    let client: any ResourceClient
    let quotas: ObjectCache
    let pods: ObjectCache
    let resyncInterval: Duration

    init(client: any ResourceClient, quotas: ObjectCache, pods: ObjectCache, resyncInterval: Duration = .seconds(30)) {
        self.client = client
        self.quotas = quotas
        self.pods = pods
        self.resyncInterval = resyncInterval
    }

    public func reconcile(key: String) async throws -> ReconcileResult {
        guard let quota = quotas.get(key), let ns = quota.namespace, let name = quota.name,
              !ObjectRules.isTerminating(quota) else { return .done }
        let spec = quota["spec"] ?? .null
        let hard = Q.resourceList(spec["hard"])
        var used = try await Self.usage(hard: hard, spec: spec, namespace: ns, pods: pods) { group, plural in
            try await self.list(group: group, plural: plural, namespace: ns)
        }
        used = used.filter { hard[$0.key] != nil }
        for k in hard.keys where used[k] == nil { used[k] = Quantity(mantissa: 0) }
        let current = (Q.resourceList(quota[path: ["status", "hard"]]), Q.resourceList(quota[path: ["status", "used"]]))
        if current.0 != hard || current.1 != used {
            var body = quota
            body["status"] = ["hard": Q.json(hard), "used": Q.json(used)]
            var path = Self.resource.inNamespace(ns).named(name)
            path.subresource = "status"
            do {
                _ = try await client.update(path.path, body)
            } catch let e as KubeAPIError where e.isNotFound {
                return .done
            }
        }
        return .requeue(after: resyncInterval)
    }

    /// What the namespace uses of every resource in `hard`: pods from the cache, other kinds
    /// through `list` (nil when the server does not serve the kind).
    static func usage(hard: [String: Quantity], spec: JSONValue, namespace: String, pods: ObjectCache,
                      list: (String, String) async throws -> [JSONValue]?) async throws -> [String: Quantity] {
        var collections: [String: (group: String, plural: String)] = [:]
        for name in hard.keys {
            if let c = Q.collection(for: name) { collections["\(c.plural).\(c.group)"] = c }
        }
        var used: [String: Quantity] = [:]
        for c in collections.values.sorted(by: { $0.plural < $1.plural }) {
            let isPod = c.group.isEmpty && c.plural == "pods"
            let objects: [JSONValue]
            if isPod {
                objects = pods.list(namespace: namespace)  // terminal pods count as nothing
            } else {
                guard let listed = try await list(c.group, c.plural) else { continue }
                objects = listed
            }
            for o in objects where Q.matchesScopes(spec, object: o, isPod: isPod) {
                Q.add(&used, Q.usage(group: c.group, plural: c.plural, object: o))
            }
        }
        return used
    }

    /// Objects of `group`/`plural` in `namespace`, in the group's preferred version; nil when
    /// the kind is not served.
    private func list(group: String, plural: String, namespace: String) async throws -> [JSONValue]? {
        do {
            var version = "v1"
            if !group.isEmpty {
                let g = try await client.get("/apis/\(group)")
                guard let v = g[path: ["preferredVersion", "version"]]?.stringValue else { return nil }
                version = v
            }
            let path = ResourcePath(group: group, version: version, plural: plural).inNamespace(namespace).path
            return try await client.list(path)["items"]?.arrayValue ?? []
        } catch let e as KubeAPIError where e.isNotFound {
            return nil
        }
    }

    /// Watches quotas and pods; a pod event recomputes every quota of its namespace.
    static func descriptor(client: any ResourceClient, workers: Int) -> ControllerDescriptor {
        ControllerDescriptor(name: "resourcequota", workers: workers) { wiring in
            let quotas = wiring.cache(resource)
            wiring.watchOwn(resource)
            wiring.watchPodsOfNamespace(enqueueing: quotas)
            // Claims are counted and charged storage: their changes recount at once too.
            wiring.watchMembers(of: .core("persistentvolumeclaims"), enqueueing: quotas)
            return ResourceQuotaController(client: client, quotas: quotas, pods: wiring.cache(.core("pods")))
        }
    }
}
