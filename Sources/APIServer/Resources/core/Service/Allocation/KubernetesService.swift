import Foundation
import KubeModel

extension APIServerBuilder {
    /// Rebuilds the Service allocations from the store, then makes sure the `kubernetes`
    /// Service (the range's first address) and its Endpoints point at this server. Runs
    /// before the server listens, so no create can race the rebuild.
    static func bootstrapServices(_ registry: Registry, _ config: APIServerConfiguration) async throws {
        guard let range = ServiceIPRange(cidr: config.serviceClusterIPRange) else {
            throw APIError.badRequest("invalid service cluster IP range \(config.serviceClusterIPRange): an IPv4 CIDR such as 10.96.0.0/12 is required")
        }
        try await registry.restoreServiceAllocations(range: range, nodePorts: config.serviceNodePortRange)
        guard let services = registry.catalog.strategy(group: "", plural: "services"),
              let endpoints = registry.catalog.strategy(group: "", plural: "endpoints") else { return }
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
        let ep: JSONValue = [
            "apiVersion": "v1", "kind": "Endpoints",
            "metadata": ["name": "kubernetes", "namespace": "default", "labels": ["endpointslice.kubernetes.io/skip-mirror": "true"]],
            "subsets": [[
                "addresses": [["ip": "127.0.0.1"]],
                "ports": [["name": "https", "port": .int(Int64(config.port)), "protocol": "TCP"]],
            ]],
        ]
        // Written to the store directly: validation refuses loopback addresses from clients,
        // but this one is the server's own. The port may differ from the last start.
        try await writeOwn(registry, ResourceCatalog.key(endpoints.definition, namespace: "default", name: "kubernetes"),
                           ep, fields: ["subsets"])
        // The slice is what service proxies read (the Endpoints carry skip-mirror).
        guard let slices = registry.catalog.strategy(group: "discovery.k8s.io", plural: "endpointslices") else { return }
        let slice: JSONValue = [
            "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": ["name": "kubernetes", "namespace": "default", "labels": ["kubernetes.io/service-name": "kubernetes"]],
            "addressType": "IPv4",
            "endpoints": [["addresses": ["127.0.0.1"], "conditions": ["ready": true, "serving": true, "terminating": false]]],
            "ports": [["name": "https", "port": .int(Int64(config.port)), "protocol": "TCP"]],
        ]
        try await writeOwn(registry, ResourceCatalog.key(slices.definition, namespace: "default", name: "kubernetes"),
                           slice, fields: ["endpoints", "ports"])
    }

    /// Creates `object` under `key` in the store, or brings `fields` of the stored one up to date.
    private static func writeOwn(_ registry: Registry, _ key: String, _ object: JSONValue, fields: [String]) async throws {
        if try await registry.store.get(key: key) == nil {
            var created = object
            ObjectMetaRules.prepareForCreate(&created, now: Date(), tracksGeneration: false)
            do { _ = try await registry.store.create(key: key, object: created) } catch StoreError.alreadyExists {}
        } else {
            _ = try await registry.store.update(key: key) { current in
                var o = current.object
                for field in fields { o[field] = object[field] }
                return o == current.object ? nil : o
            }
        }
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
