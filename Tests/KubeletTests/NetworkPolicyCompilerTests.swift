import Foundation
import KubeModel
import Testing
@testable import Kubelet

/// The compiler as a pure function: policies, pods and namespaces in, the node's ruleset out,
/// judged by what it allows (`PolicyRuleset.allows`) rather than by its text.
@Suite struct NetworkPolicyCompilerTests {
    // Node n1 holds 10.244.1.0/24; n2's pods are peers only.
    static let api = PolicyPod(namespace: "shop", name: "api", uid: "u-api", nodeName: "n1", labels: ["app": "api"], ip: "10.244.1.10")
    static let db = PolicyPod(namespace: "shop", name: "db", uid: "u-db", nodeName: "n1", labels: ["app": "db"], ip: "10.244.1.11",
                              namedPorts: [.init(name: "pg", port: 5432, proto: .tcp), .init(name: "stats", port: 9187, proto: .udp)])
    static let other = PolicyPod(namespace: "shop", name: "other", uid: "u-other", nodeName: "n1", labels: ["app": "other"], ip: "10.244.1.12")
    static let monitor = PolicyPod(namespace: "ops", name: "monitor", uid: "u-mon", nodeName: "n2", labels: ["app": "monitor"], ip: "10.244.2.20")
    static let foreignAPI = PolicyPod(namespace: "lab", name: "api", uid: "u-lab", nodeName: "n2", labels: ["app": "api"], ip: "10.244.2.21")
    static let web = PolicyPod(namespace: "shop", name: "web", uid: "u-web", nodeName: "n2", labels: ["app": "web"], ip: "10.244.2.22",
                               namedPorts: [.init(name: "http", port: 8080, proto: .tcp)])
    static let pods = [api, db, other, monitor, foreignAPI, web]
    static let namespaces = [PolicyNamespace(name: "shop", labels: ["team": "shop"]), PolicyNamespace(name: "ops", labels: ["team": "ops"]),
                             PolicyNamespace(name: "lab", labels: [:])]
    static let compiler = PolicyCompiler(table: "caravel-policy-test", nodeName: "n1", podCIDR: IPv4CIDR("10.244.1.0/24"))

    static func policy(_ json: String) throws -> PolicyDefinition {
        try #require(PolicyDefinition(JSONParser.parse(json)))
    }

    static func compile(_ policies: [String]) throws -> PolicyRuleset {
        compiler.compile(policies: try policies.map(policy), pods: pods, namespaces: namespaces)
    }

    static let defaultDenyAll = """
        {"metadata": {"namespace": "shop", "name": "default-deny-all"},
         "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}}
        """
    static let allowAPIToDB = """
        {"metadata": {"namespace": "shop", "name": "allow-api-to-db"},
         "spec": {"podSelector": {"matchLabels": {"app": "db"}}, "policyTypes": ["Ingress"],
                  "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "api"}}}], "ports": [{"protocol": "TCP", "port": 5432}]}]}}
        """
    static let apiEgress = """
        {"metadata": {"namespace": "shop", "name": "api-egress"},
         "spec": {"podSelector": {"matchLabels": {"app": "api"}}, "policyTypes": ["Egress"], "egress": [{}]}}
        """

    @Test func withoutPoliciesEverythingIsOpen() throws {
        let r = try Self.compile([])
        #expect(r.chains.isEmpty)
        for a in Self.pods { for b in Self.pods where a != b { #expect(r.allows(from: a.ip, to: b.ip, proto: .tcp, port: 80)) } }
    }

    @Test func defaultDenyIsolatesEveryLocalPodOfTheNamespaceBothWays() throws {
        let r = try Self.compile([Self.defaultDenyAll])
        // Only this node's pods get chains; web (shop, on n2) is n2's business.
        #expect(Set(r.chains.map(\.podIP)) == [Self.api.ip, Self.db.ip, Self.other.ip])
        #expect(r.chains.allSatisfy { $0.matches.isEmpty })
        for local in [Self.api, Self.db, Self.other] {
            for peer in Self.pods where peer != local {
                #expect(!r.allows(from: local.ip, to: peer.ip, proto: .tcp, port: 5432))
                #expect(!r.allows(from: peer.ip, to: local.ip, proto: .udp, port: 53))
            }
        }
        #expect(r.allows(from: Self.monitor.ip, to: Self.web.ip, proto: .tcp, port: 80))
    }

    @Test func allowAPIToDBOpensExactlyThatPortOneWay() throws {
        let r = try Self.compile([Self.defaultDenyAll, Self.allowAPIToDB, Self.apiEgress])
        #expect(r.allows(from: Self.api.ip, to: Self.db.ip, proto: .tcp, port: 5432))
        #expect(!r.allows(from: Self.api.ip, to: Self.db.ip, proto: .tcp, port: 5433))
        #expect(!r.allows(from: Self.api.ip, to: Self.db.ip, proto: .udp, port: 5432))
        #expect(!r.allows(from: Self.db.ip, to: Self.api.ip, proto: .tcp, port: 5432))
        #expect(!r.allows(from: Self.other.ip, to: Self.db.ip, proto: .tcp, port: 5432))
        #expect(!r.allows(from: Self.api.ip, to: Self.other.ip, proto: .tcp, port: 5432))
        // A pod labelled app=api in another namespace is no peer of a podSelector-only rule.
        #expect(!r.allows(from: Self.foreignAPI.ip, to: Self.db.ip, proto: .tcp, port: 5432))
    }

    @Test func policyTypesDefaultToIngressAndToEgressWhenEgressRulesExist() throws {
        let ingressOnly = try Self.policy("""
            {"metadata": {"namespace": "shop", "name": "i"}, "spec": {"podSelector": {}, "ingress": [{}]}}
            """)
        #expect(ingressOnly.types == [.ingress])
        let both = try Self.policy("""
            {"metadata": {"namespace": "shop", "name": "e"}, "spec": {"podSelector": {}, "egress": [{"ports": [{"port": 53, "protocol": "UDP"}]}]}}
            """)
        #expect(both.types == [.ingress, .egress])
        let r = Self.compiler.compile(policies: [both], pods: Self.pods, namespaces: Self.namespaces)
        // Ingress isolated with no rules: nothing in; egress only UDP 53.
        #expect(!r.allows(from: Self.web.ip, to: Self.api.ip, proto: .tcp, port: 80))
        #expect(r.allows(from: Self.api.ip, to: Self.web.ip, proto: .udp, port: 53))
        #expect(!r.allows(from: Self.api.ip, to: Self.web.ip, proto: .tcp, port: 53))
    }

    @Test func namespaceSelectorAloneAndTogetherWithPodSelector() throws {
        let byNamespace = """
            {"metadata": {"namespace": "shop", "name": "ns"},
             "spec": {"podSelector": {"matchLabels": {"app": "db"}},
                      "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"team": "ops"}}}]}]}}
            """
        var r = try Self.compile([byNamespace])
        #expect(r.allows(from: Self.monitor.ip, to: Self.db.ip, proto: .tcp, port: 1))
        #expect(!r.allows(from: Self.api.ip, to: Self.db.ip, proto: .tcp, port: 1))

        // Both in one peer: pods labelled app=api in any namespace (AND).
        let both = """
            {"metadata": {"namespace": "shop", "name": "and"},
             "spec": {"podSelector": {"matchLabels": {"app": "db"}},
                      "ingress": [{"from": [{"namespaceSelector": {}, "podSelector": {"matchLabels": {"app": "api"}}}]}]}}
            """
        r = try Self.compile([both])
        #expect(r.allows(from: Self.api.ip, to: Self.db.ip, proto: .tcp, port: 1))
        #expect(r.allows(from: Self.foreignAPI.ip, to: Self.db.ip, proto: .tcp, port: 1))
        #expect(!r.allows(from: Self.monitor.ip, to: Self.db.ip, proto: .tcp, port: 1))

        // AND with a namespace holding no such pod selects nobody; matchExpressions work too.
        let none = """
            {"metadata": {"namespace": "shop", "name": "none"},
             "spec": {"podSelector": {"matchExpressions": [{"key": "app", "operator": "In", "values": ["db"]}]},
                      "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"team": "ops"}}, "podSelector": {"matchLabels": {"app": "api"}}}]}]}}
            """
        r = try Self.compile([none])
        for peer in Self.pods where peer != Self.db { #expect(!r.allows(from: peer.ip, to: Self.db.ip, proto: .tcp, port: 1)) }

        // Two peers are a union (OR).
        let either = """
            {"metadata": {"namespace": "shop", "name": "or"},
             "spec": {"podSelector": {"matchLabels": {"app": "db"}},
                      "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"team": "ops"}}}, {"podSelector": {"matchLabels": {"app": "api"}}}]}]}}
            """
        r = try Self.compile([either])
        #expect(r.allows(from: Self.monitor.ip, to: Self.db.ip, proto: .tcp, port: 1))
        #expect(r.allows(from: Self.api.ip, to: Self.db.ip, proto: .tcp, port: 1))
        #expect(!r.allows(from: Self.foreignAPI.ip, to: Self.db.ip, proto: .tcp, port: 1))
    }

    @Test func ipBlockWithExcept() throws {
        let r = try Self.compile(["""
            {"metadata": {"namespace": "shop", "name": "block"},
             "spec": {"podSelector": {"matchLabels": {"app": "api"}}, "policyTypes": ["Egress"],
                      "egress": [{"to": [{"ipBlock": {"cidr": "10.244.0.0/16", "except": ["10.244.1.0/24"]}}]}]}}
            """])
        #expect(r.allows(from: Self.api.ip, to: Self.monitor.ip, proto: .tcp, port: 80))
        #expect(r.allows(from: Self.api.ip, to: "10.244.9.9", proto: .udp, port: 53))
        #expect(!r.allows(from: Self.api.ip, to: Self.db.ip, proto: .tcp, port: 80))
        #expect(!r.allows(from: Self.api.ip, to: "192.168.1.1", proto: .tcp, port: 80))
        // An except that cannot be read must not widen the block: the peer allows nothing.
        let bad = try Self.compile(["""
            {"metadata": {"namespace": "shop", "name": "bad"},
             "spec": {"podSelector": {"matchLabels": {"app": "api"}}, "policyTypes": ["Egress"],
                      "egress": [{"to": [{"ipBlock": {"cidr": "10.244.0.0/16", "except": ["nonsense"]}}]}]}}
            """])
        #expect(!bad.allows(from: Self.api.ip, to: Self.monitor.ip, proto: .tcp, port: 80))
    }

    @Test func namedPortsResolveOnTheDestinationPod() throws {
        // Ingress: "pg" is 5432 on db, absent on other (which then accepts nothing).
        var r = try Self.compile(["""
            {"metadata": {"namespace": "shop", "name": "named"},
             "spec": {"podSelector": {}, "ingress": [{"ports": [{"port": "pg"}, {"port": "stats", "protocol": "UDP"}]}]}}
            """])
        #expect(r.allows(from: Self.web.ip, to: Self.db.ip, proto: .tcp, port: 5432))
        #expect(r.allows(from: Self.web.ip, to: Self.db.ip, proto: .udp, port: 9187))
        #expect(!r.allows(from: Self.web.ip, to: Self.db.ip, proto: .udp, port: 5432))
        #expect(!r.allows(from: Self.web.ip, to: Self.other.ip, proto: .tcp, port: 5432))
        // Egress: "http" is 8080 on web (another node), "pg" 5432 on db.
        r = try Self.compile(["""
            {"metadata": {"namespace": "shop", "name": "named-out"},
             "spec": {"podSelector": {"matchLabels": {"app": "api"}}, "policyTypes": ["Egress"],
                      "egress": [{"to": [{"podSelector": {}}], "ports": [{"port": "http"}, {"port": "pg"}]}]}}
            """])
        #expect(r.allows(from: Self.api.ip, to: Self.web.ip, proto: .tcp, port: 8080))
        #expect(!r.allows(from: Self.api.ip, to: Self.web.ip, proto: .tcp, port: 5432))
        #expect(r.allows(from: Self.api.ip, to: Self.db.ip, proto: .tcp, port: 5432))
        #expect(!r.allows(from: Self.api.ip, to: Self.db.ip, proto: .tcp, port: 8080))
        #expect(!r.allows(from: Self.api.ip, to: Self.other.ip, proto: .tcp, port: 8080))
    }

    @Test func endPortAllowsARange() throws {
        let r = try Self.compile(["""
            {"metadata": {"namespace": "shop", "name": "range"},
             "spec": {"podSelector": {"matchLabels": {"app": "db"}},
                      "ingress": [{"ports": [{"protocol": "TCP", "port": 5000, "endPort": 5010}]}]}}
            """])
        #expect(!r.allows(from: Self.api.ip, to: Self.db.ip, proto: .tcp, port: 4999))
        #expect(r.allows(from: Self.api.ip, to: Self.db.ip, proto: .tcp, port: 5000))
        #expect(r.allows(from: Self.api.ip, to: Self.db.ip, proto: .tcp, port: 5010))
        #expect(!r.allows(from: Self.api.ip, to: Self.db.ip, proto: .tcp, port: 5011))
        #expect(!r.allows(from: Self.api.ip, to: Self.db.ip, proto: .sctp, port: 5005))
    }

    @Test func policiesAddUpAndMalformedPartsAllowNothing() throws {
        let r = try Self.compile([Self.allowAPIToDB, """
            {"metadata": {"namespace": "shop", "name": "monitoring"},
             "spec": {"podSelector": {"matchLabels": {"app": "db"}},
                      "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"team": "ops"}}}], "ports": [{"port": 9187, "protocol": "UDP"}]},
                                  {"ports": [{"port": 1, "protocol": "ICMP"}, {"port": 70000}]}]}}
            """])
        #expect(r.allows(from: Self.api.ip, to: Self.db.ip, proto: .tcp, port: 5432))
        #expect(r.allows(from: Self.monitor.ip, to: Self.db.ip, proto: .udp, port: 9187))
        #expect(!r.allows(from: Self.monitor.ip, to: Self.db.ip, proto: .tcp, port: 5432))
        #expect(!r.allows(from: Self.web.ip, to: Self.db.ip, proto: .tcp, port: 1))
    }

    @Test func podsOutsideThePodNetworkAreNeitherJudgedNorPeers() throws {
        let hostNet: JSONValue = ["metadata": ["namespace": "shop", "name": "h", "labels": ["app": "db"]],
                                  "spec": ["nodeName": "n1", "hostNetwork": true], "status": ["podIP": "10.0.0.1"]]
        let done: JSONValue = ["metadata": ["namespace": "shop", "name": "d"], "spec": ["nodeName": "n1"],
                               "status": ["podIP": "10.244.1.50", "phase": "Succeeded"]]
        let pending: JSONValue = ["metadata": ["namespace": "shop", "name": "p"], "spec": ["nodeName": "n1"], "status": [:]]
        #expect(PolicyPod(hostNet) == nil && PolicyPod(done) == nil && PolicyPod(pending) == nil)
        let running: JSONValue = ["metadata": ["namespace": "shop", "name": "r", "uid": "u1", "labels": ["app": "db"]],
                                  "spec": ["nodeName": "n1", "containers": [["name": "c", "ports": [["name": "pg", "containerPort": 5432]]]]],
                                  "status": ["podIP": "10.244.1.60", "phase": "Running"]]
        let pod = try #require(PolicyPod(running))
        #expect(pod.resolve("pg", proto: .tcp) == 5432 && pod.resolve("pg", proto: .udp) == nil)
        // A local pod whose IP is outside the node's CIDR (host network fallback) gets no chain.
        var stray = Self.db
        stray.ip = "192.168.5.5"
        let r = Self.compiler.compile(policies: [try Self.policy(Self.defaultDenyAll)], pods: [stray], namespaces: Self.namespaces)
        #expect(r.chains.isEmpty)
    }

    @Test func rendersOneReplacingTransaction() throws {
        let r = try Self.compile([Self.defaultDenyAll, Self.allowAPIToDB, Self.apiEgress])
        let script = PolicyRulesetRenderer.script(r)
        let lines = script.split(separator: "\n").map(String.init)
        #expect(lines.prefix(3) == ["add table inet caravel-policy-test", "delete table inet caravel-policy-test", "table inet caravel-policy-test {"])
        #expect(script.contains("ct state established,related accept"))
        #expect(script.contains("\(Self.db.ip) : jump ingress-\(PodNetworkHost.hostVethName(podUID: "u-db"))"))
        #expect(script.contains("ip saddr @peer-0 meta l4proto tcp th dport 5432 accept"))
        #expect(PolicyRulesetRenderer.removal(table: "caravel-policy-test") == "add table inet caravel-policy-test\ndelete table inet caravel-policy-test\n")
        // Same inputs in another order: the same script (unchanged results are not reapplied).
        let again = Self.compiler.compile(policies: try [Self.apiEgress, Self.allowAPIToDB, Self.defaultDenyAll].map(Self.policy),
                                          pods: Self.pods.reversed(), namespaces: Self.namespaces.reversed())
        #expect(PolicyRulesetRenderer.script(again) == script)
    }

    /// The kernel's own parser checks the script (`nft -c` validates without changing anything).
    @Test(.enabled(if: getuid() == 0 && PodNetworkCommand.find("nft") != nil, "needs root and the nft command (nftables)"))
    func nftAcceptsTheScript() async throws {
        let r = try Self.compile([Self.defaultDenyAll, Self.allowAPIToDB, Self.apiEgress, """
            {"metadata": {"namespace": "shop", "name": "all-kinds"},
             "spec": {"podSelector": {"matchLabels": {"app": "api"}}, "policyTypes": ["Egress"],
                      "egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16", "10.2.0.0/16"]}}],
                                  "ports": [{"port": 5000, "endPort": 5010}, {"protocol": "SCTP"}]},
                                 {"to": [{"podSelector": {}}], "ports": [{"port": "http"}]}]}}
            """])
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("caravel-policy-\(UUID().uuidString).nft")
        try Data(PolicyRulesetRenderer.script(r).utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let nft = try #require(PodNetworkCommand.find("nft"))
        let result = try await PodNetworkCommand.run(nft, ["-c", "-f", file.path])
        #expect(result.status == 0, "\(result.stderr)")
    }
}
