import KubeModel

/// One `hostPort` a container asks for (Kubernetes' NodePorts filter): two pods conflict on a
/// node when protocol and port are equal and their host IPs are equal or either is a wildcard.
struct HostPort: Hashable, Sendable {
    let proto: String
    let port: Int64
    let hostIP: String

    /// The host ports of every container and init container of `pod`.
    static func requested(by pod: JSONValue) -> [HostPort] {
        let containers = (pod[path: ["spec", "containers"]]?.arrayValue ?? [])
            + (pod[path: ["spec", "initContainers"]]?.arrayValue ?? [])
        return containers.flatMap { c in
            (c["ports"]?.arrayValue ?? []).compactMap { p -> HostPort? in
                guard let port = p["hostPort"]?.intValue, port > 0 else { return nil }
                let ip = p["hostIP"]?.stringValue ?? ""
                return HostPort(proto: p["protocol"]?.stringValue ?? "TCP", port: port, hostIP: ip.isEmpty ? "0.0.0.0" : ip)
            }
        }
    }

    /// Whether `self` and `other` cannot both be bound on one node.
    func conflicts(with other: HostPort) -> Bool {
        proto == other.proto && port == other.port
            && (hostIP == other.hostIP || hostIP == "0.0.0.0" || other.hostIP == "0.0.0.0")
    }
}
