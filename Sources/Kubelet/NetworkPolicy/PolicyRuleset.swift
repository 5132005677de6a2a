/// The compiled form of every NetworkPolicy that applies to one node's pods: named sets of
/// peer pod IPs, the pods that are isolated in each direction (IP to verdict chain) and one
/// chain per isolated pod and direction. `PolicyRulesetRenderer` turns it into nft syntax;
/// `allows` answers what the kernel would, so semantics can be checked without a kernel.
struct PolicyRuleset: Sendable, Equatable {
    /// Which addresses a rule accepts on the far side (source for ingress, destination for egress).
    enum PeerMatch: Sendable, Hashable {
        case any
        /// A named set of pod IPs (`sets`).
        case set(String)
        /// Pod IPs listed inline (egress to named ports, grouped by the port they resolve to).
        case addresses([String])
        case block(cidr: IPv4CIDR, except: [IPv4CIDR])
    }

    struct Match: Sendable, Hashable {
        var peer: PeerMatch
        /// Nil: any protocol.
        var proto: PolicyProtocol?
        /// Nil: any port of `proto`.
        var ports: ClosedRange<Int>?
    }

    /// One pod's rules for one direction: traffic matching any rule is allowed, the rest dropped.
    struct Chain: Sendable, Equatable {
        var name: String
        var direction: PolicyDefinition.Direction
        var podIP: String
        var matches: [Match]
    }

    var table: String
    /// Peer set name to sorted pod IPs.
    var sets: [(name: String, addresses: [String])]
    /// Egress chains first, then ingress, each sorted by pod IP.
    var chains: [Chain]

    static func == (a: PolicyRuleset, b: PolicyRuleset) -> Bool {
        a.table == b.table && a.chains == b.chains && a.sets.elementsEqual(b.sets) { $0.name == $1.name && $0.addresses == $1.addresses }
    }

    func chain(_ direction: PolicyDefinition.Direction, for podIP: String) -> Chain? {
        chains.first { $0.direction == direction && $0.podIP == podIP }
    }

    /// Whether a new connection from `source` to `destination` on `proto`/`port` would pass:
    /// the source's egress chain (if it is isolated for egress) and then the destination's
    /// ingress chain (if isolated for ingress) must both allow it.
    func allows(from source: String, to destination: String, proto: PolicyProtocol, port: Int) -> Bool {
        if let egress = chain(.egress, for: source), !egress.matches.contains(where: { matches($0, peer: destination, proto, port) }) {
            return false
        }
        if let ingress = chain(.ingress, for: destination), !ingress.matches.contains(where: { matches($0, peer: source, proto, port) }) {
            return false
        }
        return true
    }

    private func matches(_ m: Match, peer: String, _ proto: PolicyProtocol, _ port: Int) -> Bool {
        if let p = m.proto, p != proto { return false }
        if let range = m.ports, !range.contains(port) { return false }
        guard let address = IPv4CIDR.parseAddress(peer) else { return false }
        switch m.peer {
        case .any: return true
        case .set(let name): return sets.first { $0.name == name }?.addresses.contains(peer) ?? false
        case .addresses(let list): return list.contains(peer)
        case .block(let cidr, let except): return cidr.contains(address) && !except.contains { $0.contains(address) }
        }
    }
}
