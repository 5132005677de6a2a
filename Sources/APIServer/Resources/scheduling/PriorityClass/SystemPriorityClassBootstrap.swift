import Foundation
import KubeModel

extension APIServerBuilder {
    /// Creates `system-node-critical` and `system-cluster-critical` at start when missing, as
    /// kube-apiserver does, so pods of system components can name them.
    static func bootstrapPriorityClasses(_ registry: Registry) async throws {
        guard let strategy = registry.catalog.strategy(group: "scheduling.k8s.io", plural: "priorityclasses") else { return }
        for system in PriorityClassStrategy.systemClasses {
            let key = ResourceCatalog.key(strategy.definition, namespace: nil, name: system.name)
            guard try await registry.store.get(key: key) == nil else { continue }
            let body: JSONValue = [
                "apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
                "metadata": ["name": .string(system.name)],
                "value": .int(system.value), "description": .string(system.description),
                "preemptionPolicy": "PreemptLowerPriority",
            ]
            do {
                _ = try await registry.create(strategy, version: "v1", namespace: nil, body: body, options: WriteOptions())
            } catch {
                if error.code != 409 { throw error }
            }
        }
    }
}
