import Foundation
import KubeModel

extension APIServerBuilder {
    /// Rebuilds the Service allocations from the store, then makes sure the `kubernetes`
    /// Service (the range's first address) exists. Runs before the server listens.
    static func bootstrapServices(_ registry: Registry, _ config: APIServerConfiguration) async throws {
        guard let range = ServiceIPRange(cidr: config.serviceClusterIPRange) else {
            throw APIError.badRequest("invalid service cluster IP range \(config.serviceClusterIPRange): an IPv4 CIDR such as 10.96.0.0/12 is required")
        }
        try await registry.restoreServiceAllocations(range: range, nodePorts: config.serviceNodePortRange)
        guard let services = registry.catalog.strategy(group: "", plural: "services") else { return }
        let labels: JSONValue = ["component": "apiserver", "provider": "kubernetes"]
        let service: JSONValue = [
            "apiVersion": "v1", "kind": "Service",
            "metadata": ["name": "kubernetes", "namespace": "default", "labels": labels],
            "spec": [
                "type": "ClusterIP", "clusterIP": .string(range.firstAddress), "sessionAffinity": "None",
                "ports": [["name": "https", "port": 443, "protocol": "TCP", "targetPort": .int(Int64(config.port))]],
            ],
        ]
        // On a restart the rebuilt allocator already holds its address: look before creating.
        let serviceKey = ResourceCatalog.key(services.definition, namespace: "default", name: "kubernetes")
        if try await registry.store.get(key: serviceKey) == nil {
            try await createIfMissing(registry, services, service, key: serviceKey)
        }
        // Its endpoints list the live API servers: `APIServerEndpointReconciler`.
    }

    /// Creates `object` in `default` unless it exists. Another API server starting on the same
    /// store may create it first: then the address is taken (422) or the name is (409).
    private static func createIfMissing(_ registry: Registry, _ strategy: any ResourceStrategy, _ object: JSONValue, key: String) async throws {
        var failure: APIError?
        do {
            _ = try await registry.create(strategy, version: "v1", namespace: "default", body: object, options: WriteOptions())
        } catch {
            failure = error
        }
        guard let failure, failure.code != 409 else { return }
        if failure.code == 422, try await registry.store.get(key: key) != nil { return }
        throw failure
    }
}
