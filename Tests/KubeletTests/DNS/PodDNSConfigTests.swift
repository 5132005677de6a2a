import Foundation
import KubeModel
import Testing
@testable import Kubelet

/// resolv.conf and /etc/hosts for each dnsPolicy, as the kubelet writes them.
@Suite struct PodDNSConfigTests {
    static let host = ResolvConf(parsing: """
        # written by the node's network manager
        nameserver 192.0.2.53
        nameserver 192.0.2.54 ; second
        search corp.example lab.example
        options edns0 ndots:1
        """)

    static func pod(_ spec: [String: JSONValue], name: String = "web-1", ns: String = "shop") -> JSONValue {
        ["metadata": ["name": .string(name), "namespace": .string(ns), "uid": "u1"], "spec": .object(spec)]
    }

    func conf(_ spec: [String: JSONValue], cluster: [String] = ["10.244.0.1"]) -> (ResolvConf, (reason: String, message: String)?) {
        let r = PodDNSConfig.resolvConf(for: Self.pod(spec), clusterDomain: "cluster.local", clusterNameservers: cluster, host: Self.host)
        return (r.conf, r.warning)
    }

    @Test func hostFileIsParsed() {
        #expect(Self.host.nameservers == ["192.0.2.53", "192.0.2.54"])
        #expect(Self.host.searches == ["corp.example", "lab.example"])
        #expect(Self.host.options == ["edns0", "ndots:1"])
        #expect(ResolvConf(parsing: "domain a.example\nsearch b.example\n").searches == ["b.example"])
    }

    @Test func clusterFirstUsesTheNodeServerAndClusterSearches() {
        let (c, warning) = conf([:])
        #expect(warning == nil)
        #expect(c.rendered == """
            search shop.svc.cluster.local svc.cluster.local cluster.local corp.example lab.example
            nameserver 10.244.0.1
            options ndots:5

            """)
    }

    @Test func clusterFirstWithoutAClusterServerFallsBackToTheHost() {
        let (c, warning) = conf([:], cluster: [])
        #expect(c == Self.host)
        #expect(warning?.reason == "MissingClusterDNS")
    }

    @Test func hostNetworkPodsResolveLikeTheirNodeUnlessAskedOtherwise() {
        #expect(PodDNSConfig.kind(of: Self.pod(["hostNetwork": true])) == .host)
        #expect(conf(["hostNetwork": true]).0 == Self.host)
        let (c, _) = conf(["hostNetwork": true, "dnsPolicy": "ClusterFirstWithHostNet"])
        #expect(c.nameservers == ["10.244.0.1"])
        #expect(c.searches.first == "shop.svc.cluster.local")
        // Without host networking ClusterFirstWithHostNet is plain ClusterFirst.
        #expect(conf(["dnsPolicy": "ClusterFirstWithHostNet"]).0 == conf([:]).0)
    }

    @Test func defaultPolicyIsTheHostFile() {
        #expect(conf(["dnsPolicy": "Default"]).0 == Self.host)
    }

    @Test func noneTakesOnlyDnsConfig() {
        let (c, _) = conf(["dnsPolicy": "None", "dnsConfig": [
            "nameservers": ["1.2.3.4"], "searches": ["ns1.svc.cluster-domain.example", "my.dns.search.suffix"],
            "options": [["name": "ndots", "value": "2"], ["name": "edns0"]],
        ]])
        #expect(c.rendered == """
            search ns1.svc.cluster-domain.example my.dns.search.suffix
            nameserver 1.2.3.4
            options ndots:2 edns0

            """)
    }

    @Test func dnsConfigMergesIntoThePolicy() {
        let (c, _) = conf(["dnsConfig": [
            "nameservers": ["10.244.0.1", "1.1.1.1"], "searches": ["extra.example", "cluster.local"],
            "options": [["name": "ndots", "value": "3"], ["name": "single-request-reopen"]],
        ]])
        #expect(c.nameservers == ["10.244.0.1", "1.1.1.1"])
        #expect(c.searches == ["shop.svc.cluster.local", "svc.cluster.local", "cluster.local", "corp.example", "lab.example", "extra.example"])
        #expect(c.options == ["ndots:3", "single-request-reopen"])
    }

    @Test func searchLinesAreCutToTheLimits() {
        let many = (0..<40).map { JSONValue.string("s\($0).example") }
        let (c, warning) = conf(["dnsPolicy": "None", "dnsConfig": ["searches": .array(many)]])
        #expect(c.searches.count == 32)
        #expect(warning?.reason == "DNSConfigForming")
        let long = (0..<10).map { JSONValue.string(String(repeating: "x", count: 250) + ".example\($0)") }
        #expect(conf(["dnsPolicy": "None", "dnsConfig": ["searches": .array(long)]]).0.searches.joined(separator: " ").count <= 2048)
    }

    @Test func hostsFileHasLocalhostThePodAndItsAliases() {
        let pod = Self.pod(["hostname": "db-0", "subdomain": "db",
                            "hostAliases": [["ip": "10.1.2.3", "hostnames": ["foo.local", "bar.local"]]]])
        let text = PodHostsFile.content(for: pod, podIPs: ["10.244.0.7"], clusterDomain: "cluster.local", nodeHosts: "")
        #expect(text == """
            # Kubernetes-managed hosts file.
            127.0.0.1\tlocalhost
            ::1\tlocalhost ip6-localhost ip6-loopback
            fe00::0\tip6-localnet
            fe00::0\tip6-mcastprefix
            fe00::1\tip6-allnodes
            fe00::2\tip6-allrouters
            10.244.0.7\tdb-0.db.shop.svc.cluster.local\tdb-0

            # Entries added by HostAliases.
            10.1.2.3\tfoo.local\tbar.local

            """)
        let plain = PodHostsFile.content(for: Self.pod([:], name: "web-7d4b9c-x2x"), podIPs: ["10.244.0.9"], clusterDomain: "cluster.local", nodeHosts: "")
        #expect(plain.hasSuffix("fe00::2\tip6-allrouters\n10.244.0.9\tweb-7d4b9c-x2x\n"))
    }

    @Test func hostNetworkHostsFileIsTheNodesPlusAliases() {
        let pod = Self.pod(["hostNetwork": true, "hostAliases": [["ip": "10.1.2.3", "hostnames": ["foo.local"]]]])
        let text = PodHostsFile.content(for: pod, podIPs: ["192.0.2.10"], clusterDomain: "cluster.local", nodeHosts: "127.0.0.1 localhost\n192.0.2.10 node1")
        #expect(text == "# Kubernetes-managed hosts file (host network).\n127.0.0.1 localhost\n192.0.2.10 node1\n\n# Entries added by HostAliases.\n10.1.2.3\tfoo.local\n")
    }

    @Test func hostnamesAreCutTo63Characters() {
        let name = String(repeating: "a", count: 62) + "-b"
        #expect(PodHostsFile.hostname(of: Self.pod([:], name: name)) == String(repeating: "a", count: 62))
    }

    @Test func filesAreWrittenAndMountedUnlessTheContainerMountsItsOwn() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pod-dns-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let resolv = dir + "/host-resolv.conf"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try Self.host.rendered.write(toFile: resolv, atomically: true, encoding: .utf8)
        let files = PodDNSFiles(clusterDomain: "cluster.local", resolvConfPath: resolv, nameserver: NodeDNSAddress("10.244.0.1"))
        let prepared = try files.prepare(pod: Self.pod([:]), podIPs: ["10.244.0.9"], podDirectory: dir + "/pod", container: [:])
        #expect(prepared.mounts.map(\.containerPath) == ["/etc/resolv.conf", "/etc/hosts"])
        let written = try String(contentsOfFile: dir + "/pod/resolv.conf", encoding: .utf8)
        #expect(written.contains("nameserver 10.244.0.1\n"))
        let own = try files.prepare(pod: Self.pod([:]), podIPs: ["10.244.0.9"], podDirectory: dir + "/pod",
                                    container: ["volumeMounts": [["name": "h", "mountPath": "/etc/hosts"]]])
        #expect(own.mounts.map(\.containerPath) == ["/etc/resolv.conf"])
        let hostNet = try files.prepare(pod: Self.pod(["hostNetwork": true]), podIPs: ["192.0.2.10"], podDirectory: dir + "/pod2", container: [:])
        #expect(hostNet.mounts.map(\.containerPath) == ["/etc/hosts"])
    }
}
