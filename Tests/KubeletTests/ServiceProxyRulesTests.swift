import Foundation
import KubeModel
import Testing
@testable import Kubelet

/// The proxy's ruleset as a pure function of Services, EndpointSlices and the node.
struct ServiceProxyRulesTests {
    let rules = ProxyRules(table: "caravel-proxy-test", serviceCIDR: "10.96.0.0/12", bridge: "cvltest", nodeName: "node-a",
                           nodeIPs: ["192.0.2.2"])

    func web(endpoints: [ProxyEndpoint], affinity: Int? = nil, nodePort: Int? = nil, internalLocal: Bool = false,
             externalLocal: Bool = false) -> ProxiedServicePort {
        ProxiedServicePort(namespace: "default", name: "web", portName: "http", clusterIP: "10.96.0.10", port: 80,
                           nodePort: nodePort, affinitySeconds: affinity, internalLocal: internalLocal,
                           externalLocal: externalLocal, endpoints: endpoints)
    }

    func ready(_ ip: String, node: String = "node-a") -> ProxyEndpoint { ProxyEndpoint(ip: ip, port: 8080, nodeName: node) }

    /// The chains the ruleset jumps to from `from` for the cluster IP.
    func serviceChain(_ rs: NftRuleset, _ from: String = "services") -> NftRuleset.Chain? {
        guard let rule = rs.chain(from)?.rules.first,
              let name = rule.split(separator: " ").drop(while: { $0 != "goto" }).dropFirst().first else { return nil }
        return rs.chain(String(name))
    }

    @Test func capturesTheServiceRangeBeforeAnyService() {
        let rs = rules.ruleset(for: [])
        let script = rs.script(replacing: nil)
        // Built from scratch: the table is deleted and made again in the same transaction.
        #expect(script.hasPrefix("add table ip caravel-proxy-test\ndelete table ip caravel-proxy-test\nadd table ip caravel-proxy-test\n"))
        for chain in ["capture-forward", "capture-output"] {
            #expect(rs.chain(chain)?.rules == [
                "ip daddr 10.96.0.0/12 meta l4proto tcp reject with tcp reset comment \"service CIDR capture\"",
                "ip daddr 10.96.0.0/12 reject with icmp type port-unreachable comment \"service CIDR capture\"",
            ])
        }
        #expect(rs.chain("capture-forward")?.hook?.contains("hook forward") == true)
        #expect(rs.chain("capture-output")?.hook?.contains("hook output") == true)
        // Pod traffic only from this node's bridge; host traffic from the output hook.
        #expect(rs.chain("nat-prerouting")?.rules.first == "iifname \"cvltest\" ip daddr 10.96.0.0/12 jump services")
        #expect(rs.chain("nat-output")?.rules.first == "ip daddr 10.96.0.0/12 jump services")
        #expect(rs.chain("services")?.rules == [])
    }

    @Test func aServiceWithoutEndpointsHasNoDNATAndIsLeftToTheCapture() {
        let rs = rules.ruleset(for: [web(endpoints: [ProxyEndpoint(ip: "10.244.0.5", port: 8080, ready: false, serving: false)])])
        #expect(rs.chain("services")?.rules == [])
        #expect(!rs.chains.contains { $0.name.hasPrefix("svc-") || $0.name.hasPrefix("ep-") })
    }

    @Test func spreadsOverReadyEndpointsAtRandom() throws {
        let rs = rules.ruleset(for: [web(endpoints: [ready("10.244.0.5"), ready("10.244.0.6"), ready("10.244.0.7")])])
        let jump = try #require(rs.chain("services")?.rules.first)
        #expect(jump.hasPrefix("ip daddr 10.96.0.10 tcp dport 80 goto svc-"))
        #expect(jump.hasSuffix("comment \"default/web:http\""))
        let svc = try #require(serviceChain(rs))
        #expect(svc.rules.count == 1)
        #expect(svc.rules[0].hasPrefix("numgen random mod 3 vmap { 0 : goto ep-"))
        let endpoints = rs.chains.filter { $0.name.hasPrefix("ep-") }
        #expect(Set(endpoints.compactMap(\.rules.last)) == [
            "meta l4proto tcp dnat to 10.244.0.5:8080", "meta l4proto tcp dnat to 10.244.0.6:8080", "meta l4proto tcp dnat to 10.244.0.7:8080",
        ])
        // Hairpin: a pod reaching itself is marked for masquerade, which postrouting does.
        let hairpin = endpoints.first { $0.rules.last?.contains("10.244.0.5:") == true }?.rules.first
        #expect(hairpin == "ip saddr 10.244.0.5 meta mark set meta mark | 0x4000 comment \"hairpin\"")
        #expect(rs.chain("nat-postrouting")?.rules == ["meta mark & 0x4000 == 0x4000 masquerade"])
    }

    @Test func clientIPAffinityRemembersTheEndpointWithTheTimeout() throws {
        let rs = rules.ruleset(for: [web(endpoints: [ready("10.244.0.5"), ready("10.244.0.6")], affinity: 60)])
        #expect(rs.sets.count == 2)
        #expect(rs.sets.allSatisfy { $0.declaration == "type ipv4_addr ; flags dynamic,timeout ; timeout 60s ;" })
        let svc = try #require(serviceChain(rs))
        // Known clients go to their endpoint first; new ones are spread and remembered.
        #expect(svc.rules.count == 3)
        for set in rs.sets {
            let endpoint = "ep-" + set.name.dropFirst(4)
            #expect(svc.rules.contains("ip saddr @\(set.name) goto \(endpoint)"))
            #expect(rs.chain(endpoint)?.rules.contains("update @\(set.name) { ip saddr }") == true)
        }
        #expect(svc.rules.last?.hasPrefix("numgen random mod 2") == true)
    }

    @Test func nodePortOnTheNodeAddresses() throws {
        let rs = rules.ruleset(for: [web(endpoints: [ready("10.244.0.5")], nodePort: 30080)])
        #expect(rs.chain("nat-prerouting")?.rules.contains("ip daddr { 192.0.2.2 } jump nodeports") == true)
        #expect(rs.chain("nat-output")?.rules.contains("ip daddr { 192.0.2.2 } jump nodeports") == true)
        let rule = try #require(rs.chain("nodeports")?.rules.first)
        #expect(rule.hasPrefix("tcp dport 30080 goto ext-"))
        let ext = try #require(serviceChain(rs, "nodeports"))
        #expect(ext.rules.count == 1 && ext.rules[0].hasPrefix("goto ep-"))
        #expect(rs.chain("nodeport-input")?.rules == [])
    }

    @Test func nodePortWithoutEndpointsIsRejected() {
        let rs = rules.ruleset(for: [web(endpoints: [], nodePort: 30080)])
        #expect(rs.chain("nodeports")?.rules == [])
        #expect(rs.chain("nodeport-input")?.rules == ["ip daddr { 192.0.2.2 } tcp dport 30080 reject comment \"default/web:http\""])
    }

    @Test func internalTrafficPolicyLocalUsesOnlyThisNodesEndpoints() throws {
        let eps = [ready("10.244.0.5"), ready("10.244.1.5", node: "node-b")]
        let local = rules.ruleset(for: [web(endpoints: eps, internalLocal: true)])
        let svc = try #require(serviceChain(local))
        #expect(svc.rules.count == 1 && svc.rules[0].hasPrefix("goto ep-"))
        #expect(local.chain(svc.rules[0].replacingOccurrences(of: "goto ", with: ""))?.rules.last == "meta l4proto tcp dnat to 10.244.0.5:8080")
        // Only remote endpoints: nothing to send to, the capture rejects.
        let remote = rules.ruleset(for: [web(endpoints: [ready("10.244.1.5", node: "node-b")], internalLocal: true)])
        #expect(remote.chain("services")?.rules == [])
        // The node port keeps the Cluster policy.
        let both = rules.ruleset(for: [web(endpoints: eps, nodePort: 30080, internalLocal: true)])
        #expect(serviceChain(both, "nodeports")?.rules.first?.hasPrefix("numgen random mod 2") == true)
    }

    @Test func terminatingEndpointsServeOnlyWhenNoneIsReady() throws {
        let draining = ProxyEndpoint(ip: "10.244.0.9", port: 8080, nodeName: "node-a", ready: false, serving: true, terminating: true)
        let mixed = rules.ruleset(for: [web(endpoints: [ready("10.244.0.5"), draining])])
        #expect(try #require(serviceChain(mixed)).rules[0].hasPrefix("goto ep-"))
        #expect(!mixed.chains.contains { $0.rules.last == "meta l4proto tcp dnat to 10.244.0.9:8080" })
        let onlyDraining = rules.ruleset(for: [web(endpoints: [draining])])
        #expect(onlyDraining.chains.contains { $0.rules.last == "meta l4proto tcp dnat to 10.244.0.9:8080" })
        // Terminating and no longer serving: never.
        let gone = ProxyEndpoint(ip: "10.244.0.9", port: 8080, nodeName: "node-a", ready: false, serving: false, terminating: true)
        #expect(rules.ruleset(for: [web(endpoints: [gone])]).chain("services")?.rules == [])
    }

    @Test func updatesFlushChainsInPlaceAndDropWhatIsGone() throws {
        let before = rules.ruleset(for: [web(endpoints: [ready("10.244.0.5"), ready("10.244.0.6")], affinity: 60)])
        let after = rules.ruleset(for: [web(endpoints: [ready("10.244.0.5")], affinity: 60)])
        let script = after.script(replacing: before)
        #expect(!script.contains("delete table"))
        let gone = try #require(before.chains.first { $0.rules.last == "meta l4proto tcp dnat to 10.244.0.6:8080" }?.name)
        let kept = try #require(after.sets.first?.name)
        #expect(script.contains("flush chain ip caravel-proxy-test \(gone)\n"))
        #expect(script.contains("delete chain ip caravel-proxy-test \(gone)\n"))
        // The remaining endpoint's affinity set is unchanged, so its entries survive.
        #expect(!script.contains("delete set ip caravel-proxy-test \(kept)\n"))
        #expect(script.contains("delete set ip caravel-proxy-test aff-\(gone.dropFirst(3))\n"))
        // Deletions come after every flush, and rules after every chain exists.
        let lines = script.split(separator: "\n").map(String.init)
        let lastFlush = try #require(lines.lastIndex { $0.hasPrefix("flush chain") })
        let firstDelete = try #require(lines.firstIndex { $0.hasPrefix("delete") })
        let lastChain = try #require(lines.lastIndex { $0.hasPrefix("add chain") })
        let firstRule = try #require(lines.firstIndex { $0.hasPrefix("add rule") })
        #expect(lastFlush < firstDelete && lastChain < firstRule)
    }

    @Test func masqueradesPodTrafficWithoutBridgeNetfilter() {
        var noBridgeHooks = rules
        noBridgeHooks.masqueradePodTraffic = true
        let rs = noBridgeHooks.ruleset(for: [])
        #expect(rs.chain("nat-prerouting")?.rules.first == "iifname \"cvltest\" ip daddr 10.96.0.0/12 meta mark set meta mark | 0x4000")
    }

    @Test func aListingWithoutTheAppliedChainsIsDrift() {
        let rs = rules.ruleset(for: [web(endpoints: [ready("10.244.0.5")])])
        let full = "table ip caravel-proxy-test {\n" + rs.chains.map { "\tchain \($0.name) {\n\t}\n" }.joined() + "}\n"
        #expect(!rs.isMissingChains(in: full))
        #expect(rs.isMissingChains(in: "table ip caravel-proxy-test {\n}\n"))
        let oneGone = full.replacingOccurrences(of: "\tchain capture-output {", with: "")
        #expect(rs.isMissingChains(in: oneGone))
    }

    /// What nft itself prints for a table the proxy built holds every chain it applied.
    @Test(.enabled(if: getuid() == 0, "nftables needs root"))
    func theKernelsListingOfABuiltTableIsNotDrift() async throws {
        let nft = try #require(PodNetworkCommand.find("nft"), "nft (nftables) is not installed")
        let table = "caravel-proxy-t" + String(UUID().uuidString.prefix(8)).lowercased()
        let own = ProxyRules(table: table, serviceCIDR: "10.96.0.0/12", bridge: "cvltest", nodeName: "node-a", nodeIPs: ["192.0.2.2"])
        let rs = own.ruleset(for: [web(endpoints: [ready("10.244.0.5")], affinity: 30, nodePort: 30080)])
        let file = NSTemporaryDirectory() + "proxy-list-\(UUID().uuidString).nft"
        defer {
            try? FileManager.default.removeItem(atPath: file)
            _ = try? Process.run(URL(fileURLWithPath: nft), arguments: ["delete", "table", "ip", table]).waitUntilExit()
        }
        try Data(rs.script(replacing: nil).utf8).write(to: URL(fileURLWithPath: file))
        let built = try await PodNetworkCommand.run(nft, ["-f", file])
        try #require(built.status == 0, "\(built.stderr)")
        let listing = try await PodNetworkCommand.run(nft, ["list", "table", "ip", table])
        #expect(!rs.isMissingChains(in: listing.stdout), "\(listing.stdout)")
        _ = try await PodNetworkCommand.run(nft, ["delete", "chain", "ip", table, "capture-output"])
        let after = try await PodNetworkCommand.run(nft, ["list", "table", "ip", table])
        #expect(rs.isMissingChains(in: after.stdout), "\(after.stdout)")
    }

    /// The kernel's own parser in check mode (`nft -c`: nothing is applied).
    @Test(.enabled(if: getuid() == 0, "nft -c needs root"))
    func nftAcceptsTheScript() async throws {
        let nft = try #require(PodNetworkCommand.find("nft"), "nft (nftables) is not installed")
        let ports = [
            web(endpoints: [ready("10.244.0.5"), ready("10.244.0.6")], affinity: 30, nodePort: 30080),
            ProxiedServicePort(namespace: "kube-system", name: "dns", portName: "dns", l4: .udp, clusterIP: "10.96.0.53", port: 53,
                               endpoints: [ProxyEndpoint(ip: "10.244.0.7", port: 5353, nodeName: "node-a")]),
            web(endpoints: [], nodePort: 30081),
        ]
        let file = NSTemporaryDirectory() + "proxy-check-\(UUID().uuidString).nft"
        defer { try? FileManager.default.removeItem(atPath: file) }
        let before = rules.ruleset(for: ports)
        // An update presumes the table it replaces: checked in one batch after building it.
        let update = before.script(replacing: nil) + rules.ruleset(for: Array(ports.prefix(1))).script(replacing: before)
        for script in [before.script(replacing: nil), update] {
            try Data(script.utf8).write(to: URL(fileURLWithPath: file))
            let result = try await PodNetworkCommand.run(nft, ["-c", "-f", file])
            #expect(result.status == 0, "\(result.stderr)\n\(script)")
        }
    }
}

/// Services and EndpointSlices as the API serves them, read into proxied ports.
struct ServiceProxyModelTests {
    @Test func readsPortsEndpointsAndPolicies() throws {
        let service: JSONValue = [
            "metadata": ["name": "web", "namespace": "shop"],
            "spec": [
                "type": "NodePort", "clusterIP": "10.96.3.4", "sessionAffinity": "ClientIP",
                "sessionAffinityConfig": ["clientIP": ["timeoutSeconds": 90]], "internalTrafficPolicy": "Local",
                "ports": [["name": "http", "port": 80, "targetPort": "web", "nodePort": 30111, "protocol": "TCP"],
                          ["name": "sctp", "port": 90, "protocol": "SCTP"]],
            ],
        ]
        let slice: JSONValue = [
            "metadata": ["name": "web-abc", "namespace": "shop", "labels": ["kubernetes.io/service-name": "web"]],
            "addressType": "IPv4",
            // The slice carries the named targetPort resolved to a number.
            "ports": [["name": "http", "port": 8080, "protocol": "TCP"]],
            "endpoints": [
                ["addresses": ["10.244.0.5"], "nodeName": "n1", "conditions": ["ready": true, "serving": true, "terminating": false]],
                ["addresses": ["10.244.0.6"], "conditions": ["ready": false, "serving": true, "terminating": true]],
                ["addresses": ["127.0.0.1"]],
                ["addresses": ["not-an-ip"]],
            ],
        ]
        let headless: JSONValue = ["metadata": ["name": "h", "namespace": "shop"], "spec": ["clusterIP": "None", "ports": [["port": 1]]]]
        let ports = ProxiedServicePort.from(services: [service, headless], slices: [slice])
        let port = try #require(ports.first)
        #expect(ports.count == 1)
        #expect(port.clusterIP == "10.96.3.4" && port.port == 80 && port.nodePort == 30111 && port.affinitySeconds == 90 && port.internalLocal)
        // A loopback endpoint stays (the `kubernetes` Service of a server on 127.0.0.1).
        #expect(port.endpoints == [
            ProxyEndpoint(ip: "10.244.0.5", port: 8080, nodeName: "n1"),
            ProxyEndpoint(ip: "10.244.0.6", port: 8080, ready: false, serving: true, terminating: true),
            ProxyEndpoint(ip: "127.0.0.1", port: 8080),
        ])
    }

    @Test func serviceRangeFromTheKubernetesService() {
        #expect(ServiceCIDRDiscovery.derive(kubernetesServiceIP: "10.96.0.1") == "10.96.0.0/12")
        #expect(ServiceCIDRDiscovery.derive(kubernetesServiceIP: "10.64.0.1") == "10.64.0.0/16")
        #expect(ServiceCIDRDiscovery.derive(kubernetesServiceIP: "nonsense") == nil)
    }
}

/// Choosing a server's pod and service ranges apart from what the host already uses.
struct NetworkRangesTests {
    @Test func defaultsWhenFree() {
        #expect(NetworkRanges.choose(clusterCIDR: nil, serviceCIDR: nil, taken: [IPv4CIDR("192.0.2.0/24")!])
            == NetworkRanges(clusterCIDR: "10.244.0.0/16", serviceCIDR: "10.96.0.0/12"))
    }

    @Test func skipsRangesAnotherServerHolds() {
        let taken = ["10.244.0.0/16", "10.96.0.0/12", "10.245.3.0/24"].compactMap(IPv4CIDR.init)
        #expect(NetworkRanges.choose(clusterCIDR: nil, serviceCIDR: nil, taken: taken)
            == NetworkRanges(clusterCIDR: "10.246.0.0/16", serviceCIDR: "10.64.0.0/16"))
        // Given ranges are kept as they are.
        #expect(NetworkRanges.choose(clusterCIDR: "10.1.0.0/16", serviceCIDR: "10.2.0.0/16", taken: taken)
            == NetworkRanges(clusterCIDR: "10.1.0.0/16", serviceCIDR: "10.2.0.0/16"))
    }

    @Test func overlap() {
        #expect(IPv4CIDR("10.96.0.0/12")!.overlaps(IPv4CIDR("10.100.1.0/24")!))
        #expect(!IPv4CIDR("10.96.0.0/12")!.overlaps(IPv4CIDR("10.112.0.0/16")!))
    }

    @Test func aRestartKeepsTheRecordedChoice() throws {
        let dir = NSTemporaryDirectory() + "ranges-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let first = try NetworkRangeRegistry.resolve(dataDirectory: dir, clusterCIDR: "10.244.0.0/16", serviceCIDR: "10.202.0.0/16")
        let again = try NetworkRangeRegistry.resolve(dataDirectory: dir, clusterCIDR: nil, serviceCIDR: nil)
        #expect(again == first)
        if getuid() == 0 {
            // A second data directory on this host chooses apart from the first.
            let other = NSTemporaryDirectory() + "ranges-\(UUID().uuidString)"
            defer { try? FileManager.default.removeItem(atPath: other) }
            let second = try NetworkRangeRegistry.resolve(dataDirectory: other, clusterCIDR: nil, serviceCIDR: "10.203.0.0/16")
            #expect(second.clusterCIDR != "10.244.0.0/16")
        }
    }
}
