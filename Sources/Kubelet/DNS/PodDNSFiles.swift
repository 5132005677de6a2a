import Foundation
import KubeModel
import Synchronization

/// The node DNS server's address once known (the pod bridge gateway, or the configured
/// address); pods started before then fall back to the host's resolver, as the kubelet does
/// without `--cluster-dns`.
public final class NodeDNSAddress: Sendable {
    private let value = Mutex<String?>(nil)
    public init(_ initial: String? = nil) { value.withLock { $0 = initial } }
    public var current: String? { value.withLock { $0 } }
    public func set(_ address: String?) { value.withLock { $0 = address } }
}

/// Writes a pod's resolv.conf and hosts into its pod directory and gives the bind mounts
/// that put them at /etc/resolv.conf and /etc/hosts in every container.
public struct PodDNSFiles: Sendable {
    public let clusterDomain: String
    /// The node's resolv.conf (`--resolv-conf`): upstreams and the `Default` policy.
    public let resolvConfPath: String
    public let nodeHostsPath: String
    public let nameserver: NodeDNSAddress

    public init(clusterDomain: String, resolvConfPath: String, nameserver: NodeDNSAddress, nodeHostsPath: String = "/etc/hosts") {
        self.clusterDomain = clusterDomain
        self.resolvConfPath = resolvConfPath
        self.nameserver = nameserver
        self.nodeHostsPath = nodeHostsPath
    }

    public struct Prepared: Sendable {
        public var mounts: [Mount]
        public var warning: (reason: String, message: String)?
    }

    /// The files for `pod` under `podDirectory`, rewritten only when their content changed
    /// (a running container keeps the file it was started with).
    public func prepare(pod: JSONValue, podIPs: [String], podDirectory: String, container: JSONValue) throws -> Prepared {
        let hostNetwork = pod[path: ["spec", "hostNetwork"]]?.boolValue ?? false
        let mountedPaths = Set((container["volumeMounts"]?.arrayValue ?? []).compactMap { $0["mountPath"]?.stringValue })
        var prepared = Prepared(mounts: [])
        let host = ResolvConf.load(path: resolvConfPath)
        let (conf, warning) = PodDNSConfig.resolvConf(for: pod, clusterDomain: clusterDomain,
                                                      clusterNameservers: nameserver.current.map { [$0] } ?? [], host: host)
        prepared.warning = warning
        // A host-network pod resolving like its node already sees the node's file.
        let ownResolvConf = !(hostNetwork && PodDNSConfig.kind(of: pod) == .host && pod[path: ["spec", "dnsConfig"]] == nil)
        if ownResolvConf && !mountedPaths.contains("/etc/resolv.conf") {
            let path = podDirectory + "/resolv.conf"
            try Self.write(conf.rendered, to: path)
            prepared.mounts.append(Mount(hostPath: path, containerPath: "/etc/resolv.conf", readOnly: false))
        }
        // As the kubelet: no managed hosts file when the container mounts its own, or before
        // the pod has an IP.
        if !mountedPaths.contains("/etc/hosts") && (hostNetwork || podIPs.contains { !$0.isEmpty }) {
            let nodeHosts = hostNetwork ? ((try? String(contentsOfFile: nodeHostsPath, encoding: .utf8)) ?? "") : ""
            let path = podDirectory + "/etc-hosts"
            try Self.write(PodHostsFile.content(for: pod, podIPs: podIPs, clusterDomain: clusterDomain, nodeHosts: nodeHosts), to: path)
            prepared.mounts.append(Mount(hostPath: path, containerPath: "/etc/hosts", readOnly: false))
        }
        return prepared
    }

    static func write(_ content: String, to path: String) throws {
        let data = Data(content.utf8)
        if FileManager.default.contents(atPath: path) == data { return }
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try data.write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}
