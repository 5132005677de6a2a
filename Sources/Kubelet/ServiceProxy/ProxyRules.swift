/// What the proxy programs for one node: kube-proxy's nftables mode reduced to one table.
///
/// - Capture first: filter chains on the forward and output hooks reject (TCP reset, else ICMP
///   port unreachable) every packet still addressed to the service CIDR after NAT, i.e. to a
///   service IP with no Service or no usable endpoint. Nothing for the range leaves the node.
/// - `services` (nat, from the node's own pod bridge and from the host itself) sends each
///   cluster IP and port to its service chain; `nodeports` does the same for the node's
///   addresses. A service chain picks an endpoint chain (the client's remembered endpoint under
///   `sessionAffinity: ClientIP`, else `numgen random`), which DNATs to the endpoint and marks
///   hairpin traffic (a pod reaching itself) for masquerade.
public struct ProxyRules: Sendable {
    /// Marks connections to masquerade in postrouting (hairpin; all pod→service traffic when
    /// bridged replies cannot be un-NATed).
    public static let masqueradeMark = "0x4000"

    public var table: String
    public var serviceCIDR: String
    /// The node's pod bridge: pod traffic arrives from it.
    public var bridge: String
    public var nodeName: String
    /// Addresses NodePorts answer on.
    public var nodeIPs: [String]
    /// Masquerade every pod→service connection (when br_netfilter is unavailable and a
    /// backend's reply on the same bridge would skip un-DNAT).
    public var masqueradePodTraffic: Bool

    public init(table: String, serviceCIDR: String, bridge: String, nodeName: String, nodeIPs: [String], masqueradePodTraffic: Bool = false) {
        self.table = table
        self.serviceCIDR = serviceCIDR
        self.bridge = bridge
        self.nodeName = nodeName
        self.nodeIPs = nodeIPs
        self.masqueradePodTraffic = masqueradePodTraffic
    }

    /// The whole table for these ports. Pure: same input, same text.
    public func ruleset(for ports: [ProxiedServicePort]) -> NftRuleset {
        var rs = NftRuleset(table: "ip " + table)
        let svc = serviceCIDR
        let nodeAddresses = nodeIPs.isEmpty ? nil : "{ " + nodeIPs.joined(separator: ", ") + " }"
        let capture = ["ip daddr \(svc) meta l4proto tcp reject with tcp reset comment \"service CIDR capture\"",
                       "ip daddr \(svc) reject with icmp type port-unreachable comment \"service CIDR capture\""]
        var inputRejects: [String] = []
        var prerouting: [String] = []
        if masqueradePodTraffic { prerouting.append("iifname \"\(bridge)\" ip daddr \(svc) meta mark set meta mark | \(Self.masqueradeMark)") }
        prerouting.append("iifname \"\(bridge)\" ip daddr \(svc) jump services")
        var output = ["ip daddr \(svc) jump services"]
        if let nodeAddresses {
            prerouting.append("ip daddr \(nodeAddresses) jump nodeports")
            output.append("ip daddr \(nodeAddresses) jump nodeports")
        }
        var services: [String] = []
        var nodeports: [String] = []
        var serviceChains: [NftRuleset.Chain] = []
        var endpointChains: [String: NftRuleset.Chain] = [:]
        var affinitySets: [String: NftRuleset.NamedSet] = [:]

        for port in ports {
            let id = PodNetworkHost.hexHash("\(port.namespace)/\(port.name)/\(port.portName)/\(port.l4.rawValue)", 12)
            let comment = "comment \"\(Self.commentText(port.displayName))\""
            let match = "\(port.l4.rawValue) dport"
            // Endpoint chains are shared by the cluster IP and the node port of one Service port.
            func endpointChain(_ ep: ProxyEndpoint) -> String {
                let key = PodNetworkHost.hexHash("\(id)/\(ep.ip):\(ep.port)", 12)
                let name = "ep-" + key
                if endpointChains[name] == nil {
                    var rules = ["ip saddr \(ep.ip) meta mark set meta mark | \(Self.masqueradeMark) comment \"hairpin\""]
                    if let seconds = port.affinitySeconds {
                        let set = "aff-" + key
                        affinitySets[set] = .init(name: set, declaration: "type ipv4_addr ; flags dynamic,timeout ; timeout \(seconds)s ;")
                        rules.append("update @\(set) { ip saddr }")
                    }
                    rules.append("meta l4proto \(port.l4.rawValue) dnat to \(ep.ip):\(ep.port)")
                    endpointChains[name] = .init(name: name, hook: nil, rules: rules)
                }
                return name
            }
            func dispatch(_ endpoints: [ProxyEndpoint]) -> [String] {
                let targets = endpoints.map(endpointChain)
                var rules: [String] = []
                if port.affinitySeconds != nil {
                    rules += targets.map { "ip saddr @aff-\($0.dropFirst(3)) goto \($0)" }
                }
                if targets.count == 1 {
                    rules.append("goto \(targets[0])")
                } else {
                    let map = targets.enumerated().map { "\($0.offset) : goto \($0.element)" }.joined(separator: ", ")
                    rules.append("numgen random mod \(targets.count) vmap { \(map) }")
                }
                return rules
            }

            if let clusterIP = port.clusterIP {
                let endpoints = port.usableEndpoints(node: nodeName, local: port.internalLocal)
                if !endpoints.isEmpty {
                    let chain = "svc-" + id
                    services.append("ip daddr \(clusterIP) \(match) \(port.port) goto \(chain) \(comment)")
                    serviceChains.append(.init(name: chain, hook: nil, rules: dispatch(endpoints)))
                }
            }
            if let nodePort = port.nodePort {
                let endpoints = port.usableEndpoints(node: nodeName, local: port.externalLocal)
                if endpoints.isEmpty {
                    if let nodeAddresses {
                        inputRejects.append("ip daddr \(nodeAddresses) \(match) \(nodePort) reject \(comment)")
                    }
                } else {
                    let chain = "ext-" + id
                    nodeports.append("\(match) \(nodePort) goto \(chain) \(comment)")
                    serviceChains.append(.init(name: chain, hook: nil, rules: dispatch(endpoints)))
                }
            }
        }

        rs.sets = affinitySets.values.sorted { $0.name < $1.name }
        rs.chains = [
            .init(name: "capture-forward", hook: "type filter hook forward priority 0 ; policy accept ;", rules: capture),
            .init(name: "capture-output", hook: "type filter hook output priority 0 ; policy accept ;", rules: capture),
            .init(name: "nodeport-input", hook: "type filter hook input priority 0 ; policy accept ;", rules: inputRejects),
            .init(name: "nat-prerouting", hook: "type nat hook prerouting priority -100 ; policy accept ;", rules: prerouting),
            .init(name: "nat-output", hook: "type nat hook output priority -100 ; policy accept ;", rules: output),
            .init(name: "nat-postrouting", hook: "type nat hook postrouting priority 100 ; policy accept ;",
                  rules: ["meta mark & \(Self.masqueradeMark) == \(Self.masqueradeMark) masquerade"]),
            .init(name: "services", hook: nil, rules: services),
            .init(name: "nodeports", hook: nil, rules: nodeports),
        ] + serviceChains + endpointChains.values.sorted { $0.name < $1.name }
        return rs
    }

    /// nft comments are quoted strings of at most 128 bytes.
    static func commentText(_ text: String) -> String {
        String(text.filter { $0 != "\"" && $0 != "\\" }.prefix(120))
    }
}
