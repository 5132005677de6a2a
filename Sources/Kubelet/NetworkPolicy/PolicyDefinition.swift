import KubeModel

/// A NetworkPolicy (networking.k8s.io/v1) reduced to what enforcement needs. Parsing never
/// fails: a part that cannot be understood selects or allows nothing, so a malformed object
/// can only deny more, never open a hole.
struct PolicyDefinition: Sendable, Hashable {
    enum Direction: Sendable, Hashable { case ingress, egress }

    /// One `from`/`to` entry.
    enum Peer: Sendable, Hashable {
        /// podSelector and/or namespaceSelector; a nil selector is "not given".
        case pods(podSelector: LabelSelector?, namespaceSelector: LabelSelector?)
        case ipBlock(cidr: IPv4CIDR, except: [IPv4CIDR])
        /// Something not understood (an IPv6 block, a peer with nothing in it): matches nothing.
        case none
    }

    /// One `ports` entry: a protocol and optionally a number (with endPort) or a name.
    struct Port: Sendable, Hashable {
        enum Target: Sendable, Hashable {
            case all
            case range(Int, Int)
            case named(String)
            /// An unknown protocol or a port out of range: allows nothing.
            case nothing
        }

        var proto: PolicyProtocol
        var target: Target
    }

    /// An ingress or egress rule: `peers` empty means every peer, `ports` empty every port.
    struct Rule: Sendable, Hashable {
        var peers: [Peer]
        var ports: [Port]
    }

    var namespace: String
    var name: String
    var podSelector: LabelSelector
    var ingress: [Rule]
    var egress: [Rule]
    var types: Set<Direction>

    init(namespace: String, name: String, podSelector: LabelSelector, ingress: [Rule] = [], egress: [Rule] = [],
         types: Set<Direction>) {
        self.namespace = namespace
        self.name = name
        self.podSelector = podSelector
        self.ingress = ingress
        self.egress = egress
        self.types = types
    }

    init?(_ object: JSONValue) {
        guard let namespace = object.namespace, let name = object.name else { return nil }
        let spec = object["spec"] ?? .object([:])
        // A missing podSelector is `{}` (every pod of the namespace), as the API defaults it.
        let selector = spec["podSelector"].map { (try? LabelSelector.fromJSON($0)) ?? .nothing } ?? .everything
        let ingress = (spec["ingress"]?.arrayValue ?? []).map { Self.rule($0, peersKey: "from") }
        let egress = (spec["egress"]?.arrayValue ?? []).map { Self.rule($0, peersKey: "to") }
        var types = Set<Direction>()
        if let given = spec["policyTypes"]?.arrayValue, !given.isEmpty {
            for t in given {
                switch t.stringValue {
                case "Ingress": types.insert(.ingress)
                case "Egress": types.insert(.egress)
                default: break
                }
            }
        } else {
            // Defaulting as the API does: Ingress always, Egress when there are egress rules.
            types.insert(.ingress)
            if !egress.isEmpty { types.insert(.egress) }
        }
        self.init(namespace: namespace, name: name, podSelector: selector, ingress: ingress, egress: egress, types: types)
    }

    /// Whether this policy isolates the pod in that direction.
    func isolates(_ pod: PolicyPod, _ direction: Direction) -> Bool {
        types.contains(direction) && pod.namespace == namespace && podSelector.matches(pod.labels)
    }

    func rules(_ direction: Direction) -> [Rule] { direction == .ingress ? ingress : egress }

    private static func rule(_ json: JSONValue, peersKey: String) -> Rule {
        let peers = (json[peersKey]?.arrayValue ?? []).map(peer)
        let ports = (json["ports"]?.arrayValue ?? []).map(port)
        return Rule(peers: peers, ports: ports)
    }

    private static func peer(_ json: JSONValue) -> Peer {
        if let block = json["ipBlock"], !block.isNull {
            guard let text = block["cidr"]?.stringValue, let cidr = IPv4CIDR(text) else { return .none }
            var except: [IPv4CIDR] = []
            for e in block["except"]?.arrayValue ?? [] {
                // An except we cannot read must not widen the block: drop the whole peer.
                guard let t = e.stringValue, let c = IPv4CIDR(t) else { return .none }
                except.append(c)
            }
            return .ipBlock(cidr: cidr, except: except)
        }
        let pods = json["podSelector"].flatMap { $0.isNull ? nil : $0 }
        let namespaces = json["namespaceSelector"].flatMap { $0.isNull ? nil : $0 }
        guard pods != nil || namespaces != nil else { return .none }
        return .pods(podSelector: pods.map { (try? LabelSelector.fromJSON($0)) ?? .nothing },
                     namespaceSelector: namespaces.map { (try? LabelSelector.fromJSON($0)) ?? .nothing })
    }

    private static func port(_ json: JSONValue) -> Port {
        let given = json["protocol"]?.stringValue
        let known: PolicyProtocol? = given == nil ? .tcp : PolicyProtocol(given)
        guard let proto = known else { return Port(proto: .tcp, target: .nothing) }
        guard let value = json["port"], !value.isNull else { return Port(proto: proto, target: .all) }
        if let number = value.intValue {
            let start = Int(number)
            let end = json["endPort"]?.intValue.map(Int.init) ?? start
            guard (1...65535).contains(start), (start...65535).contains(end) else { return Port(proto: proto, target: .nothing) }
            return Port(proto: proto, target: .range(start, end))
        }
        if let name = value.stringValue {
            // An IntOrString may carry a number as a string.
            if let number = Int(name) {
                return Port(proto: proto, target: (1...65535).contains(number) ? .range(number, number) : .nothing)
            }
            return Port(proto: proto, target: .named(name))
        }
        return Port(proto: proto, target: .nothing)
    }
}
