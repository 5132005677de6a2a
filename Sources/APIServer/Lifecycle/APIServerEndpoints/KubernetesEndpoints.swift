import Foundation
import KubeModel

/// The `kubernetes` Service's Endpoints and EndpointSlices, written from the live API servers.
/// Written to the store directly: validation refuses loopback addresses from clients, but
/// these are the servers' own. Servers on different ports get one Endpoints subset and one
/// EndpointSlice per port (a slice has one port list); the first slice keeps the name
/// `kubernetes`, the others are `kubernetes-<port>`.
enum KubernetesEndpoints {
    static let serviceName = "kubernetes"
    static let endpointsKey = "/registry/core/endpoints/default/kubernetes"
    static let slicePrefix = "/registry/discovery.k8s.io/endpointslices/default/"

    static func byPort(_ endpoints: [APIServerEndpoint]) -> [(port: Int, addresses: [String])] {
        let grouped = Dictionary(grouping: Set(endpoints), by: \.port)
        return grouped.keys.sorted().map { port in (port, (grouped[port] ?? []).map(\.address).sorted()) }
    }

    static func endpointsObject(_ endpoints: [APIServerEndpoint]) -> JSONValue {
        let subsets: [JSONValue] = byPort(endpoints).map { group in
            ["addresses": .array(group.addresses.map { ["ip": .string($0)] }),
             "ports": [["name": "https", "port": .int(Int64(group.port)), "protocol": "TCP"]]]
        }
        var object: JSONValue = [
            "apiVersion": "v1", "kind": "Endpoints",
            "metadata": ["name": "kubernetes", "namespace": "default", "labels": ["endpointslice.kubernetes.io/skip-mirror": "true"]],
        ]
        if !subsets.isEmpty { object["subsets"] = .array(subsets) }
        return object
    }

    static func sliceName(index: Int, port: Int) -> String { index == 0 ? serviceName : "\(serviceName)-\(port)" }

    static func sliceObjects(_ endpoints: [APIServerEndpoint]) -> [String: JSONValue] {
        var slices: [String: JSONValue] = [:]
        for (index, group) in byPort(endpoints).enumerated() {
            let name = sliceName(index: index, port: group.port)
            slices[name] = [
                "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                "metadata": ["name": .string(name), "namespace": "default",
                             "labels": ["kubernetes.io/service-name": "kubernetes", "endpointslice.kubernetes.io/managed-by": "caravel-apiserver"]],
                "addressType": "IPv4",
                "endpoints": .array(group.addresses.map { ["addresses": [.string($0)], "conditions": ["ready": true, "serving": true, "terminating": false]] }),
                "ports": [["name": "https", "port": .int(Int64(group.port)), "protocol": "TCP"]],
            ]
        }
        return slices
    }

    /// Brings the stored Endpoints and slices in line with `endpoints`, deleting slices of
    /// ports no live server uses any more.
    static func write(_ endpoints: [APIServerEndpoint], store: any Store, now: Date) async throws {
        try await writeOwn(store, endpointsKey, endpointsObject(endpoints), fields: ["subsets"], now: now)
        let wanted = sliceObjects(endpoints)
        for (name, slice) in wanted {
            try await writeOwn(store, slicePrefix + name, slice, fields: ["endpoints", "ports"], now: now)
        }
        let stored = try await store.list(prefix: slicePrefix, startAfter: nil, limit: nil, atRevision: nil)
        for item in stored.items where item.object[path: ["metadata", "labels", "kubernetes.io/service-name"]]?.stringValue == serviceName {
            guard let name = item.object.name, wanted[name] == nil, name != serviceName else { continue }
            _ = try? await store.delete(key: item.key) { cur in
                guard cur.revision == item.revision else { throw StoreError.conflict(key: item.key, message: "changed since read") }
            }
        }
    }

    /// Creates `object` under `key`, or brings `fields` (and `metadataFields` of its metadata)
    /// of the stored one up to date (a field absent from `object` is removed).
    static func writeOwn(_ store: any Store, _ key: String, _ object: JSONValue, fields: [String], metadataFields: [String] = [],
                         now: Date) async throws {
        if try await store.get(key: key) == nil {
            var created = object
            ObjectMetaRules.prepareForCreate(&created, now: now, tracksGeneration: false)
            do {
                _ = try await store.create(key: key, object: created)
                return
            } catch StoreError.alreadyExists {}
        }
        _ = try await store.update(key: key) { current in
            var o = current.object
            for field in fields { o[field] = object[field] }
            for field in metadataFields { o[path: ["metadata", field]] = object[path: ["metadata", field]] }
            return o == current.object ? nil : o
        }
    }
}
