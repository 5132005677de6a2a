import KubeModel

/// A ready address behind a Service port, read from the Service and its EndpointSlices (else
/// its Endpoints): how the server reaches webhooks and aggregated API servers named by
/// Service (kube-apiserver's endpoint routing), never through the Service's cluster IP.
struct ServiceEndpoint: Sendable, Equatable {
    var ip: String
    var port: Int

    /// Why no address was found, with the reason kube-aggregator reports for each.
    enum Failure: Error, Sendable, CustomStringConvertible {
        case serviceNotFound(namespace: String, name: String)
        case noSuchPort(namespace: String, name: String, port: Int)
        case missingEndpoints(namespace: String, name: String)

        var reason: String {
            switch self {
            case .serviceNotFound: "ServiceNotFound"
            case .noSuchPort: "ServicePortError"
            case .missingEndpoints: "MissingEndpoints"
            }
        }

        var description: String {
            switch self {
            case .serviceNotFound(let ns, let name): "service \"\(name)\" in namespace \"\(ns)\" not found"
            case .noSuchPort(let ns, let name, let port): "service \(ns)/\(name) is not listening on port \(port)"
            case .missingEndpoints(let ns, let name): "endpoints for service \(ns)/\(name) have no addresses with port name \"\""
            }
        }
    }

    /// A ready address of Service `namespace/name` and the target port behind its `port`.
    static func resolve(namespace: String, service name: String, port: Int, registry: Registry) async throws(Failure) -> ServiceEndpoint {
        guard let services = registry.catalog.strategy(group: "", plural: "services"),
              let endpoints = registry.catalog.strategy(group: "", plural: "endpoints"),
              let service = try? await registry.get(services, version: "v1", namespace: namespace, name: name) else {
            throw .serviceNotFound(namespace: namespace, name: name)
        }
        let ports = service[path: ["spec", "ports"]]?.arrayValue ?? []
        guard let servicePort = ports.first(where: { $0["port"]?.intValue == Int64(port) }) else {
            throw .noSuchPort(namespace: namespace, name: name, port: port)
        }
        let portName = servicePort["name"]?.stringValue ?? ""
        if let found = await fromSlices(namespace: namespace, service: name, portName: portName, registry: registry) { return found }
        guard let eps = try? await registry.get(endpoints, version: "v1", namespace: namespace, name: name) else {
            throw .missingEndpoints(namespace: namespace, name: name)
        }
        for subset in eps["subsets"]?.arrayValue ?? [] {
            let subsetPorts = subset["ports"]?.arrayValue ?? []
            let match = subsetPorts.first { ($0["name"]?.stringValue ?? "") == portName } ?? (subsetPorts.count == 1 ? subsetPorts[0] : nil)
            guard let target = match?["port"]?.intValue,
                  let ip = subset["addresses"]?.arrayValue?.first?["ip"]?.stringValue else { continue }
            return ServiceEndpoint(ip: ip, port: Int(target))
        }
        throw .missingEndpoints(namespace: namespace, name: name)
    }

    /// The first ready address of the Service's EndpointSlices with the port named `portName`.
    static func fromSlices(namespace: String, service: String, portName: String, registry: Registry) async -> ServiceEndpoint? {
        guard let slices = registry.catalog.strategy(group: "discovery.k8s.io", plural: "endpointslices"),
              let selector = try? LabelSelector.parse("kubernetes.io/service-name=\(service)") else { return nil }
        var options = ListOptions()
        options.labelSelector = selector
        guard let items = try? await registry.list(slices, version: "v1", namespace: namespace, options: options).items else { return nil }
        for slice in items {
            let ports = slice["ports"]?.arrayValue ?? []
            let match = ports.first { ($0["name"]?.stringValue ?? "") == portName } ?? (ports.count == 1 ? ports[0] : nil)
            guard let port = match?["port"]?.intValue else { continue }
            for endpoint in slice["endpoints"]?.arrayValue ?? [] where endpoint[path: ["conditions", "ready"]]?.boolValue != false {
                if let ip = endpoint["addresses"]?.arrayValue?.first?.stringValue { return ServiceEndpoint(ip: ip, port: Int(port)) }
            }
        }
        return nil
    }
}
