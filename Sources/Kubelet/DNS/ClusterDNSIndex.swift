import Foundation
import KubeModel

/// What the cluster zone holds, read from Services and EndpointSlices: the table the node
/// DNS server answers from. Pure data, rebuilt when the informers change.
public struct ClusterDNSIndex: Sendable {
    public struct Port: Sendable, Equatable {
        public var name: String
        public var port: Int
        /// Lowercased: tcp, udp, sctp.
        public var proto: String
    }

    public struct Service: Sendable {
        public var name: String
        public var namespace: String
        /// Nil for headless and ExternalName Services.
        public var clusterIP: String?
        public var externalName: String?
        public var ports: [Port]
        public var headless: Bool { clusterIP == nil && externalName == nil }
    }

    public struct Endpoint: Sendable, Equatable {
        public var ip: String
        /// The pod's spec.hostname when its subdomain is the Service's name.
        public var hostname: String?
        public var ports: [Port]
        /// The label this endpoint answers to under its Service: hostname, else the dashed IP.
        public var label: String { hostname ?? ip.replacingOccurrences(of: ".", with: "-") }
    }

    /// By "namespace/name".
    public private(set) var services: [String: Service] = [:]
    /// Ready IPv4 endpoints of each Service, by "namespace/name", sorted by IP.
    public private(set) var endpoints: [String: [Endpoint]] = [:]
    public private(set) var namespaces: Set<String> = []

    public init(services serviceObjects: [JSONValue], endpointSlices: [JSONValue]) {
        for object in serviceObjects {
            guard let name = object.name, let ns = object.namespace else { continue }
            let type = object[path: ["spec", "type"]]?.stringValue
            let ip = object[path: ["spec", "clusterIP"]]?.stringValue
            var service = Service(name: name, namespace: ns, clusterIP: nil, externalName: nil,
                                  ports: Self.ports(object[path: ["spec", "ports"]]))
            if type == "ExternalName" {
                service.externalName = object[path: ["spec", "externalName"]]?.stringValue
            } else if let ip, !ip.isEmpty, ip != "None" {
                service.clusterIP = ip
            }
            services[ns + "/" + name] = service
            namespaces.insert(ns)
        }
        for slice in endpointSlices {
            guard slice["addressType"]?.stringValue ?? "IPv4" == "IPv4", let ns = slice.namespace,
                  let service = slice.labels["kubernetes.io/service-name"] else { continue }
            let ports = Self.ports(slice["ports"])
            for ep in slice["endpoints"]?.arrayValue ?? [] {
                // Unset ready means ready (EndpointSlice API).
                guard ep[path: ["conditions", "ready"]]?.boolValue ?? true else { continue }
                let hostname = ep["hostname"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
                for address in ep["addresses"]?.arrayValue ?? [] {
                    guard let ip = address.stringValue, IPv4Text.bytes(ip) != nil else { continue }
                    endpoints[ns + "/" + service, default: []].append(Endpoint(ip: ip, hostname: hostname, ports: ports))
                }
            }
        }
        for key in endpoints.keys {
            endpoints[key]?.sort { ($0.ip, $0.hostname ?? "") < ($1.ip, $1.hostname ?? "") }
        }
    }

    public func service(_ namespace: String, _ name: String) -> Service? { services[namespace + "/" + name] }

    public func readyEndpoints(_ namespace: String, _ name: String) -> [Endpoint] {
        // The same address may be listed in several slices (one per port set): answer it once.
        var seen = Set<String>()
        return (endpoints[namespace + "/" + name] ?? []).filter { seen.insert($0.ip + "/" + ($0.hostname ?? "")).inserted }
    }

    /// Reverse lookup: a ClusterIP's Service name, else a headless endpoint with a hostname.
    public func name(forIP ip: String, zone: String) -> String? {
        if let s = services.values.filter({ $0.clusterIP == ip }).min(by: { ($0.namespace, $0.name) < ($1.namespace, $1.name) }) {
            return "\(s.name).\(s.namespace).svc.\(zone)"
        }
        for (key, eps) in endpoints.sorted(by: { $0.key < $1.key }) {
            guard let ep = eps.first(where: { $0.ip == ip && $0.hostname != nil }), let s = services[key], s.headless else { continue }
            return "\(ep.label).\(s.name).\(s.namespace).svc.\(zone)"
        }
        return nil
    }

    static func ports(_ value: JSONValue?) -> [Port] {
        (value?.arrayValue ?? []).compactMap { p in
            guard let number = p["port"]?.intValue, (1...65535).contains(number) else { return nil }
            return Port(name: p["name"]?.stringValue ?? "", port: Int(number), proto: (p["protocol"]?.stringValue ?? "TCP").lowercased())
        }
    }
}

/// Dotted-quad IPv4 text.
enum IPv4Text {
    static func bytes(_ text: String) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var out: [UInt8] = []
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy(\.isASCII), part.allSatisfy(\.isNumber), let v = UInt8(part) else { return nil }
            out.append(v)
        }
        return out
    }
}
