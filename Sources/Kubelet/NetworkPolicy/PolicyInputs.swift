import KubeModel

/// What the policy compiler needs to know about a pod: where it lives, its labels, its IP and
/// its named container ports. Built from the API object; pods that take part in no pod network
/// (no IP yet, host network, finished) are not built at all.
struct PolicyPod: Sendable, Hashable {
    struct NamedPort: Sendable, Hashable {
        var name: String
        var port: Int
        var proto: PolicyProtocol
    }

    var namespace: String
    var name: String
    var uid: String
    var nodeName: String
    var labels: [String: String]
    var ip: String
    var namedPorts: [NamedPort]

    init(namespace: String, name: String, uid: String, nodeName: String, labels: [String: String], ip: String,
         namedPorts: [NamedPort] = []) {
        self.namespace = namespace
        self.name = name
        self.uid = uid
        self.nodeName = nodeName
        self.labels = labels
        self.ip = ip
        self.namedPorts = namedPorts
    }

    /// Nil for a pod no policy can apply to: without an IPv4 address, on the host network, or
    /// Succeeded/Failed (its IP may already belong to another pod).
    init?(_ object: JSONValue) {
        guard let namespace = object.namespace, let name = object.name else { return nil }
        if object[path: ["spec", "hostNetwork"]]?.boolValue == true { return nil }
        let phase = object[path: ["status", "phase"]]?.stringValue
        if phase == "Succeeded" || phase == "Failed" { return nil }
        guard let ip = object[path: ["status", "podIP"]]?.stringValue, IPv4CIDR.parseAddress(ip) != nil else { return nil }
        var ports: [NamedPort] = []
        for container in object[path: ["spec", "containers"]]?.arrayValue ?? [] {
            for port in container["ports"]?.arrayValue ?? [] {
                guard let portName = port["name"]?.stringValue, !portName.isEmpty,
                      let number = port["containerPort"]?.intValue, (1...65535).contains(number) else { continue }
                let proto = PolicyProtocol(port["protocol"]?.stringValue) ?? .tcp
                ports.append(NamedPort(name: portName, port: Int(number), proto: proto))
            }
        }
        self.init(namespace: namespace, name: name, uid: object.uid ?? "", nodeName: object[path: ["spec", "nodeName"]]?.stringValue ?? "",
                  labels: object.labels, ip: ip, namedPorts: ports)
    }

    /// The container port a named port stands for on this pod, for that protocol.
    func resolve(_ portName: String, proto: PolicyProtocol) -> Int? {
        namedPorts.first { $0.name == portName && $0.proto == proto }?.port
    }
}

/// A namespace's name and labels (namespaceSelector matches labels, including the
/// `kubernetes.io/metadata.name` label the API server sets).
struct PolicyNamespace: Sendable, Hashable {
    var name: String
    var labels: [String: String]

    init(name: String, labels: [String: String]) {
        self.name = name
        self.labels = labels
    }

    init?(_ object: JSONValue) {
        guard let name = object.name else { return nil }
        var labels = object.labels
        labels["kubernetes.io/metadata.name"] = name
        self.init(name: name, labels: labels)
    }
}

/// The L4 protocols NetworkPolicy ports name; `nftName` is how nft spells them.
enum PolicyProtocol: String, Sendable, Hashable {
    case tcp = "TCP", udp = "UDP", sctp = "SCTP"

    init?(_ text: String?) {
        guard let text else { return nil }
        self.init(rawValue: text)
    }

    var nftName: String { rawValue.lowercased() }
}
