import Foundation
import Testing
@testable import APIServer
import KubeModel

@Suite struct ResourceQuotaTests {
    typealias Q = ResourceQuotaUsage

    func quota(_ name: String, _ hard: JSONValue, scopes: [String] = []) -> JSONValue {
        var spec: JSONValue = ["hard": hard]
        if !scopes.isEmpty { spec["scopes"] = .array(scopes.map { .string($0) }) }
        return ["apiVersion": "v1", "kind": "ResourceQuota", "metadata": ["name": .string(name)], "spec": spec]
    }

    func fixture(_ quotas: [JSONValue]) async throws -> AdmissionFixture {
        let f = try AdmissionFixture([ResourceQuotaAdmission()])
        try await f.namespace("ns")
        for q in quotas { try await f.create("resourcequotas", "ns", q) }
        return f
    }

    static func sized(_ name: String, cpu: String, memory: String = "64Mi") -> JSONValue {
        AdmissionFixture.pod(name, containers: [["name": "c", "image": "x",
                                                 "resources": ["limits": ["cpu": .string(cpu), "memory": .string(memory)]]]])
    }

    @Test func strategyValidationAndTable() {
        let s = ResourceQuotaStrategy()
        var o = quota("q", ["pods": 2, "requests.cpu": "1000m", "count/deployments.apps": "3"])
        s.applyDefaults(to: &o)
        #expect(o[path: ["spec", "hard"]] == ["pods": "2", "requests.cpu": "1", "count/deployments.apps": "3"])
        #expect(s.validate(o).isEmpty)
        let bad = s.validate(quota("q", ["pods": "1500m", "cpu": "-1", "memory": "lots"], scopes: ["Sometimes"]))
        #expect(Set(bad.map(\.field)) == ["spec.hard[pods]", "spec.hard[cpu]", "spec.hard[memory]", "spec.scopes[0]"])
        #expect(s.definition.subresources == [.status] && s.definition.shortNames == ["quota"])
        o["status"] = ["hard": ["pods": "2", "limits.cpu": "2"], "used": ["pods": "1", "limits.cpu": "500m"]]
        o[path: ["spec", "hard", "limits.cpu"]] = "2"
        let cells = s.tableCells(for: o, now: Date())
        #expect(cells[2] == "count/deployments.apps: 0/0, pods: 1/2, requests.cpu: 0/0" && cells[3] == "limits.cpu: 500m/2")
    }

    @Test func quantityAddition() {
        let q = { (s: String) in Quantity.parse(s) ?? Quantity(mantissa: 0) }
        #expect((q("500m") + q("1")).canonical == "1500m")
        #expect((q("1Gi") + q("512Mi")).canonical == "1536Mi")
        #expect((q("1") + q("2k")) == q("2001"))
    }

    @Test func podUsageCounting() {
        let pod: JSONValue = ["spec": [
            "containers": [["name": "a", "resources": ["requests": ["cpu": "250m", "memory": "64Mi"], "limits": ["cpu": "500m"]]],
                           ["name": "b", "resources": ["requests": ["cpu": "250m"]]]],
            "initContainers": [["name": "i", "resources": ["requests": ["cpu": "2"]]]],
        ]]
        let u = Q.usage(group: "", plural: "pods", object: pod)
        #expect(u["pods"] == Quantity(mantissa: 1) && u["count/pods"] == Quantity(mantissa: 1))
        #expect(u["requests.cpu"]?.canonical == "2" && u["cpu"]?.canonical == "2")  // the init container's floor
        #expect(u["requests.memory"]?.canonical == "64Mi" && u["limits.cpu"]?.canonical == "500m" && u["limits.memory"] == nil)
        var done = pod
        done["status"] = ["phase": "Succeeded"]
        #expect(Q.usage(group: "", plural: "pods", object: done).isEmpty)
        #expect(Q.usage(group: "apps", plural: "deployments", object: [:]) == ["count/deployments.apps": Quantity(mantissa: 1)])
        #expect(Q.collection(for: "count/deployments.apps")! == ("apps", "deployments"))
        #expect(Q.collection(for: "requests.memory")! == ("", "pods"))
        #expect(Q.collection(for: "services.nodeports")! == ("", "services"))
    }

    @Test func thirdPodExceedsPodCount() async throws {
        let f = try await fixture([quota("q", ["pods": "2"])])
        try await f.create("pods", "ns", AdmissionFixture.pod("p0"))
        try await f.create("pods", "ns", AdmissionFixture.pod("p1"))
        let err = await f.refusal("pods", "ns", AdmissionFixture.pod("p2"))
        #expect(err?.code == 403 && err?.reason == "Forbidden")
        #expect(err?.message == "pods \"p2\" is forbidden: exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2")
    }

    @Test func terminalPodsDoNotCount() async throws {
        let f = try await fixture([quota("q", ["pods": "1"])])
        try await f.create("pods", "ns", AdmissionFixture.pod("done"))
        let pods = try f.strategy("pods")
        var finished = try await f.registry.get(pods, version: "v1", namespace: "ns", name: "done")
        finished["status"] = ["phase": "Failed"]
        _ = try await f.registry.update(pods, version: "v1", namespace: "ns", name: "done", body: finished, target: .status, options: WriteOptions())
        #expect(try await f.create("pods", "ns", AdmissionFixture.pod("next")).code == 201)
    }

    @Test func computeQuotaNeedsResourcesAndSums() async throws {
        let f = try await fixture([quota("compute", ["limits.cpu": "1", "requests.memory": "1Gi"])])
        let bare = await f.refusal("pods", "ns", AdmissionFixture.pod("bare", containers: [["name": "a", "image": "x"], ["name": "b", "image": "x"]]))
        #expect(bare?.message == "pods \"bare\" is forbidden: failed quota: compute: must specify limits.cpu for: a,b; requests.memory for: a,b")
        try await f.create("pods", "ns", Self.sized("one", cpu: "600m"))
        let over = await f.refusal("pods", "ns", Self.sized("two", cpu: "500m"))
        #expect(over?.message == "pods \"two\" is forbidden: exceeded quota: compute, requested: limits.cpu=500m, used: limits.cpu=600m, limited: limits.cpu=1")
        #expect(try await f.create("pods", "ns", Self.sized("fits", cpu: "400m")).code == 201)
    }

    @Test func objectCountsLegacyAndCountNames() async throws {
        let f = try await fixture([quota("objects", ["configmaps": "1", "count/secrets": "1", "count/deployments.apps": "0"])])
        try await f.create("configmaps", "ns", ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "a"]])
        let cm = await f.refusal("configmaps", "ns", ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "b"]])
        #expect(cm?.message == "configmaps \"b\" is forbidden: exceeded quota: objects, requested: configmaps=1, used: configmaps=1, limited: configmaps=1")
        try await f.create("secrets", "ns", ["apiVersion": "v1", "kind": "Secret", "metadata": ["name": "a"]])
        let secret = await f.refusal("secrets", "ns", ["apiVersion": "v1", "kind": "Secret", "metadata": ["name": "b"]])
        #expect(secret?.message.contains("exceeded quota: objects, requested: count/secrets=1, used: count/secrets=1") == true)
        let d: JSONValue = ["apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "web"],
                            "spec": ["selector": ["matchLabels": ["app": "w"]],
                                     "template": ["metadata": ["labels": ["app": "w"]], "spec": ["containers": [["name": "c", "image": "x"]]]]]]
        do {
            try await f.create("deployments", "ns", d, group: "apps")
            Issue.record("expected a refusal")
        } catch {
            #expect(error.message.contains("exceeded quota: objects, requested: count/deployments.apps=1"))
        }
        // Pods are not limited by this quota.
        #expect(try await f.create("pods", "ns", AdmissionFixture.pod("p")).code == 201)
    }

    @Test func scopedQuotaCountsOnlyItsPods() async throws {
        let f = try await fixture([quota("besteffort", ["pods": "1"], scopes: ["BestEffort"])])
        try await f.create("pods", "ns", AdmissionFixture.pod("be"))
        #expect(await f.refusal("pods", "ns", AdmissionFixture.pod("be2"))?.code == 403)
        #expect(try await f.create("pods", "ns", Self.sized("burstable", cpu: "1")).code == 201)
    }
}
