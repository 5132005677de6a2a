import Foundation
import Testing
@testable import APIServer
import KubeModel

@Suite struct AppsStrategyTests {
    let deploy = DeploymentStrategy()
    let rs = ReplicaSetStrategy()

    func object(_ kind: String, selector: JSONValue? = ["matchLabels": ["app": "web"]], labels: JSONValue = ["app": "web"],
                extra: [String: JSONValue] = [:]) -> JSONValue {
        var spec: JSONValue = ["template": ["metadata": ["labels": labels], "spec": ["containers": [["name": "web", "image": "nginx:1.27"]]]]]
        if let selector { spec["selector"] = selector }
        for (k, v) in extra { spec[k] = v }
        return ["apiVersion": "apps/v1", "kind": .string(kind), "metadata": ["name": "web", "namespace": "default"], "spec": spec]
    }

    func defaulted(_ s: any ResourceStrategy, _ o: JSONValue) -> JSONValue {
        var x = o
        s.applyDefaults(to: &x)
        return x
    }

    @Test func deploymentDefaults() {
        let o = defaulted(deploy, object("Deployment"))
        #expect(o[path: ["spec", "replicas"]] == 1)
        #expect(o[path: ["spec", "revisionHistoryLimit"]] == 10)
        #expect(o[path: ["spec", "progressDeadlineSeconds"]] == 600)
        #expect(o[path: ["spec", "strategy"]] == ["type": "RollingUpdate", "rollingUpdate": ["maxSurge": "25%", "maxUnavailable": "25%"]])
        let pod = o[path: ["spec", "template", "spec"]] ?? .null
        #expect(pod["restartPolicy"] == "Always" && pod["dnsPolicy"] == "ClusterFirst" && pod["schedulerName"] == "default-scheduler")
        #expect(pod["terminationGracePeriodSeconds"] == 30)
        #expect(pod["enableServiceLinks"] == nil)  // Pod-only default
        #expect(pod["containers"]?.arrayValue?.first?["imagePullPolicy"] == "IfNotPresent")
        let recreate = defaulted(deploy, object("Deployment", extra: ["strategy": ["type": "Recreate"]]))
        #expect(recreate[path: ["spec", "strategy"]] == ["type": "Recreate"])
        #expect(deploy.validate(defaulted(deploy, object("Deployment"))).isEmpty)
    }

    @Test func selectorMustMatchTemplate() {
        let errs = deploy.validate(defaulted(deploy, object("Deployment", labels: ["app": "other"])))
        #expect(errs.count == 1)
        #expect(errs.first?.field == "spec.template.metadata.labels")
        #expect(errs.first?.detail == "`selector` does not match template `labels`")
        let expr: JSONValue = ["matchExpressions": [["key": "app", "operator": "In", "values": ["web", "api"]]]]
        #expect(deploy.validate(defaulted(deploy, object("Deployment", selector: expr))).isEmpty)
    }

    @Test func deploymentValidation() {
        let fields = { (o: JSONValue) in Set(deploy.validate(defaulted(deploy, o)).map(\.field)) }
        #expect(fields(object("Deployment", selector: nil)) == ["spec.selector"])
        #expect(fields(object("Deployment", selector: [:])) == ["spec.selector"])
        #expect(fields(object("Deployment", extra: ["replicas": -1])) == ["spec.replicas"])
        #expect(fields(object("Deployment", extra: ["strategy": ["type": "Recreate", "rollingUpdate": [:]]])) == ["spec.strategy.rollingUpdate"])
        #expect(fields(object("Deployment", extra: ["strategy": ["type": "Sideways"]])) == ["spec.strategy"])
        #expect(fields(object("Deployment", extra: ["strategy": ["type": "RollingUpdate", "rollingUpdate": ["maxSurge": 0, "maxUnavailable": 0]]]))
                == ["spec.strategy.rollingUpdate.maxUnavailable"])
        #expect(fields(object("Deployment", extra: ["strategy": ["rollingUpdate": ["maxSurge": "abc"]]])) == ["spec.strategy.rollingUpdate.maxSurge"])
        var bad = object("Deployment")
        bad[path: ["spec", "template", "spec", "containers"]] = [["name": "web"]]
        #expect(fields(bad) == ["spec.template.spec.containers[0].image"])
        bad[path: ["spec", "template", "spec", "containers"]] = [["name": "web", "image": "x"]]
        bad[path: ["spec", "template", "spec", "restartPolicy"]] = "Never"
        #expect(fields(bad) == ["spec.template.spec.restartPolicy"])
    }

    @Test func selectorImmutable() {
        let old = defaulted(deploy, object("Deployment"))
        var new = defaulted(deploy, object("Deployment", selector: ["matchLabels": ["app": "web", "v": "2"]], labels: ["app": "web", "v": "2"]))
        let errs = deploy.validateUpdate(new, old: old)
        #expect(errs.map(\.field) == ["spec.selector"])
        #expect(errs.first?.detail == "field is immutable")
        new = old
        new[path: ["spec", "replicas"]] = 5
        #expect(deploy.validateUpdate(new, old: old).isEmpty)
        let oldRS = defaulted(rs, object("ReplicaSet"))
        let newRS = defaulted(rs, object("ReplicaSet", selector: ["matchLabels": ["app": "x"]], labels: ["app": "x"]))
        #expect(rs.validateUpdate(newRS, old: oldRS).map(\.field) == ["spec.selector"])
    }

    @Test func tables() {
        var o = defaulted(deploy, object("Deployment", extra: ["replicas": 3]))
        o["status"] = ["readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2]
        o[path: ["metadata", "creationTimestamp"]] = "2026-01-01T00:00:00Z"
        let now = Date(timeIntervalSince1970: 1_767_225_600 + 90)
        #expect(deploy.tableColumns.map(\.name) == ["Name", "Ready", "Up-to-date", "Available", "Age", "Containers", "Images", "Selector"])
        #expect(deploy.tableCells(for: o, now: now) == ["web", "2/3", 3, 2, "90s", "web", "nginx:1.27", "app=web"])

        var r = defaulted(rs, object("ReplicaSet"))
        r["status"] = ["replicas": 1, "readyReplicas": 0]
        #expect(rs.tableColumns.map(\.name) == ["Name", "Desired", "Current", "Ready", "Age", "Containers", "Images", "Selector"])
        #expect(rs.tableCells(for: r, now: now) == ["web", 1, 1, 0, "<unknown>", "web", "nginx:1.27", "app=web"])
    }
}
