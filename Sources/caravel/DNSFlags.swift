import ArgumentParser
import Kubelet

/// The node DNS server's flags, shared by `caravel server` (its built-in node) and
/// `caravel kubelet` (the first two are the kubelet's names).
struct DNSFlags: ParsableArguments {
    @Option(help: "Cluster domain: Services are SVC.NS.svc.DOMAIN, pods search NS.svc.DOMAIN svc.DOMAIN DOMAIN.")
    var clusterDomain: String = "cluster.local"

    @Option(help: "Resolver configuration whose nameservers get the names outside the cluster, and which dnsPolicy: Default pods get (\"\" for none).")
    var resolvConf: String = "/etc/resolv.conf"

    @Option(help: "Where the node DNS server listens: auto (port 53 on the pod bridge gateway, the pods' nameserver), IP[:PORT], or off.")
    var dnsAddress: String = "auto"

    func validate() throws {
        guard NodeDNSOptions.isValidDomain(clusterDomain) else {
            throw ValidationError("--cluster-domain must be a lowercase DNS name such as cluster.local, got \"\(clusterDomain)\"")
        }
        guard NodeDNSOptions.listen(dnsAddress) != nil else {
            throw ValidationError("--dns-address must be auto, off, an IPv4 address or IPv4:PORT, got \"\(dnsAddress)\"")
        }
    }

    var options: NodeDNSOptions {
        var o = NodeDNSOptions()
        o.clusterDomain = clusterDomain
        o.resolvConf = resolvConf
        o.listen = NodeDNSOptions.listen(dnsAddress) ?? .podGateway
        return o
    }
}
