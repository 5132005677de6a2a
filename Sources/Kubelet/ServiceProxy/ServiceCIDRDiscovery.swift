import KubeClient
import Logging

/// How a kubelet started without `--service-cluster-ip-range` learns the range: from the
/// `kubernetes` Service, whose cluster IP is the range's first address. Inside the default
/// range (10.96.0.0/12) that is the range; otherwise it is the /16 starting at that address,
/// which is what `caravel server` chooses when the default is taken on its host.
enum ServiceCIDRDiscovery {
    static func derive(kubernetesServiceIP ip: String) -> String? {
        guard let address = IPv4CIDR.parseAddress(ip) else { return nil }
        if let standard = IPv4CIDR(NetworkRanges.defaultServiceCIDR), standard.contains(address) { return standard.description }
        return IPv4CIDR(IPv4CIDR.format(address) + "/16")?.description
    }

    /// Retries until the Service is readable (nil only when cancelled).
    static func discover(client: KubeRESTClient, logger: Logger) async -> String? {
        var delay = Duration.milliseconds(200)
        while !Task.isCancelled {
            if let service = try? await client.get("/api/v1/namespaces/default/services/kubernetes"),
               let ip = service[path: ["spec", "clusterIP"]]?.stringValue, let range = derive(kubernetesServiceIP: ip) {
                logger.info("service proxy: service CIDR derived from the kubernetes Service", metadata: ["serviceCIDR": "\(range)"])
                return range
            }
            try? await Task.sleep(for: delay)
            delay = min(delay * 2, .seconds(10))
        }
        return nil
    }
}
