import Testing
@testable import APIServer
import KubeModel

/// A registry over the built-in resources on a real store, with its `default` namespace, and
/// the strategy of the resource a suite exercises.
enum RegistryFixture {
    static func open(_ store: any Store, group: String = "", plural: String,
                     revisionWait: Duration = .seconds(3)) async throws -> (Registry, any ResourceStrategy) {
        let registry = Registry(store: store, catalog: ResourceCatalog(BuiltinResources.all), revisionWait: revisionWait)
        guard let strategy = registry.catalog.strategy(group: group, plural: plural),
              let namespaces = registry.catalog.strategy(group: "", plural: "namespaces") else {
            throw APIError.internalError("\(plural) and namespaces must be served")
        }
        do {
            _ = try await registry.create(namespaces, version: "v1", namespace: nil,
                                          body: ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "default"]], options: WriteOptions())
        } catch {
            if error.code != 409 { throw error }  // a store reopened after a restart has it already
        }
        return (registry, strategy)
    }
}
