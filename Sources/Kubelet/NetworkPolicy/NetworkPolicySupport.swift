import Foundation

/// Whether this node can enforce NetworkPolicy: root, the `nft` program, and bridged IPv4
/// passed through the inet hooks (br_netfilter with `bridge-nf-call-iptables` on, which this
/// turns on when the module is loaded but the switch is off, as CNI plugins do).
enum NetworkPolicySupport {
    static let bridgeNetfilterSwitch = "/proc/sys/net/bridge/bridge-nf-call-iptables"

    /// The nft path, or why enforcement is off.
    static func check() -> Result<String, Unsupported> {
        guard getuid() == 0 else { return .failure(Unsupported("the kubelet does not run as root")) }
        guard let nft = PodNetworkCommand.find("nft") else { return .failure(Unsupported("the nft command (nftables) is not installed")) }
        guard let value = try? String(contentsOfFile: bridgeNetfilterSwitch, encoding: .utf8) else {
            return .failure(Unsupported("br_netfilter is not loaded (no \(bridgeNetfilterSwitch)): pods on one bridge would bypass the rules"))
        }
        if value.trimmingCharacters(in: .whitespacesAndNewlines) != "1" {
            guard let handle = FileHandle(forWritingAtPath: bridgeNetfilterSwitch),
                  (try? handle.write(contentsOf: Data("1".utf8))) != nil else {
                return .failure(Unsupported("cannot set net.bridge.bridge-nf-call-iptables=1"))
            }
            try? handle.close()
        }
        return .success(nft)
    }

    struct Unsupported: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }
}
