import Foundation
import KubeClient
import KubeModel
import Logging

/// The node's DNS server (what CoreDNS with the kubernetes plugin is to a cluster, run per
/// node as NodeLocal DNSCache is): cluster names from Service and EndpointSlice informers,
/// other names forwarded to the node's resolv.conf nameservers. Its address becomes the
/// nameserver of pods on this node and the Node's `dns.caravel.dev/address` annotation, from
/// which the server keeps the `kube-dns` Service's endpoints.
public struct NodeDNS: Sendable {
    public static let addressAnnotation = "dns.caravel.dev/address"

    let options: NodeDNSOptions
    let client: KubeRESTClient
    let nodeName: String
    /// Shared with the pod workers: the nameserver their pods get.
    public let address: NodeDNSAddress
    let logger: Logger

    public init(options: NodeDNSOptions, client: KubeRESTClient, nodeName: String, logger: Logger) {
        self.options = options
        self.client = client
        self.nodeName = nodeName
        self.address = NodeDNSAddress()
        self.logger = logger
    }

    /// Serves until cancelled. `podGateway` waits for the node's pod bridge address (nil when
    /// the node has none: then the server stays off and says so once).
    public func run(podGateway: @escaping @Sendable () async -> String?) async {
        let host: String, port: Int
        switch options.listen {
        case .off:
            logger.notice("node DNS server is off (--dns-address off): pods use the node's resolver")
            return
        case .address(let h, let p):
            (host, port) = (h, p)
        case .podGateway:
            guard let gateway = await podGateway() else {
                if !Task.isCancelled {
                    logger.warning("node DNS server is off: no pod bridge (needs root and a podCIDR); --dns-address IP[:PORT] serves on a fixed address")
                }
                return
            }
            (host, port) = (gateway, 53)
        }
        guard let resolver = ClusterDNSResolver(clusterDomain: options.clusterDomain) else { return }
        let upstream = ResolvConf.load(path: options.resolvConf)
        let forwarder = DNSForwarder(nameservers: upstream.nameservers.filter { !Self.isSelf($0, host: host, port: port) })
        if forwarder.upstreams.isEmpty {
            logger.warning("node DNS server has no upstream resolvers: names outside the cluster get SERVFAIL",
                           metadata: ["resolvConf": .string(options.resolvConf)])
        }
        let services = Informer(source: RESTListWatch(client: client, path: "/api/v1/services"))
        let slices = Informer(source: RESTListWatch(client: client, path: "/apis/discovery.k8s.io/v1/endpointslices"))
        let cache = ClusterDNSIndexCache(services: services.cache, slices: slices.cache)
        services.addHandler(cache.handler)
        slices.addHandler(cache.handler)
        let handler = DNSQueryHandler(resolver: resolver, forwarder: forwarder, index: { cache.current() })
        let server = DNSServer(host: host, port: port, handler: handler)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await services.run() }
            group.addTask { await slices.run() }
            group.addTask {
                // As CoreDNS: serve once both caches are filled (at most 5 s), so that early
                // answers do not deny Services that exist.
                let deadline = ContinuousClock.now + .seconds(5)
                while !(services.hasSynced && slices.hasSynced) && ContinuousClock.now < deadline && !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(50))
                }
                await serve(server)
            }
            await group.waitForAll()
        }
        address.set(nil)
    }

    /// Binds (retrying while the address is taken or missing), publishes the address, serves.
    private func serve(_ server: DNSServer) async {
        var warned = false
        while !Task.isCancelled {
            do {
                try await server.run { bound in
                    logger.info("node DNS server listening", metadata: ["address": .string("\(server.host):\(bound)"),
                                                                        "clusterDomain": .string(options.clusterDomain)])
                    // resolv.conf names no port: pods can use only a server on 53.
                    if bound == 53 { address.set(server.host) }
                    await announce(server.host, port: bound)
                }
                return
            } catch {
                if Task.isCancelled { return }
                if !warned {
                    logger.warning("node DNS server cannot listen yet, retrying", metadata: [
                        "address": .string("\(server.host):\(server.port)"), "error": .string("\(error)")])
                    warned = true
                }
                try? await Task.sleep(for: .seconds(2))
            }
        }
    }

    /// The Node's annotation: the server's address when pods (and the kube-dns Service) can
    /// use it, removed otherwise.
    private func announce(_ host: String, port: Int) async {
        let value: JSONValue = port == 53 && !host.hasPrefix("127.") ? .string(host) : .null
        let body: JSONValue = ["metadata": ["annotations": [Self.addressAnnotation: value]]]
        var delay = Duration.milliseconds(200)
        while !Task.isCancelled {
            do {
                _ = try await client.patch("/api/v1/nodes/\(nodeName)", body, type: .merge)
                return
            } catch {
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(10))
            }
        }
    }

    /// A nameserver entry that is this server itself would forward queries in a circle.
    static func isSelf(_ entry: String, host: String, port: Int) -> Bool {
        entry == host && port == 53 || entry == "\(host):\(port)"
    }
}
