import Foundation
import Testing
@testable import APIServer
import KubeModel

@Suite struct LimitRangeTests {
    func range(_ items: JSONValue) -> JSONValue {
        ["apiVersion": "v1", "kind": "LimitRange", "metadata": ["name": "limits"], "spec": ["limits": items]]
    }

    func prepared(_ o: JSONValue) -> JSONValue {
        var x = o
        LimitRangeStrategy().applyDefaults(to: &x)
        return x
    }

    @Test func defaultingFollowsKubernetes() {
        let o = prepared(range([["type": "Container", "max": ["cpu": "2", "memory": "1Gi"], "min": ["memory": "64Mi"],
                                 "default": ["cpu": "1000m"]]]))
        let item = o[path: ["spec", "limits"]]?.arrayValue?.first ?? .null
        // default from max, defaultRequest from default, then from min; quantities canonical.
        #expect(item["default"] == ["cpu": "1", "memory": "1Gi"])
        #expect(item["defaultRequest"] == ["cpu": "1", "memory": "1Gi"])
        let pod = prepared(range([["type": "Pod", "max": ["cpu": "2"]]]))
        #expect(pod[path: ["spec", "limits"]]?.arrayValue?.first?["default"] == nil)
        let minOnly = prepared(range([["type": "Container", "min": ["cpu": "100m"]]]))
        #expect(minOnly[path: ["spec", "limits"]]?.arrayValue?.first?["defaultRequest"] == ["cpu": "100m"])
    }

    @Test func validation() {
        let s = LimitRangeStrategy()
        #expect(s.validate(prepared(range([["type": "Container", "min": ["cpu": "100m"], "max": ["cpu": "1"], "maxLimitRequestRatio": ["cpu": "4"]]]))).isEmpty)
        let bad = s.validate(prepared(range([["type": "Container", "min": ["cpu": "2"], "max": ["cpu": "1"], "default": ["memory": "x"]]])))
        #expect(bad.map(\.message).contains("spec.limits[0].min[cpu]: Invalid value: \"2\": min value 2 is greater than max value 1"))
        #expect(bad.contains { $0.field == "spec.limits[0].default[memory]" })
        let order = s.validate(range([["type": "Container", "default": ["cpu": "1"], "defaultRequest": ["cpu": "2"]]]))
        #expect(order.map(\.message) == ["spec.limits[0].defaultRequest[cpu]: Invalid value: \"2\": default request value 2 is greater than default limit value 1"])
        #expect(s.validate(range([["type": "Pod", "default": ["cpu": "1"]]])).map(\.field) == ["spec.limits[0].default"])
        #expect(s.validate(range([["type": "Nope"]])).map(\.field) == ["spec.limits[0].type"])
        #expect(s.validate(range([["max": ["cpu": "1"]]])).map(\.field) == ["spec.limits[0].type"])
        #expect(s.validate(range([["type": "Container", "maxLimitRequestRatio": ["cpu": "500m"]]])).count == 1)
        #expect(s.definition.shortNames == ["limits"] && s.definition.namespaced)
    }

    func fixture(_ items: JSONValue) async throws -> AdmissionFixture {
        let f = try AdmissionFixture([LimitRanger()])
        try await f.namespace("ns")
        try await f.create("limitranges", "ns", range(items))
        return f
    }

    @Test func defaultsFilledIntoPods() async throws {
        let f = try await fixture([["type": "Container", "default": ["cpu": "500m", "memory": "256Mi"], "defaultRequest": ["cpu": "100m"]]])
        let p = try await f.create("pods", "ns", AdmissionFixture.pod("p"))
        let res = p.object[path: ["spec", "containers"]]?.arrayValue?.first?["resources"]
        #expect(res?["limits"] == ["cpu": "500m", "memory": "256Mi"])
        #expect(res?["requests"] == ["cpu": "100m", "memory": "256Mi"])
        #expect(p.object[path: ["metadata", "annotations", "kubernetes.io/limit-ranger"]]
                == "LimitRanger plugin set: cpu, memory request for container c; cpu, memory limit for container c")
        // A container's own limit makes its request (pod defaulting), the range fills the rest.
        let own = try await f.create("pods", "ns", AdmissionFixture.pod("own", containers: [["name": "c", "image": "x", "resources": ["limits": ["cpu": "200m"]]]]))
        let r2 = own.object[path: ["spec", "containers"]]?.arrayValue?.first?["resources"]
        #expect(r2?["requests"] == ["cpu": "200m", "memory": "256Mi"])
        #expect(r2?["limits"] == ["cpu": "200m", "memory": "256Mi"])
    }

    @Test func boundsEnforcedWithKubernetesMessages() async throws {
        let f = try await fixture([["type": "Container", "max": ["cpu": "1"], "min": ["memory": "64Mi"]]])
        let pod = { (res: JSONValue) in AdmissionFixture.pod("p", containers: [["name": "c", "image": "x", "resources": res]]) }
        let tooBig = await f.refusal("pods", "ns", pod(["limits": ["cpu": "2", "memory": "128Mi"]]))
        #expect(tooBig?.code == 403)
        #expect(tooBig?.message == "pods \"p\" is forbidden: maximum cpu usage per Container is 1, but limit is 2")
        let small = await f.refusal("pods", "ns", pod(["limits": ["cpu": "1"], "requests": ["memory": "32Mi", "cpu": "1"]]))
        #expect(small?.message == "pods \"p\" is forbidden: minimum memory usage per Container is 64Mi, but request is 32Mi")
        let both = await f.refusal("pods", "ns", pod(["limits": ["cpu": "3"], "requests": ["memory": "1Mi", "cpu": "1"]]))
        #expect(both?.message == "pods \"p\" is forbidden: [minimum memory usage per Container is 64Mi, but request is 1Mi, maximum cpu usage per Container is 1, but limit is 3]")
        // Defaults (max → default → defaultRequest) make a bare pod fit.
        #expect(try await f.create("pods", "ns", AdmissionFixture.pod("ok")).code == 201)
    }

    @Test func ratioAndPodBounds() async throws {
        let f = try await fixture([["type": "Container", "maxLimitRequestRatio": ["cpu": "2"]], ["type": "Pod", "max": ["memory": "1Gi"]]])
        let c = { (n: String, req: String, lim: String, mem: String) -> JSONValue in
            ["name": .string(n), "image": "x", "resources": ["requests": ["cpu": .string(req)], "limits": ["cpu": .string(lim), "memory": .string(mem)]]]
        }
        let ratio = await f.refusal("pods", "ns", AdmissionFixture.pod("p", containers: [c("a", "100m", "500m", "100Mi")]))
        #expect(ratio?.message == "pods \"p\" is forbidden: cpu max limit to request ratio per Container is 2, but provided ratio is 5.000000")
        let pod = await f.refusal("pods", "ns", AdmissionFixture.pod("p", containers: [c("a", "1", "1", "600Mi"), c("b", "1", "1", "600Mi")]))
        #expect(pod?.message == "pods \"p\" is forbidden: maximum memory usage per Pod is 1Gi, but limit is 1200Mi")
        #expect(try await f.create("pods", "ns", AdmissionFixture.pod("ok", containers: [c("a", "1", "2", "500Mi")])).code == 201)
    }
}
