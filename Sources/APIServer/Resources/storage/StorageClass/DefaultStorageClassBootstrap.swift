import Foundation
import KubeModel

extension APIServerBuilder {
    /// Creates the default StorageClass `local-path` (WaitForFirstConsumer, reclaim Delete) at
    /// start when it is missing, as k3s applies its manifest at every start.
    static func bootstrapStorageClasses(_ registry: Registry) async throws {
        guard let strategy = registry.catalog.strategy(group: "storage.k8s.io", plural: "storageclasses") else { return }
        let key = ResourceCatalog.key(strategy.definition, namespace: nil, name: LocalPathStorage.className)
        guard try await registry.store.get(key: key) == nil else { return }
        let body: JSONValue = [
            "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
            "metadata": ["name": .string(LocalPathStorage.className),
                         "annotations": [StorageRules.defaultClassAnnotation: "true"]],
            "provisioner": .string(LocalPathStorage.provisioner),
            "reclaimPolicy": "Delete", "volumeBindingMode": "WaitForFirstConsumer",
        ]
        do {
            _ = try await registry.create(strategy, version: "v1", namespace: nil, body: body, options: WriteOptions())
        } catch {
            if error.code != 409 { throw error }
        }
    }
}
