/// How the node DNS server is set up (`--cluster-domain`, `--resolv-conf`, `--dns-address`).
public struct NodeDNSOptions: Sendable, Equatable {
    public enum Listen: Sendable, Equatable {
        /// Port 53 on the pod bridge's gateway address (needs root and a podCIDR).
        case podGateway
        /// A fixed address: for hosts without a pod bridge, and for tests (any port; pods'
        /// resolv.conf can only name port 53, so pods use it only there).
        case address(host: String, port: Int)
        case off
    }

    public var clusterDomain = "cluster.local"
    /// The node's resolver configuration: upstreams for other names, and `dnsPolicy: Default`.
    public var resolvConf = "/etc/resolv.conf"
    public var listen: Listen = .podGateway

    public init() {}

    /// `auto`, `off`, `IP` (port 53) or `IP:PORT`; nil when not one of those.
    public static func listen(_ text: String) -> Listen? {
        switch text {
        case "auto": return .podGateway
        case "off": return .off
        default:
            if IPv4Text.bytes(text) != nil { return .address(host: text, port: 53) }
            guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
                  (0...65535).contains(port), IPv4Text.bytes(String(text[..<colon])) != nil else { return nil }
            return .address(host: String(text[..<colon]), port: port)
        }
    }

    /// A cluster domain is a DNS name of at least one label.
    public static func isValidDomain(_ text: String) -> Bool {
        guard let name = DNSName(text), !name.labels.isEmpty else { return false }
        return name.labels.allSatisfy { label in label.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 45 } }
    }
}
