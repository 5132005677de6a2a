import Foundation
import KubeClient
import KubeModel

/// The `kubernetes` namespace finalizer (Kubernetes' namespace controller): a namespace with a
/// deletionTimestamp has every namespaced resource the server serves deleted from it (found
/// through discovery), is looked at again until nothing is left, and then has `kubernetes`
/// removed from `spec.finalizers` through `namespaces/{name}/finalize`, which lets the server
/// remove it. Keys are namespace names.
public struct NamespaceController: Reconciler {
    static let resource = ResourcePath.core("namespaces")
    static let finalizer = "kubernetes"

    let client: any ResourceClient
    let namespaces: ObjectCache
    /// How soon a namespace that still holds objects is looked at again.
    let recheckInterval: Duration

    init(client: any ResourceClient, namespaces: ObjectCache, recheckInterval: Duration = .seconds(1)) {
        self.client = client
        self.namespaces = namespaces
        self.recheckInterval = recheckInterval
    }

    /// Watches namespaces.
    static func descriptor(client: any ResourceClient, workers: Int) -> ControllerDescriptor {
        ControllerDescriptor(name: "namespace", workers: workers) { wiring in
            wiring.watchOwn(resource)
            return NamespaceController(client: client, namespaces: wiring.cache(resource))
        }
    }

    public func reconcile(key: String) async throws -> ReconcileResult {
        guard let namespace = namespaces.get(key), Self.needsFinalizing(namespace), let name = namespace.name else { return .done }
        var remaining = 0
        for collection in try await namespacedCollections() {
            remaining += try await empty(collection, in: name)
        }
        // Pods on nodes go gracefully, and dependents may still appear: wait until all are gone.
        guard remaining == 0 else { return .requeue(after: recheckInterval) }
        try await finalize(namespace)
        return .done
    }

    /// Marked for deletion and still carrying our finalizer.
    static func needsFinalizing(_ namespace: JSONValue) -> Bool {
        ObjectRules.isTerminating(namespace)
            && (namespace[path: ["spec", "finalizers"]]?.arrayValue ?? []).contains { $0.stringValue == finalizer }
    }

    // MARK: - discovery

    /// Collection paths (`/api/v1/pods`-style, without a namespace) of every namespaced
    /// resource in each group's preferred version that can be listed and deleted.
    func namespacedCollections() async throws -> [ResourcePath] {
        var versions: [(group: String, version: String)] = [("", "v1")]
        let groups = try await client.get("/apis")
        for group in groups["groups"]?.arrayValue ?? [] {
            guard let name = group["name"]?.stringValue,
                  let version = group[path: ["preferredVersion", "version"]]?.stringValue else { continue }
            versions.append((name, version))
        }
        var out: [ResourcePath] = []
        for (group, version) in versions {
            let list = try await client.get(group.isEmpty ? "/api/v1" : "/apis/\(group)/\(version)")
            out += Self.deletableResources(list).map { ResourcePath(group: group, version: version, plural: $0) }
        }
        return out
    }

    /// Plurals in an APIResourceList that are namespaced, not subresources, and support both
    /// `list` and `delete` (or `deletecollection`).
    static func deletableResources(_ list: JSONValue) -> [String] {
        (list["resources"]?.arrayValue ?? []).compactMap { r in
            guard let name = r["name"]?.stringValue, !name.contains("/"), r["namespaced"]?.boolValue == true else { return nil }
            let verbs = Set((r["verbs"]?.arrayValue ?? []).compactMap(\.stringValue))
            guard verbs.contains("list"), verbs.contains("delete") || verbs.contains("deletecollection") else { return nil }
            return name
        }
    }

    // MARK: - writes

    /// Deletes the collection's objects in `namespace`; returns how many remain afterwards.
    private func empty(_ collection: ResourcePath, in namespace: String) async throws -> Int {
        let path = collection.inNamespace(namespace).path
        let present = try await list(path)
        guard !present.isEmpty else { return 0 }
        do {
            _ = try await client.delete(path)
        } catch let e as KubeAPIError where e.code == 405 {
            // No deletecollection: one at a time.
            for object in present {
                guard let name = object.name else { continue }
                do { _ = try await client.delete(collection.inNamespace(namespace).named(name).path) } catch let e as KubeAPIError where e.isNotFound {}
            }
        }
        return try await list(path).count
    }

    private func list(_ path: String) async throws -> [JSONValue] {
        do {
            return try await client.list(path)["items"]?.arrayValue ?? []
        } catch let e as KubeAPIError where e.isNotFound {
            return []
        }
    }

    /// Drops our finalizer through `finalize`; a server without that subresource gets an update.
    private func finalize(_ namespace: JSONValue) async throws {
        var body = namespace
        let finalizers = (namespace[path: ["spec", "finalizers"]]?.arrayValue ?? []).filter { $0.stringValue != Self.finalizer }
        body[path: ["spec", "finalizers"]] = .array(finalizers)
        let path = Self.resource.named(namespace.name ?? "")
        var finalizePath = path
        finalizePath.subresource = "finalize"
        do {
            _ = try await client.update(finalizePath.path, body)
        } catch let e as KubeAPIError where e.isNotFound || e.code == 405 {
            // Either the namespace is gone already or the server has no `finalize`.
            guard (try? await client.get(path.path)) != nil else { return }
            _ = try await client.update(path.path, body)
        }
    }
}
