import Foundation

/// What `sandbox.json` holds for a pod with its own network namespace.
struct PodNetworkRecord: Codable, Sendable, Equatable {
    var podUID: String
    var ip: String
    var netns: String
    var hostVeth: String
}

/// Host-side helpers of `PodNetwork`: interface names, the node's own address, NAT.
enum PodNetworkHost {
    /// Prefix of every bridge a Caravel kubelet creates; their addresses are never the host IP,
    /// and traffic going out through them is pod-to-pod, so it is not masqueraded.
    static let bridgePrefix = "cvl"

    /// Interface names are limited to 15 bytes (IFNAMSIZ - 1); a hash keeps them short and stable.
    /// The kubelet's root directory is part of it, so two servers on one host (each with its
    /// own data directory) never share a bridge even with the same node name.
    static func bridgeName(rootDirectory: String, nodeName: String) -> String {
        bridgePrefix + hexHash(ProxyHost.standardized(rootDirectory) + "\n" + nodeName, 8)
    }

    /// The table holding the pods' masquerade rule: one per kubelet root, like the bridge.
    public static func natTableName(rootDirectory: String) -> String {
        "caravel-nat-" + hexHash(ProxyHost.standardized(rootDirectory), 8)
    }
    static func hostVethName(podUID: String) -> String { "cv" + hexHash(podUID, 12) }

    /// `cvl-` and the UID's first 12 characters (readable in `ip netns list`); characters that
    /// cannot be in a file name become `-`.
    static func netnsName(podUID: String) -> String {
        let safe = podUID.prefix(12).map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") ? $0 : "-" }
        return "cvl-" + String(safe)
    }

    /// Used when two UIDs share their first 12 characters.
    static func uniqueNetnsName(podUID: String) -> String { "cvl-" + hexHash(podUID, 16) }

    static func netnsPath(_ name: String) -> String { "/var/run/netns/" + name }

    /// FNV-1a, 64 bits: stable across runs and processes (unlike `Hasher`), at most 16 hex digits.
    static func hexHash(_ text: String, _ count: Int) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return String((String(repeating: "0", count: 16 - hex.count) + hex).prefix(count))
    }

    /// The first up, non-loopback IPv4 address not on a pod bridge nor inside `excluding`.
    static func hostIP(excluding cidr: IPv4CIDR?) -> String {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0, let first = list else { return "127.0.0.1" }
        defer { freeifaddrs(list) }
        var fallback: String?
        var cursor: UnsafeMutablePointer<ifaddrs>? = first
        while let entry = cursor {
            cursor = entry.pointee.ifa_next
            guard let sa = entry.pointee.ifa_addr, sa.pointee.sa_family == sa_family_t(AF_INET) else { continue }
            let flags = Int32(bitPattern: entry.pointee.ifa_flags)
            let name = String(cString: entry.pointee.ifa_name)
            guard flags & Int32(IFF_LOOPBACK) == 0, !name.hasPrefix(bridgePrefix) else { continue }
            let address = sa.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt32(bigEndian: $0.pointee.sin_addr.s_addr) }
            if let cidr, cidr.contains(address) { continue }
            let text = IPv4CIDR.format(address)
            if flags & Int32(IFF_UP) != 0 { return text }
            if fallback == nil { fallback = text }
        }
        return fallback ?? "127.0.0.1"
    }

    /// Lets pods reach beyond the node (and other nodes' bridges on this machine) through the
    /// host's routing.
    static func enableForwarding() -> Bool {
        guard let handle = FileHandle(forWritingAtPath: "/proc/sys/net/ipv4/ip_forward") else { return false }
        defer { try? handle.close() }
        return (try? handle.write(contentsOf: Data("1".utf8))) != nil
    }

    /// `net.ipv4.conf.BRIDGE.route_localnet=1`: packets from pods DNATed to 127.0.0.1 are
    /// delivered instead of dropped as martians (as kube-proxy does for localhost node ports).
    static func allowLoopbackDNAT(bridge: String) -> Bool {
        guard let handle = FileHandle(forWritingAtPath: "/proc/sys/net/ipv4/conf/\(bridge)/route_localnet") else { return false }
        defer { try? handle.close() }
        return (try? handle.write(contentsOf: Data("1".utf8))) != nil
    }

    /// Source NAT for pod traffic leaving through a non-bridge interface, so pods reach the
    /// outside world; pod-to-pod traffic (bridge to bridge) keeps its source IP. Best effort:
    /// nft, else iptables, else nothing. Returns what it did, for the log.
    static func ensureMasquerade(cidr: IPv4CIDR, bridge: String, table natTable: String) async -> String {
        if let nft = PodNetworkCommand.find("nft") {
            // A table of this kubelet's own, for its own bridge, so servers on one host never
            // rewrite each other's rules. One nft invocation is one transaction: flush-then-add
            // leaves exactly one rule.
            let table = "ip \(natTable)"
            let script = [
                "add table \(table)",
                "add chain \(table) postrouting { type nat hook postrouting priority srcnat ; }",
                "flush chain \(table) postrouting",
                "add rule \(table) postrouting iifname \"\(bridge)\" oifname != \"\(bridgePrefix)*\" masquerade",
                // Pods may reach loopback only through a Service DNAT (the `kubernetes` Service
                // of a server listening on 127.0.0.1); nothing else they send to 127/8 is let in.
                "add chain \(table) loopback-guard { type filter hook input priority 0 ; }",
                "flush chain \(table) loopback-guard",
                "add rule \(table) loopback-guard iifname \"\(bridge)\" ip daddr 127.0.0.0/8 ct status ! dnat drop",
            ].joined(separator: "; ")
            guard let result = try? await PodNetworkCommand.run(nft, [script]), result.status == 0 else {
                return "nft failed"
            }
            // With the guard in place, DNAT to loopback from the bridge may be routed.
            return allowLoopbackDNAT(bridge: bridge) ? "nft" : "nft (no route_localnet: pods cannot reach a loopback API server)"
        }
        // iptables cannot match the input interface in POSTROUTING, hence one rule per range.
        let source = cidr.description
        if let iptables = PodNetworkCommand.find("iptables") {
            let rule = ["POSTROUTING", "-s", source, "!", "-o", bridgePrefix + "+", "-j", "MASQUERADE"]
            if let check = try? await PodNetworkCommand.run(iptables, ["-t", "nat", "-C"] + rule), check.status == 0 {
                return "iptables rule present"
            }
            guard let added = try? await PodNetworkCommand.run(iptables, ["-t", "nat", "-A"] + rule), added.status == 0 else {
                return "iptables failed"
            }
            return "iptables rule added"
        }
        return "no nft or iptables"
    }
}
