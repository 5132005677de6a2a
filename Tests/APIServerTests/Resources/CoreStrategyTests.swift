import Foundation
import Testing
@testable import APIServer
import KubeModel

@Suite struct CoreStrategyTests {
    let now = Date(timeIntervalSince1970: 1_767_225_600 + 3600)  // 2026-01-01T01:00:00Z

    func meta(_ name: String, _ ns: String? = "default") -> JSONValue {
        var m: JSONValue = ["name": .string(name), "creationTimestamp": "2026-01-01T00:00:00Z"]
        if let ns { m["namespace"] = .string(ns) }
        return m
    }

    func prepared(_ s: any ResourceStrategy, _ o: JSONValue) -> JSONValue {
        var x = o
        s.applyDefaults(to: &x)
        s.prepareForCreate(&x)
        return x
    }

    @Test func namespace() {
        let s = NamespaceStrategy()
        let o = prepared(s, ["apiVersion": "v1", "kind": "Namespace", "metadata": meta("team-a", nil)])
        #expect(o[path: ["status", "phase"]] == "Active")
        #expect(o[path: ["spec", "finalizers"]] == ["kubernetes"])
        #expect(o[path: ["metadata", "labels", "kubernetes.io/metadata.name"]] == "team-a")
        #expect(s.validate(o).isEmpty)
        #expect(s.nameRule == .dns1123Label)
        #expect(s.tableCells(for: o, now: now) == ["team-a", "Active", "60m"])
        #expect(s.selectableField("status.phase", of: o) == .some("Active"))
        #expect(!s.definition.namespaced && s.definition.shortNames == ["ns"])
    }

    @Test func serviceDefaultsAndTable() {
        let s = ServiceStrategy()
        // Cluster IPs and node ports come from the registry's allocator (ServiceAllocationTests);
        // here they are given, as the registry would have filled them.
        let o = prepared(s, ["metadata": meta("web"), "spec": ["selector": ["app": "web"], "clusterIP": "10.96.0.10", "ports": [["port": 80]]]])
        let spec = o["spec"] ?? .null
        #expect(spec["type"] == "ClusterIP" && spec["sessionAffinity"] == "None")
        #expect(spec["internalTrafficPolicy"] == "Cluster" && spec["ipFamilyPolicy"] == "SingleStack" && spec["ipFamilies"] == ["IPv4"])
        #expect(spec["ports"] == [["port": 80, "protocol": "TCP", "targetPort": 80]])
        let ip = spec["clusterIP"]?.stringValue ?? ""
        #expect(ip.hasPrefix("10.") && spec["clusterIPs"] == [.string(ip)])
        #expect(s.validate(o).isEmpty)
        #expect(s.tableCells(for: o, now: now) == ["web", "ClusterIP", .string(ip), "<none>", "80/TCP", "60m", "app=web"])

        let np = prepared(s, ["metadata": meta("np"), "spec": ["type": "NodePort", "ports": [["port": 80, "targetPort": "http", "nodePort": 30080]]]])
        let nodePort = np[path: ["spec", "ports"]]?.arrayValue?.first?["nodePort"]?.intValue ?? 0
        #expect((30000...32767).contains(nodePort))
        #expect(np[path: ["spec", "externalTrafficPolicy"]] == "Cluster")
        #expect(s.tableCells(for: np, now: now)[4] == .string("80:\(nodePort)/TCP"))
        let lb = prepared(s, ["metadata": meta("lb"), "spec": ["type": "LoadBalancer", "ports": [["port": 443]]]])
        #expect(s.tableCells(for: lb, now: now)[3] == "<pending>")
    }

    @Test func serviceValidation() {
        let s = ServiceStrategy()
        let fields = { (spec: JSONValue, name: String) in Set(s.validate(prepared(s, ["metadata": meta(name), "spec": spec])).map(\.field)) }
        #expect(fields(["ports": [["port": 80], ["port": 81]]], "web") == ["spec.ports[0].name", "spec.ports[1].name"])
        #expect(fields(["ports": [["name": "a", "port": 80], ["name": "a", "port": 81]]], "web") == ["spec.ports[1].name"])
        #expect(fields(["ports": [["port": 0]]], "web") == ["spec.ports[0].port", "spec.ports[0].targetPort"])  // targetPort defaults to port
        #expect(fields(["type": "Weird", "ports": [["port": 80]]], "web") == ["spec.type"])
        #expect(fields(["ports": []], "web") == ["spec.ports"])
        #expect(fields(["clusterIP": "None"], "headless").isEmpty)
        #expect(s.nameRule == .dns1035Label)
        #expect(fields(["ports": [["port": 80, "nodePort": 30080]]], "web") == ["spec.ports[0].nodePort"])
    }

    @Test func serviceClusterIPImmutable() {
        let s = ServiceStrategy()
        let old = prepared(s, ["metadata": meta("web"), "spec": ["clusterIP": "10.96.0.20", "ports": [["port": 80]]]])
        var new = old
        new[path: ["spec", "clusterIP"]] = "10.96.0.21"
        new[path: ["spec", "clusterIPs"]] = ["10.96.0.21"]
        let errs = s.validateUpdate(new, old: old)
        #expect(errs.map(\.message) == ["spec.clusterIPs[0]: Invalid value: []string{\"10.96.0.21\"}: may not change once set"])
        // An update that omits the allocated IP keeps it.
        var omitted = old
        omitted[path: ["spec", "clusterIP"]] = nil
        omitted[path: ["spec", "clusterIPs"]] = nil
        s.prepareForUpdate(&omitted, old: old)
        #expect(omitted[path: ["spec", "clusterIP"]] == "10.96.0.20")
        #expect(s.validateUpdate(omitted, old: old).isEmpty)
    }

    @Test func secret() {
        let s = SecretStrategy()
        let o = prepared(s, ["metadata": meta("creds"), "data": ["a": "eA=="], "stringData": ["b": "hello", "a": "y"]])
        #expect(o["type"] == "Opaque")
        #expect(o["stringData"] == nil)
        #expect(o["data"] == ["a": "eQ==", "b": "aGVsbG8="])
        #expect(s.validate(o).isEmpty)
        #expect(s.tableCells(for: o, now: now) == ["creds", "Opaque", 2, "60m"])
        #expect(s.selectableField("type", of: o) == .some("Opaque"))

        #expect(s.validate(["metadata": meta("x"), "type": "Opaque", "data": ["k": "%%%"]]).map(\.field) == ["data[k]"])
        #expect(s.validate(["metadata": meta("x"), "type": "Opaque", "data": ["bad/key": "eA=="]]).map(\.field) == ["data[bad/key]"])
        #expect(Set(s.validate(["metadata": meta("x"), "type": "kubernetes.io/tls", "data": [:]]).map(\.field)) == ["data[tls.key]", "data[tls.crt]"])

        var changedType = o
        changedType["type"] = "kubernetes.io/basic-auth"
        changedType["data"] = ["username": "dQ=="]
        #expect(s.validateUpdate(changedType, old: o).map(\.field) == ["type"])
        var locked = o
        locked["immutable"] = true
        var edited = locked
        edited["data"] = ["a": "eg=="]
        #expect(s.validateUpdate(edited, old: locked).map(\.field) == ["data"])
        // stringData is folded on update too.
        var viaString = locked
        viaString["stringData"] = ["a": "y"]
        s.prepareForUpdate(&viaString, old: locked)
        #expect(viaString["stringData"] == nil && s.validateUpdate(viaString, old: locked).isEmpty)
    }

    @Test func configMap() {
        let s = ConfigMapStrategy()
        let o: JSONValue = ["metadata": meta("cfg"), "data": ["a.conf": "x"], "binaryData": ["b.bin": "AAE="]]
        #expect(s.validate(o).isEmpty)
        #expect(s.tableCells(for: o, now: now) == ["cfg", 2, "60m"])
        #expect(s.validate(["metadata": meta("c"), "data": ["a b": "x"]]).map(\.field) == ["data[a b]"])
        #expect(s.validate(["metadata": meta("c"), "data": ["k": "x"], "binaryData": ["k": "AA=="]]).map(\.field) == ["binaryData[k]"])
        var locked = o
        locked["immutable"] = true
        var edited = locked
        edited["data"] = ["a.conf": "y"]
        #expect(s.validateUpdate(edited, old: locked).map(\.field) == ["data"])
        var unlocked = locked
        unlocked["immutable"] = false
        #expect(s.validateUpdate(unlocked, old: locked).map(\.field) == ["immutable"])
        #expect(s.definition.shortNames == ["cm"])
    }

    @Test func serviceAccount() {
        let s = ServiceAccountStrategy()
        let o: JSONValue = ["metadata": meta("default"), "secrets": [["name": "tok"]]]
        #expect(s.tableCells(for: o, now: now) == ["default", 1, "60m"])
        #expect(s.definition.shortNames == ["sa"])
    }

    @Test func node() {
        let s = NodeStrategy()
        let o: JSONValue = [
            "metadata": ["name": "n1", "creationTimestamp": "2026-01-01T00:00:00Z",
                         "labels": ["node-role.kubernetes.io/control-plane": "", "kubernetes.io/role": "worker"]],
            "spec": ["unschedulable": true, "taints": [["key": "k", "effect": "NoSchedule"]]],
            "status": [
                "conditions": [["type": "Ready", "status": "True"]],
                "addresses": [["type": "InternalIP", "address": "192.168.1.10"]],
                "nodeInfo": ["kubeletVersion": "v1.33.0", "osImage": "Debian", "kernelVersion": "6.1", "containerRuntimeVersion": "containerd://2.0"],
            ],
        ]
        #expect(s.validate(o).isEmpty)
        #expect(s.tableCells(for: o, now: now) == [
            "n1", "Ready,SchedulingDisabled", "control-plane,worker", "60m", "v1.33.0", "192.168.1.10", "<none>", "Debian", "6.1", "containerd://2.0",
        ])
        #expect(s.selectableField("spec.unschedulable", of: o) == .some("true"))
        var badTaint = o
        badTaint[path: ["spec", "taints"]] = [["key": "k", "effect": "Sometimes"]]
        #expect(s.validate(badTaint).map(\.field) == ["spec.taints[0].effect"])
        #expect(s.tableCells(for: ["metadata": ["name": "n2"]], now: now)[1] == "Unknown")
    }

    @Test func event() {
        let s = EventStrategy()
        let o: JSONValue = [
            "metadata": meta("web.1"), "involvedObject": ["kind": "Pod", "name": "web", "namespace": "default", "uid": "u1"],
            "reason": "Scheduled", "type": "Normal", "message": " Assigned ", "source": ["component": "default-scheduler"],
            "firstTimestamp": "2026-01-01T00:50:00Z", "lastTimestamp": "2026-01-01T00:58:00Z", "count": 2,
        ]
        #expect(s.validate(o).isEmpty)
        #expect(s.tableColumns.map(\.name).prefix(4) == ["Last Seen", "Type", "Reason", "Object"])
        #expect(s.tableCells(for: o, now: now) == ["2m", "Normal", "Scheduled", "pod/web", "", "default-scheduler", "Assigned", "10m", 2, "web.1"])
        #expect(s.selectableField("involvedObject.name", of: o) == .some("web"))
        #expect(s.selectableField("involvedObject.uid", of: o) == .some("u1"))
        #expect(s.selectableField("reason", of: o) == .some("Scheduled"))
        #expect(s.selectableField("source", of: o) == .some("default-scheduler"))
        #expect(s.selectableField("type", of: o) == .some("Normal"))
        #expect(s.selectableField("message", of: o) == nil)
        var wrongNS = o
        wrongNS[path: ["involvedObject", "namespace"]] = "other"
        #expect(s.validate(wrongNS).map(\.field) == ["involvedObject.namespace"])
    }

    @Test func endpoints() {
        let s = EndpointsStrategy()
        var o: JSONValue = ["metadata": meta("web"), "subsets": [["addresses": [["ip": "10.1.0.1"], ["ip": "10.1.0.2"]], "ports": [["port": 80]]]]]
        s.applyDefaults(to: &o)
        #expect(s.validate(o).isEmpty)
        #expect(s.tableCells(for: o, now: now) == ["web", "10.1.0.1:80,10.1.0.2:80", "60m"])
        #expect(s.validate(["subsets": [["addresses": [["ip": "nope"]]]]]).map(\.field) == ["subsets[0].addresses[0].ip"])
        #expect(s.tableCells(for: ["metadata": meta("e")], now: now)[1] == "<none>")
    }
}
