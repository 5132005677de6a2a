import KubeModel

/// The Docker-links style variables the kubelet gives every container: for the `kubernetes`
/// Service always (what in-cluster clients read: KUBERNETES_SERVICE_HOST and _PORT), and for
/// each Service of the pod's namespace unless `enableServiceLinks: false`. Only Services with a
/// cluster IP count; names are the Service's, upper-cased, with `-` as `_`.
enum ServiceEnvironment {
    /// The variables for `pod`, sorted by name.
    static func variables(for pod: JSONValue, source: any ObjectSource) async throws -> [(name: String, value: String)] {
        let namespace = pod.namespace ?? "default"
        let links = pod[path: ["spec", "enableServiceLinks"]]?.boolValue ?? true
        var chosen: [String: JSONValue] = [:]
        do {
            if links {
                for service in try await source.services(namespace: namespace) { chosen[service.name ?? ""] = service }
            }
            // The API server's own Service, whatever the namespace; it wins over a namesake.
            if namespace != "default" || !links {
                for service in try await source.services(namespace: "default") where service.name == "kubernetes" {
                    chosen["kubernetes"] = service
                }
            }
        } catch {
            throw DownwardValues.configError("failed to list services for the service environment variables: \(error)")
        }
        var out: [String: String] = [:]
        for service in chosen.values { add(service, to: &out) }
        return out.keys.sorted().map { (name: $0, value: out[$0] ?? "") }
    }

    /// One Service's variables: `NAME_SERVICE_HOST`, `NAME_SERVICE_PORT` (first port),
    /// `NAME_SERVICE_PORT_PORTNAME`, `NAME_PORT` and `NAME_PORT_PORT_PROTO[_PROTO|_PORT|_ADDR]`.
    static func add(_ service: JSONValue, to out: inout [String: String]) {
        guard let ip = service[path: ["spec", "clusterIP"]]?.stringValue, !ip.isEmpty, ip != "None",
              let raw = service.name else { return }
        let name = variableName(raw)
        let ports = service[path: ["spec", "ports"]]?.arrayValue ?? []
        let host = ip.contains(":") ? "[\(ip)]" : ip
        out[name + "_SERVICE_HOST"] = ip
        for (i, p) in ports.enumerated() {
            guard let port = p["port"]?.intValue else { continue }
            let proto = (p["protocol"]?.stringValue ?? "TCP")
            let url = "\(proto.lowercased())://\(host):\(port)"
            if i == 0 {
                out[name + "_SERVICE_PORT"] = String(port)
                out[name + "_PORT"] = url
            }
            if let portName = p["name"]?.stringValue, !portName.isEmpty {
                out[name + "_SERVICE_PORT_" + variableName(portName)] = String(port)
            }
            let prefix = "\(name)_PORT_\(port)_\(proto.uppercased())"
            out[prefix] = url
            out[prefix + "_PROTO"] = proto.lowercased()
            out[prefix + "_PORT"] = String(port)
            out[prefix + "_ADDR"] = ip
        }
    }

    static func variableName(_ s: String) -> String { s.replacingOccurrences(of: "-", with: "_").uppercased() }
}
