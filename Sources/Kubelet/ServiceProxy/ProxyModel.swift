import KubeModel

/// One port of one Service as the proxy programs it: the cluster IP and node port it answers
/// on and the endpoints (address and resolved target port) it may send to.
public struct ProxiedServicePort: Sendable, Equatable {
    public enum L4: String, Sendable { case tcp, udp }

    public var namespace: String
    public var name: String
    /// The port's name in the Service ("" for a single unnamed port).
    public var portName: String
    public var l4: L4
    public var clusterIP: String?
    public var port: Int
    public var nodePort: Int?
    /// `sessionAffinity: ClientIP`: seconds an address sticks to its endpoint.
    public var affinitySeconds: Int?
    public var internalLocal: Bool
    public var externalLocal: Bool
    public var endpoints: [ProxyEndpoint]

    public init(namespace: String, name: String, portName: String = "", l4: L4 = .tcp, clusterIP: String?, port: Int,
                nodePort: Int? = nil, affinitySeconds: Int? = nil, internalLocal: Bool = false, externalLocal: Bool = false,
                endpoints: [ProxyEndpoint] = []) {
        self.namespace = namespace
        self.name = name
        self.portName = portName
        self.l4 = l4
        self.clusterIP = clusterIP
        self.port = port
        self.nodePort = nodePort
        self.affinitySeconds = affinitySeconds
        self.internalLocal = internalLocal
        self.externalLocal = externalLocal
        self.endpoints = endpoints
    }

    /// "ns/name:port" as logs and rule comments show it.
    public var displayName: String { "\(namespace)/\(name)" + (portName.isEmpty ? "" : ":\(portName)") }
}

/// An endpoint address with the port the EndpointSlice resolved (named targetPorts included).
public struct ProxyEndpoint: Sendable, Equatable {
    public var ip: String
    public var port: Int
    public var nodeName: String?
    public var ready: Bool
    public var serving: Bool
    public var terminating: Bool

    public init(ip: String, port: Int, nodeName: String? = nil, ready: Bool = true, serving: Bool = true, terminating: Bool = false) {
        self.ip = ip
        self.port = port
        self.nodeName = nodeName
        self.ready = ready
        self.serving = serving
        self.terminating = terminating
    }
}

extension ProxiedServicePort {
    /// The endpoints traffic goes to, as kube-proxy picks them: with a Local policy only this
    /// node's; the ready ones, else (all being on their way out) those still serving while
    /// terminating, so connections drain instead of failing.
    public func usableEndpoints(node: String, local: Bool) -> [ProxyEndpoint] {
        let candidates = local ? endpoints.filter { $0.nodeName == node } : endpoints
        let ready = candidates.filter(\.ready)
        if !ready.isEmpty { return ready }
        return candidates.filter { $0.serving && $0.terminating }
    }

    /// Reads Services and EndpointSlices (API objects) into proxied ports. Headless Services,
    /// ExternalName Services, ports other than TCP/UDP and malformed entries are left out: the
    /// service CIDR capture then rejects their addresses.
    public static func from(services: [JSONValue], slices: [JSONValue]) -> [ProxiedServicePort] {
        var slicesByService: [String: [JSONValue]] = [:]
        for slice in slices {
            guard let ns = slice.namespace,
                  let service = slice[path: ["metadata", "labels", "kubernetes.io/service-name"]]?.stringValue,
                  (slice["addressType"]?.stringValue ?? "IPv4") == "IPv4" else { continue }
            slicesByService[ns + "/" + service, default: []].append(slice)
        }
        var out: [ProxiedServicePort] = []
        for service in services {
            guard let ns = service.namespace, let name = service.name, let spec = service["spec"] else { continue }
            let type = spec["type"]?.stringValue ?? "ClusterIP"
            guard type != "ExternalName" else { continue }
            let clusterIP = spec["clusterIP"]?.stringValue.flatMap { $0 == "None" || $0.isEmpty ? nil : $0 }
            guard let clusterIP, IPv4CIDR.parseAddress(clusterIP) != nil else { continue }
            var affinity: Int?
            if spec["sessionAffinity"]?.stringValue == "ClientIP" {
                let timeout = spec[path: ["sessionAffinityConfig", "clientIP", "timeoutSeconds"]]?.intValue ?? 10800
                affinity = Int(min(max(timeout, 1), 86400))
            }
            let internalLocal = spec["internalTrafficPolicy"]?.stringValue == "Local"
            let externalLocal = spec["externalTrafficPolicy"]?.stringValue == "Local"
            let exposesNodePort = type == "NodePort" || type == "LoadBalancer"
            let serviceSlices = slicesByService[ns + "/" + name] ?? []
            for p in spec["ports"]?.arrayValue ?? [] {
                guard let l4 = L4(rawValue: (p["protocol"]?.stringValue ?? "TCP").lowercased()),
                      let port = p["port"]?.intValue, (1...65535).contains(port) else { continue }
                let portName = p["name"]?.stringValue ?? ""
                let nodePort = exposesNodePort ? p["nodePort"]?.intValue.flatMap { (1...65535).contains($0) ? Int($0) : nil } : nil
                out.append(ProxiedServicePort(
                    namespace: ns, name: name, portName: portName, l4: l4, clusterIP: clusterIP, port: Int(port),
                    nodePort: nodePort, affinitySeconds: affinity, internalLocal: internalLocal, externalLocal: externalLocal,
                    endpoints: endpoints(in: serviceSlices, portName: portName, l4: l4)))
            }
        }
        return out.sorted { ($0.namespace, $0.name, $0.portName, $0.l4.rawValue) < ($1.namespace, $1.name, $1.portName, $1.l4.rawValue) }
    }

    /// The slices' endpoints for the port of that name and protocol, without duplicates.
    static func endpoints(in slices: [JSONValue], portName: String, l4: L4) -> [ProxyEndpoint] {
        var seen = Set<String>()
        var out: [ProxyEndpoint] = []
        for slice in slices {
            let match = (slice["ports"]?.arrayValue ?? []).first {
                ($0["name"]?.stringValue ?? "") == portName && ($0["protocol"]?.stringValue ?? "TCP").lowercased() == l4.rawValue
            }
            guard let port = match?["port"]?.intValue, (1...65535).contains(port) else { continue }
            for ep in slice["endpoints"]?.arrayValue ?? [] {
                let conditions = ep["conditions"]
                // Unset conditions mean ready (and so serving), as the API documents.
                let ready = conditions?["ready"]?.boolValue ?? true
                let serving = conditions?["serving"]?.boolValue ?? ready
                let terminating = conditions?["terminating"]?.boolValue ?? false
                for address in ep["addresses"]?.arrayValue ?? [] {
                    // Loopback is kept: the `kubernetes` Service of a server on 127.0.0.1 (the pod
                    // bridge routes DNAT to loopback, guarded; see PodNetworkHost).
                    guard let ip = address.stringValue, IPv4CIDR.parseAddress(ip) != nil,
                          seen.insert("\(ip):\(port)").inserted else { continue }
                    out.append(ProxyEndpoint(ip: ip, port: Int(port), nodeName: ep["nodeName"]?.stringValue,
                                             ready: ready, serving: serving, terminating: terminating))
                }
            }
        }
        return out.sorted { ($0.ip, $0.port) < ($1.ip, $1.port) }
    }
}
