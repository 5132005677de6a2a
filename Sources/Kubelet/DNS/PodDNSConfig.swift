import KubeModel

/// A pod's /etc/resolv.conf as the kubelet derives it from `dnsPolicy`, `dnsConfig` and
/// `hostNetwork` (pkg/kubelet/network/dns): pure, so each policy is tested on its own.
public enum PodDNSConfig {
    /// Where a pod's names are resolved.
    public enum Kind: Equatable, Sendable {
        /// The cluster DNS server, cluster search domains, ndots:5.
        case cluster
        /// The node's own resolv.conf.
        case host
        /// Only what `dnsConfig` says.
        case none
    }

    /// Search paths and their total length, as the kubelet caps them.
    static let maxSearches = 32
    static let maxSearchCharacters = 2048
    static let maxNameservers = 3

    /// ClusterFirst (the default) means the host's resolver for host-network pods; only
    /// ClusterFirstWithHostNet gives them the cluster's.
    public static func kind(of pod: JSONValue) -> Kind {
        let hostNetwork = pod[path: ["spec", "hostNetwork"]]?.boolValue ?? false
        switch pod[path: ["spec", "dnsPolicy"]]?.stringValue ?? "ClusterFirst" {
        case "ClusterFirstWithHostNet": return .cluster
        case "Default": return .host
        case "None": return .none
        default: return hostNetwork ? .host : .cluster
        }
    }

    /// The pod's resolv.conf, and a warning event (reason, message) when the kubelet would
    /// give one: cluster DNS asked for but unknown (the host's resolver is used instead), or
    /// search paths cut to the limits.
    public static func resolvConf(for pod: JSONValue, clusterDomain: String, clusterNameservers: [String],
                                  host: ResolvConf) -> (conf: ResolvConf, warning: (reason: String, message: String)?) {
        var warning: (reason: String, message: String)?
        var conf: ResolvConf
        switch kind(of: pod) {
        case .cluster where clusterNameservers.isEmpty:
            warning = ("MissingClusterDNS",
                       "pod: \"\(pod.name ?? "")_\(pod.namespace ?? "")(\(pod.uid ?? ""))\". kubelet does not have ClusterDNS IP configured and cannot create Pod using \"ClusterFirst\" policy. Falling back to \"Default\" policy.")
            conf = host
        case .cluster:
            let ns = pod.namespace ?? "default"
            conf = ResolvConf(nameservers: clusterNameservers,
                              searches: ["\(ns).svc.\(clusterDomain)", "svc.\(clusterDomain)", clusterDomain] + host.searches,
                              options: ["ndots:5"])
        case .host:
            conf = host
        case .none:
            conf = ResolvConf()
        }
        if let extra = pod[path: ["spec", "dnsConfig"]], extra.objectValue != nil {
            conf.nameservers = unique(conf.nameservers + strings(extra["nameservers"]))
            conf.searches = unique(conf.searches + strings(extra["searches"]))
            conf.options = mergeOptions(conf.options, extra["options"]?.arrayValue ?? [])
        }
        conf.nameservers = Array(conf.nameservers.prefix(maxNameservers))
        let (searches, cut) = fitSearches(conf.searches)
        if cut, warning == nil {
            warning = ("DNSConfigForming", "Search Line limits were exceeded, some search paths have been omitted, the applied search line is: \(searches.joined(separator: " "))")
        }
        conf.searches = searches
        return (conf, warning)
    }

    /// Options by name: a later one replaces an earlier one of the same name ("ndots:2" from
    /// the pod overrides the default "ndots:5"); a pod option without value has none.
    static func mergeOptions(_ base: [String], _ podOptions: [JSONValue]) -> [String] {
        var order: [String] = []
        var values: [String: String?] = [:]
        func add(_ name: String, _ value: String?) {
            if values[name] == nil { order.append(name) }
            values[name] = .some(value)
        }
        for option in base {
            let parts = option.split(separator: ":", maxSplits: 1).map(String.init)
            guard let name = parts.first else { continue }
            add(name, parts.count > 1 ? parts[1] : nil)
        }
        for option in podOptions {
            guard let name = option["name"]?.stringValue, !name.isEmpty else { continue }
            add(name, option["value"]?.stringValue)
        }
        return order.map { name in
            if let value = values[name] ?? nil { return "\(name):\(value)" }
            return name
        }
    }

    /// At most 32 search paths and 2048 characters in all, the first ones kept.
    static func fitSearches(_ searches: [String]) -> ([String], Bool) {
        var kept: [String] = []
        var length = 0
        for search in searches.prefix(maxSearches) {
            let added = length + search.count + (kept.isEmpty ? 0 : 1)
            if added > maxSearchCharacters { break }
            kept.append(search)
            length = added
        }
        return (kept, kept.count < searches.count)
    }

    static func strings(_ value: JSONValue?) -> [String] {
        (value?.arrayValue ?? []).compactMap(\.stringValue).filter { !$0.isEmpty }
    }

    static func unique(_ items: [String]) -> [String] {
        var seen = Set<String>()
        return items.filter { seen.insert($0).inserted }
    }
}
