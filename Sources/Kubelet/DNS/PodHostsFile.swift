import KubeModel

/// A pod's /etc/hosts as the kubelet writes it: localhost lines, the pod's IPs with its
/// hostname (and FQDN when it has a subdomain), then `hostAliases`. Host-network pods get
/// the node's own file with their aliases appended.
public enum PodHostsFile {
    public static func content(for pod: JSONValue, podIPs: [String], clusterDomain: String, nodeHosts: String) -> String {
        var out: String
        if pod[path: ["spec", "hostNetwork"]]?.boolValue ?? false {
            out = "# Kubernetes-managed hosts file (host network).\n" + nodeHosts
            if !out.hasSuffix("\n") { out += "\n" }
        } else {
            out = """
                # Kubernetes-managed hosts file.
                127.0.0.1\tlocalhost
                ::1\tlocalhost ip6-localhost ip6-loopback
                fe00::0\tip6-localnet
                fe00::0\tip6-mcastprefix
                fe00::1\tip6-allnodes
                fe00::2\tip6-allrouters

                """
            let hostname = Self.hostname(of: pod)
            let subdomain = pod[path: ["spec", "subdomain"]]?.stringValue ?? ""
            for ip in podIPs where !ip.isEmpty {
                if subdomain.isEmpty {
                    out += "\(ip)\t\(hostname)\n"
                } else {
                    out += "\(ip)\t\(hostname).\(subdomain).\(pod.namespace ?? "default").svc.\(clusterDomain)\t\(hostname)\n"
                }
            }
        }
        let aliases = pod[path: ["spec", "hostAliases"]]?.arrayValue ?? []
        if !aliases.isEmpty {
            out += "\n# Entries added by HostAliases.\n"
            for alias in aliases {
                guard let ip = alias["ip"]?.stringValue, !ip.isEmpty else { continue }
                let names = (alias["hostnames"]?.arrayValue ?? []).compactMap(\.stringValue).filter { !$0.isEmpty }
                out += ([ip] + names).joined(separator: "\t") + "\n"
            }
        }
        return out
    }

    /// spec.hostname, else the pod name cut to 63 characters (without a trailing '-' or '.').
    public static func hostname(of pod: JSONValue) -> String {
        if let name = pod[path: ["spec", "hostname"]]?.stringValue, !name.isEmpty { return name }
        var name = String((pod.name ?? "").prefix(63))
        while name.hasSuffix("-") || name.hasSuffix(".") { name.removeLast() }
        return name
    }
}
