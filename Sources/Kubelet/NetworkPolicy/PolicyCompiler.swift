/// Compiles NetworkPolicies into the rules one node enforces, as a pure function of the
/// policies, pods and namespaces it knows, following Kubernetes' semantics:
/// - a pod selected by a policy of type Ingress (Egress) accepts (sends) only what some rule
///   of some such policy allows; a pod selected by none is not isolated in that direction;
/// - a peer with podSelector picks pods of the policy's namespace, with namespaceSelector all
///   pods of the matching namespaces, with both the pods matching both; ipBlock an address range
///   minus its excepts; no peers at all means every peer, no ports every port;
/// - a named port resolves on the destination pod (the isolated pod for ingress, each peer pod
///   for egress) by name and protocol; a pod without it is not reached through that entry.
struct PolicyCompiler: Sendable {
    /// The table the rules live in.
    var table: String
    /// Pods of this node: the ones whose traffic is judged here.
    var nodeName: String
    /// When set, only local pods with an IP inside it are judged (others share the host network).
    var podCIDR: IPv4CIDR?

    func compile(policies: [PolicyDefinition], pods: [PolicyPod], namespaces: [PolicyNamespace]) -> PolicyRuleset {
        let policies = policies.sorted { ($0.namespace, $0.name) < ($1.namespace, $1.name) }
        // Each address parsed once, not at every comparison: a cluster holds thousands of pods.
        let pods = pods.map { (key: IPv4CIDR.parseAddress($0.ip) ?? 0, pod: $0) }
            .sorted { ($0.key, $0.pod.ip) < ($1.key, $1.pod.ip) }
            .map(\.pod)
        let namespaceLabels = Dictionary(namespaces.map { ($0.name, $0.labels) }, uniquingKeysWith: { a, _ in a })
        var sets = SetNamer()
        var chains: [PolicyRuleset.Chain] = []
        let local = pods.filter { pod in
            pod.nodeName == nodeName && (podCIDR.map { cidr in IPv4CIDR.parseAddress(pod.ip).map(cidr.contains) ?? false } ?? true)
        }
        for direction in [PolicyDefinition.Direction.egress, .ingress] {
            for pod in local {
                let selecting = policies.filter { $0.isolates(pod, direction) }
                guard !selecting.isEmpty else { continue }
                var matches: [PolicyRuleset.Match] = []
                for policy in selecting {
                    for rule in policy.rules(direction) {
                        matches += compile(rule, of: policy, for: pod, direction, pods: pods, namespaceLabels: namespaceLabels, sets: &sets)
                    }
                }
                chains.append(.init(name: Self.chainName(direction, pod), direction: direction, podIP: pod.ip,
                                    matches: Self.unique(matches)))
            }
        }
        return PolicyRuleset(table: table, sets: sets.sets, chains: chains)
    }

    private func compile(_ rule: PolicyDefinition.Rule, of policy: PolicyDefinition, for pod: PolicyPod,
                         _ direction: PolicyDefinition.Direction, pods: [PolicyPod], namespaceLabels: [String: [String: String]],
                         sets: inout SetNamer) -> [PolicyRuleset.Match] {
        // Each peer as the pods it selects (nil: an address match that is not about pods).
        let peers: [(match: PolicyRuleset.PeerMatch, pods: [PolicyPod]?)]
        if rule.peers.isEmpty {
            peers = [(.any, direction == .egress ? pods : nil)]
        } else {
            peers = rule.peers.compactMap { peer -> (match: PolicyRuleset.PeerMatch, pods: [PolicyPod]?)? in
                switch peer {
                case .none: return nil
                case .ipBlock(let cidr, let except): return (.block(cidr: cidr, except: except), nil)
                case .pods(let podSelector, let namespaceSelector):
                    let selected = pods.filter { p in
                        let podOK = podSelector.map { $0.matches(p.labels) } ?? true
                        let nsOK: Bool
                        if let namespaceSelector {
                            nsOK = namespaceLabels[p.namespace].map(namespaceSelector.matches) ?? false
                        } else {
                            nsOK = p.namespace == policy.namespace
                        }
                        return podOK && nsOK
                    }
                    guard !selected.isEmpty else { return nil }
                    return (.set(sets.name(for: selected.map(\.ip))), selected)
                }
            }
        }
        let ports = rule.ports.isEmpty ? [PolicyDefinition.Port?.none] : rule.ports.map { Optional($0) }
        var out: [PolicyRuleset.Match] = []
        for peer in peers {
            for port in ports {
                guard let port else {
                    out.append(.init(peer: peer.match, proto: nil, ports: nil))
                    continue
                }
                switch port.target {
                case .nothing: continue
                case .all: out.append(.init(peer: peer.match, proto: port.proto, ports: nil))
                case .range(let a, let b): out.append(.init(peer: peer.match, proto: port.proto, ports: a...b))
                case .named(let portName):
                    if direction == .ingress {
                        if let n = pod.resolve(portName, proto: port.proto) {
                            out.append(.init(peer: peer.match, proto: port.proto, ports: n...n))
                        }
                    } else if let targets = peer.pods {
                        // Egress: the port differs per destination pod; group them by number.
                        var byPort: [Int: [String]] = [:]
                        for target in targets { if let n = target.resolve(portName, proto: port.proto) { byPort[n, default: []].append(target.ip) } }
                        for (n, ips) in byPort.sorted(by: { $0.key < $1.key }) {
                            out.append(.init(peer: .addresses(ips), proto: port.proto, ports: n...n))
                        }
                    }
                }
            }
        }
        return out
    }

    /// Chains are named after the pod's host-side veth, which is how an operator finds the pod
    /// in `ip link` too.
    static func chainName(_ direction: PolicyDefinition.Direction, _ pod: PolicyPod) -> String {
        let key = pod.uid.isEmpty ? pod.ip.replacingOccurrences(of: ".", with: "-") : PodNetworkHost.hostVethName(podUID: pod.uid)
        return (direction == .ingress ? "ingress-" : "egress-") + key
    }

    /// Numeric order of dotted IPv4 addresses, so sets and maps come out stable.
    static func order(_ a: String, _ b: String) -> Bool {
        (IPv4CIDR.parseAddress(a) ?? 0, a) < (IPv4CIDR.parseAddress(b) ?? 0, b)
    }

    private static func unique(_ matches: [PolicyRuleset.Match]) -> [PolicyRuleset.Match] {
        var seen = Set<PolicyRuleset.Match>()
        return matches.filter { seen.insert($0).inserted }
    }
}

/// Gives each distinct list of peer IPs one named set, so peers that several rules or pods
/// share are stored once.
private struct SetNamer {
    var sets: [(name: String, addresses: [String])] = []
    private var byContent: [[String]: String] = [:]

    mutating func name(for addresses: [String]) -> String {
        let key = Array(Set(addresses)).sorted(by: PolicyCompiler.order)
        if let name = byContent[key] { return name }
        let name = "peer-\(sets.count)"
        byContent[key] = name
        sets.append((name, key))
        return name
    }
}
