import Foundation
import Testing
@testable import APIServer
import KubeModel

@Suite struct PodStrategyTests {
    let s = PodStrategy()

    func pod(_ containers: JSONValue = [["name": "web", "image": "nginx"]], spec extra: [String: JSONValue] = [:]) -> JSONValue {
        var spec: JSONValue = ["containers": containers]
        for (k, v) in extra { spec[k] = v }
        return ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": "p", "namespace": "default"], "spec": spec]
    }

    func created(_ p: JSONValue) -> JSONValue {
        var o = p
        s.applyDefaults(to: &o)
        s.prepareForCreate(&o)
        return o
    }

    @Test func definition() {
        #expect(s.definition.shortNames == ["po"])
        #expect(s.definition.categories == ["all"])
        #expect(s.definition.subresources.isSuperset(of: [.status, .log, .binding, .exec, .attach, .portforward, .eviction]))
        #expect(s.definition.schemaNames["v1"] == "io.k8s.api.core.v1.Pod")
    }

    @Test func defaults() {
        let o = created(pod([["name": "web", "image": "nginx", "ports": [["containerPort": 80]],
                              "livenessProbe": ["httpGet": ["port": 80]]]]))
        let spec = o["spec"] ?? .null
        #expect(spec["restartPolicy"] == "Always")
        #expect(spec["dnsPolicy"] == "ClusterFirst")
        #expect(spec["schedulerName"] == "default-scheduler")
        #expect(spec["terminationGracePeriodSeconds"] == 30)
        #expect(spec["securityContext"] == .object([:]))
        #expect(spec["enableServiceLinks"] == true)
        #expect(spec["serviceAccountName"] == "default")
        let c = spec["containers"]?.arrayValue?.first ?? .null
        #expect(c["imagePullPolicy"] == "Always")
        #expect(c["terminationMessagePath"] == "/dev/termination-log")
        #expect(c["terminationMessagePolicy"] == "File")
        #expect(c["resources"] == .object([:]))
        #expect(c[path: ["ports"]]?.arrayValue?[0]["protocol"] == "TCP")
        let probe = c["livenessProbe"] ?? .null
        #expect(probe["timeoutSeconds"] == 1 && probe["periodSeconds"] == 10)
        #expect(probe["successThreshold"] == 1 && probe["failureThreshold"] == 3)
        #expect(probe[path: ["httpGet", "scheme"]] == "HTTP" && probe[path: ["httpGet", "path"]] == "/")
        #expect(o[path: ["status", "phase"]] == "Pending")
        #expect(o[path: ["status", "qosClass"]] == "BestEffort")
        #expect(spec["tolerations"]?.arrayValue?.count == 2)
    }

    @Test(arguments: [("nginx", "Always"), ("nginx:latest", "Always"), ("nginx:1.27", "IfNotPresent"),
                      ("registry:5000/app", "Always"), ("registry:5000/app:v2", "IfNotPresent"),
                      ("app@sha256:abc", "IfNotPresent")])
    func pullPolicy(_ image: String, _ policy: String) {
        let o = created(pod([["name": "c", "image": .string(image)]]))
        #expect(o[path: ["spec", "containers"]]?.arrayValue?[0]["imagePullPolicy"] == .string(policy))
    }

    @Test func qosClasses() {
        let guaranteed = created(pod([["name": "c", "image": "x", "resources": ["limits": ["cpu": "1", "memory": "1Gi"]]]]))
        #expect(guaranteed[path: ["status", "qosClass"]] == "Guaranteed")
        #expect(guaranteed[path: ["spec", "containers"]]?.arrayValue?[0][path: ["resources", "requests", "cpu"]] == "1")
        let burstable = created(pod([["name": "c", "image": "x", "resources": ["requests": ["cpu": "100m"]]]]))
        #expect(burstable[path: ["status", "qosClass"]] == "Burstable")
    }

    @Test func validation() {
        let fields = { (p: JSONValue) in Set(s.validate(created(p)).map(\.field)) }
        #expect(s.validate(created(pod())).isEmpty)
        #expect(fields(pod([])) == ["spec.containers"])
        #expect(fields(pod([["name": "web"]])) == ["spec.containers[0].image"])
        #expect(fields(pod([["name": "a", "image": "x"], ["name": "a", "image": "y"]])) == ["spec.containers[1].name"])
        #expect(fields(pod([["name": "Bad_Name", "image": "x"]])) == ["spec.containers[0].name"])
        #expect(fields(pod([["name": "a", "image": "x", "ports": [["containerPort": 70000]]]])) == ["spec.containers[0].ports[0].containerPort"])
        #expect(fields(pod([["name": "a", "image": "x", "env": [["name": "A=B", "value": "1"]]]])) == ["spec.containers[0].env[0].name"])
        #expect(fields(pod(spec: ["restartPolicy": "Sometimes"])) == ["spec.restartPolicy"])
        #expect(fields(pod(spec: ["volumes": [["name": "v", "emptyDir": [:]], ["name": "v", "emptyDir": [:]]]])) == ["spec.volumes[1].name"])
        #expect(fields(pod([["name": "a", "image": "x", "volumeMounts": [["name": "missing", "mountPath": "/x"]]]])) == ["spec.containers[0].volumeMounts[0].name"])
        let res = s.validate(created(pod([["name": "a", "image": "x", "resources": ["requests": ["cpu": "2"], "limits": ["cpu": "1"]]]])))
        #expect(res.map(\.message) == ["spec.containers[0].resources.requests[cpu]: Invalid value: \"2\": must be less than or equal to cpu limit of 1"])
        #expect(fields(pod([["name": "a", "image": "x", "resources": ["limits": ["memory": "lots"]]]])) == ["spec.containers[0].resources.limits[memory]"])
        let restart = s.validate(created(pod(spec: ["restartPolicy": "Sometimes"]))).first
        #expect(restart?.message == "spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"OnFailure\", \"Never\"")
    }

    @Test func updates() {
        let old = created(pod())
        var imageChange = old
        var containers = old[path: ["spec", "containers"]]?.arrayValue ?? []
        containers[0]["image"] = "nginx:2"
        imageChange[path: ["spec", "containers"]] = .array(containers)
        #expect(s.validateUpdate(imageChange, old: old).isEmpty)

        var portChange = old
        portChange[path: ["spec", "containers"]] = [["name": "web", "image": "nginx", "ports": [["containerPort": 81]]]]
        s.applyDefaults(to: &portChange)
        let errs = s.validateUpdate(portChange, old: old)
        #expect(errs.count == 1 && errs[0].field == "spec" && errs[0].kind == .forbidden)
        #expect(errs[0].detail.hasPrefix("pod updates may not change fields other than `spec.containers[*].image`"))

        var addToleration = old
        addToleration[path: ["spec", "tolerations"]] = .array((old[path: ["spec", "tolerations"]]?.arrayValue ?? []) + [["key": "k", "operator": "Exists"]])
        #expect(s.validateUpdate(addToleration, old: old).isEmpty)
        var dropToleration = old
        dropToleration[path: ["spec", "tolerations"]] = []
        #expect(s.validateUpdate(dropToleration, old: old).map(\.field) == ["spec.tolerations"])
    }

    @Test func fieldSelectors() {
        var o = created(pod(spec: ["nodeName": "n1"]))
        o[path: ["status", "podIPs"]] = [["ip": "10.0.0.5"]]
        #expect(s.selectableField("spec.nodeName", of: o) == .some("n1"))
        #expect(s.selectableField("spec.restartPolicy", of: o) == .some("Always"))
        #expect(s.selectableField("spec.schedulerName", of: o) == .some("default-scheduler"))
        #expect(s.selectableField("spec.serviceAccountName", of: o) == .some("default"))
        #expect(s.selectableField("status.phase", of: o) == .some("Pending"))
        #expect(s.selectableField("status.podIP", of: o) == .some("10.0.0.5"))
        #expect(s.selectableField("status.nominatedNodeName", of: o) == .some(""))
        #expect(s.selectableField("spec.bogus", of: o) == nil)
    }

    func row(_ status: JSONValue, spec extra: [String: JSONValue] = [:], deleting: Bool = false) -> [JSONValue] {
        var o = created(pod([["name": "a", "image": "x"], ["name": "b", "image": "y"]], spec: extra))
        o["status"] = status
        o[path: ["metadata", "creationTimestamp"]] = "2026-01-01T00:00:00Z"
        if deleting { o[path: ["metadata", "deletionTimestamp"]] = "2026-01-01T00:05:00Z" }
        return s.tableCells(for: o, now: Timestamp.parse("2026-01-01T00:10:00Z")!)
    }

    @Test func table() {
        #expect(s.tableColumns.map(\.name) == ["Name", "Ready", "Status", "Restarts", "Age", "IP", "Node", "Nominated Node", "Readiness Gates"])
        let running: JSONValue = ["phase": "Running", "podIPs": [["ip": "10.1.1.1"]], "containerStatuses": [
            ["name": "a", "ready": true, "restartCount": 0, "state": ["running": [:]]],
            ["name": "b", "ready": true, "restartCount": 2, "state": ["running": [:]],
             "lastState": ["terminated": ["exitCode": 1, "finishedAt": "2026-01-01T00:07:00Z"]]],
        ]]
        #expect(row(running) == ["p", "2/2", "Running", "2 (3m ago)", "10m", "10.1.1.1", "<none>", "<none>", "<none>"])
        let waiting: JSONValue = ["phase": "Pending", "containerStatuses": [
            ["name": "a", "ready": false, "restartCount": 0, "state": ["waiting": ["reason": "ImagePullBackOff"]]],
        ]]
        #expect(row(waiting)[2] == "ImagePullBackOff")
        #expect(row(["phase": "Running"], deleting: true)[2] == "Terminating")
        let completed: JSONValue = ["phase": "Succeeded", "containerStatuses": [
            ["name": "a", "state": ["terminated": ["exitCode": 0, "reason": "Completed"]]],
        ]]
        #expect(row(completed)[2] == "Completed")
        let initing: JSONValue = ["phase": "Pending", "initContainerStatuses": [
            ["name": "i", "state": ["running": [:]]],
        ]]
        #expect(row(initing, spec: ["initContainers": [["name": "i", "image": "busybox"], ["name": "j", "image": "busybox"]]])[2] == "Init:0/2")
        #expect(row(["phase": "Pending"])[1] == "0/2")
    }
}
