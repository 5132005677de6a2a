import KubeModel
import Testing
@testable import Kubelet

/// The service environment variables: the `kubernetes` Service in every pod, the namespace's
/// Services unless `enableServiceLinks: false`, declared variables winning, `$(VAR)` seeing them.
@Suite struct ServiceEnvironmentTests {
    static func service(_ name: String, _ ip: String, ports: [JSONValue]) -> JSONValue {
        ["metadata": .object(["name": .string(name)]), "spec": ["clusterIP": .string(ip), "ports": .array(ports)]]
    }

    func source() async -> DictObjectSource {
        let s = DictObjectSource()
        await s.setServices("default", [Self.service("kubernetes", "10.96.0.1", ports: [["name": "https", "port": 443, "protocol": "TCP"]])])
        await s.setServices("ns", [
            Self.service("redis-primary", "10.96.4.5", ports: [["name": "redis", "port": 6379], ["name": "metrics", "port": 9121, "protocol": "UDP"]]),
            Self.service("headless", "None", ports: [["port": 80]]),
        ])
        return s
    }

    func env(_ pod: JSONValue, _ source: DictObjectSource, container: JSONValue = ["name": "c"]) async throws -> [String: String] {
        let ctx = PodContext(pod: pod, nodeName: "node-a", hostIP: "10.0.0.1", podIP: "10.244.0.9")
        let list = try await EnvResolver.resolve(container: container, context: ctx, source: source)
        return Dictionary(list.map { ($0.name, $0.value) }, uniquingKeysWith: { _, last in last })
    }

    @Test func kubernetesAndNamespaceServices() async throws {
        let e = try await env(envTestPod(), await source())
        #expect(e["KUBERNETES_SERVICE_HOST"] == "10.96.0.1")
        #expect(e["KUBERNETES_SERVICE_PORT"] == "443")
        #expect(e["KUBERNETES_SERVICE_PORT_HTTPS"] == "443")
        #expect(e["KUBERNETES_PORT"] == "tcp://10.96.0.1:443")
        #expect(e["KUBERNETES_PORT_443_TCP_ADDR"] == "10.96.0.1")
        #expect(e["REDIS_PRIMARY_SERVICE_HOST"] == "10.96.4.5")
        #expect(e["REDIS_PRIMARY_SERVICE_PORT"] == "6379")
        #expect(e["REDIS_PRIMARY_SERVICE_PORT_METRICS"] == "9121")
        #expect(e["REDIS_PRIMARY_PORT_9121_UDP"] == "udp://10.96.4.5:9121")
        #expect(e["REDIS_PRIMARY_PORT_9121_UDP_PROTO"] == "udp")
        #expect(e.keys.allSatisfy { !$0.hasPrefix("HEADLESS") })
    }

    @Test func serviceLinksOffKeepsOnlyKubernetes() async throws {
        var pod = envTestPod()
        pod[path: ["spec", "enableServiceLinks"]] = false
        let e = try await env(pod, await source())
        #expect(e["KUBERNETES_SERVICE_HOST"] == "10.96.0.1")
        #expect(e["REDIS_PRIMARY_SERVICE_HOST"] == nil)
    }

    @Test func declaredVariablesWinAndExpansionSeesServices() async throws {
        let container: JSONValue = ["name": "c", "env": [
            ["name": "KUBERNETES_SERVICE_HOST", "value": "api.example"],
            ["name": "REDIS_URL", "value": "redis://$(REDIS_PRIMARY_SERVICE_HOST):$(REDIS_PRIMARY_SERVICE_PORT)"],
        ]]
        let ctx = PodContext(pod: envTestPod(), nodeName: "node-a", hostIP: "10.0.0.1", podIP: "10.244.0.9")
        let list = try await EnvResolver.resolve(container: container, context: ctx, source: await source())
        #expect(list.first?.name == "KUBERNETES_SERVICE_HOST" && list.first?.value == "api.example")
        #expect(list.filter { $0.name == "KUBERNETES_SERVICE_HOST" }.count == 1)
        #expect(list.first { $0.name == "REDIS_URL" }?.value == "redis://10.96.4.5:6379")
    }
}
