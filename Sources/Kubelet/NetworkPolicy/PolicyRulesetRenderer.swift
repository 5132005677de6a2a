/// nft syntax for a `PolicyRuleset`: one script that `nft -f` applies as a single transaction,
/// replacing the whole table, so the kernel never holds a half-updated rule set.
///
/// The base chain hooks `forward` in the `inet` family. Pod-to-pod traffic on one bridge is
/// bridged, not routed; it reaches the inet hooks because br_netfilter passes bridged IPv4
/// through them (`net.bridge.bridge-nf-call-iptables=1`), with conntrack. The `bridge` family
/// would need nf_conntrack_bridge for `ct state`, which kernels often lack. Traffic from the
/// node itself to its pods leaves through `output`, not `forward`, so probes always pass.
enum PolicyRulesetRenderer {
    static let egressMap = "egress-pods"
    static let ingressMap = "ingress-pods"

    static func script(_ ruleset: PolicyRuleset) -> String {
        let t = "inet \(ruleset.table)"
        var lines = ["add table \(t)", "delete table \(t)", "table \(t) {"]
        for set in ruleset.sets {
            lines.append("  set \(set.name) {")
            lines.append("    type ipv4_addr")
            if !set.addresses.isEmpty { lines.append("    elements = { \(set.addresses.joined(separator: ", ")) }") }
            lines.append("  }")
        }
        for (map, direction) in [(egressMap, PolicyDefinition.Direction.egress), (ingressMap, .ingress)] {
            let entries = ruleset.chains.filter { $0.direction == direction }.map { "\($0.podIP) : jump \($0.name)" }
            lines.append("  map \(map) {")
            lines.append("    type ipv4_addr : verdict")
            if !entries.isEmpty { lines.append("    elements = { \(entries.joined(separator: ", ")) }") }
            lines.append("  }")
        }
        lines += [
            "  chain forward {",
            "    type filter hook forward priority filter; policy accept;",
            // Replies and related traffic (ICMP errors) of allowed connections.
            "    ct state established,related accept",
            // Egress chains `return` what they allow, so the destination's ingress chain still runs.
            "    ip saddr vmap @\(egressMap)",
            "    ip daddr vmap @\(ingressMap)",
            "  }",
        ]
        for chain in ruleset.chains {
            lines.append("  chain \(chain.name) {")
            let verdict = chain.direction == .egress ? "return" : "accept"
            let field = chain.direction == .egress ? "daddr" : "saddr"
            for m in chain.matches { lines.append("    " + rule(m, field: field) + verdict) }
            lines.append("    drop")
            lines.append("  }")
        }
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }

    /// Removes the table (creating it first makes the delete succeed when it is already gone).
    static func removal(table: String) -> String {
        "add table inet \(table)\ndelete table inet \(table)\n"
    }

    private static func rule(_ m: PolicyRuleset.Match, field: String) -> String {
        var parts: [String] = []
        switch m.peer {
        case .any: break
        case .set(let name): parts.append("ip \(field) @\(name)")
        case .addresses(let list): parts.append("ip \(field) " + (list.count == 1 ? list[0] : "{ \(list.joined(separator: ", ")) }"))
        case .block(let cidr, let except):
            parts.append("ip \(field) \(cidr)")
            if !except.isEmpty { parts.append("ip \(field) != { \(except.map(\.description).joined(separator: ", ")) }") }
        }
        if let proto = m.proto { parts.append("meta l4proto \(proto.nftName)") }
        if let range = m.ports {
            parts.append("th dport " + (range.lowerBound == range.upperBound ? "\(range.lowerBound)" : "\(range.lowerBound)-\(range.upperBound)"))
        }
        return parts.map { $0 + " " }.joined()
    }
}
