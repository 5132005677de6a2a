import Foundation
import Testing
@testable import APIServer
import KubeModel

/// DaemonSet, StatefulSet, ControllerRevision and ReplicationController strategies: defaults,
/// validation and the cells `kubectl get` prints.
@Suite struct WorkloadSetStrategyTests {
    let ds = DaemonSetStrategy()
    let sts = StatefulSetStrategy()
    let revision = ControllerRevisionStrategy()
    let rc = ReplicationControllerStrategy()

    func object(_ kind: String, extra: [String: JSONValue] = [:]) -> JSONValue {
        var spec: JSONValue = ["selector": ["matchLabels": ["app": "web"]],
                               "template": ["metadata": ["labels": ["app": "web"]], "spec": ["containers": [["name": "web", "image": "nginx:1"]]]]]
        for (k, v) in extra { spec[k] = v }
        return ["apiVersion": "apps/v1", "kind": .string(kind), "metadata": ["name": "web", "namespace": "default"], "spec": spec]
    }

    func defaulted(_ s: any ResourceStrategy, _ o: JSONValue) -> JSONValue {
        var x = o
        s.applyDefaults(to: &x)
        return x
    }

    func fields(_ s: any ResourceStrategy, _ o: JSONValue) -> Set<String> { Set(s.validate(defaulted(s, o)).map(\.field)) }

    @Test func daemonSetDefaultsAndValidation() {
        let o = defaulted(ds, object("DaemonSet"))
        #expect(o[path: ["spec", "updateStrategy"]] == ["type": "RollingUpdate", "rollingUpdate": ["maxUnavailable": 1, "maxSurge": 0]])
        #expect(o[path: ["spec", "revisionHistoryLimit"]] == 10)
        #expect(ds.validate(o).isEmpty)
        #expect(fields(ds, object("DaemonSet", extra: ["updateStrategy": ["type": "Sideways"]])) == ["spec.updateStrategy.type"])
        #expect(fields(ds, object("DaemonSet", extra: ["updateStrategy": ["type": "RollingUpdate", "rollingUpdate": ["maxUnavailable": 0, "maxSurge": 0]]]))
                == ["spec.updateStrategy.rollingUpdate.maxUnavailable"])
        #expect(fields(ds, object("DaemonSet", extra: ["selector": [:]])) == ["spec.selector"])
        var onFailure = object("DaemonSet")
        onFailure[path: ["spec", "template", "spec", "restartPolicy"]] = "OnFailure"
        #expect(fields(ds, onFailure) == ["spec.template.spec.restartPolicy"])
        var moved = o
        moved[path: ["spec", "selector"]] = ["matchLabels": ["app": "other"]]
        moved[path: ["spec", "template", "metadata", "labels"]] = ["app": "other"]
        #expect(ds.validateUpdate(moved, old: o).map(\.field) == ["spec.selector"])
    }

    @Test func daemonSetTable() {
        var o = defaulted(ds, object("DaemonSet"))
        o[path: ["spec", "template", "spec", "nodeSelector"]] = ["disk": "ssd", "arch": "amd64"]
        o["status"] = ["desiredNumberScheduled": 2, "currentNumberScheduled": 2, "numberReady": 1, "updatedNumberScheduled": 2, "numberAvailable": 1]
        let cells = ds.tableCells(for: o, now: Date())
        #expect(ds.tableColumns.map(\.name) == ["Name", "Desired", "Current", "Ready", "Up-to-date", "Available", "Node Selector", "Age",
                                                "Containers", "Images", "Selector"])
        #expect(Array(cells.prefix(7)) == ["web", 2, 2, 1, 2, 1, "arch=amd64,disk=ssd"])
        #expect(Array(cells.suffix(3)) == ["web", "nginx:1", "app=web"])
    }

    @Test func statefulSetDefaultsAndValidation() {
        let claim: JSONValue = ["metadata": ["name": "data"], "spec": ["accessModes": ["ReadWriteOnce"], "resources": ["requests": ["storage": "1Gi"]]]]
        let o = defaulted(sts, object("StatefulSet", extra: ["volumeClaimTemplates": [claim]]))
        #expect(o[path: ["spec", "podManagementPolicy"]] == "OrderedReady")
        #expect(o[path: ["spec", "updateStrategy"]] == ["type": "RollingUpdate", "rollingUpdate": ["partition": 0]])
        #expect(o[path: ["spec", "persistentVolumeClaimRetentionPolicy"]] == ["whenDeleted": "Retain", "whenScaled": "Retain"])
        #expect(o[path: ["spec", "volumeClaimTemplates"]]?.arrayValue?.first?[path: ["spec", "volumeMode"]] == "Filesystem")
        #expect(sts.validate(o).isEmpty)
        // Containers mount claim templates by name; an unknown volume is still an error.
        var mounted = o
        mounted[path: ["spec", "template", "spec", "containers"]] = [["name": "web", "image": "nginx:1", "volumeMounts": [["name": "data", "mountPath": "/data"]]]]
        #expect(sts.validate(defaulted(sts, mounted)).isEmpty)
        mounted[path: ["spec", "template", "spec", "containers"]] = [["name": "web", "image": "nginx:1", "volumeMounts": [["name": "other", "mountPath": "/data"]]]]
        #expect(sts.validate(defaulted(sts, mounted)).map(\.field) == ["spec.template.spec.containers[0].volumeMounts[0].name"])
        #expect(fields(sts, object("StatefulSet", extra: ["podManagementPolicy": "Random"])) == ["spec.podManagementPolicy"])
        #expect(fields(sts, object("StatefulSet", extra: ["updateStrategy": ["type": "OnDelete", "rollingUpdate": ["partition": 1]]]))
                == ["spec.updateStrategy.rollingUpdate"])
        #expect(fields(sts, object("StatefulSet", extra: ["updateStrategy": ["type": "RollingUpdate", "rollingUpdate": ["partition": -1]]]))
                == ["spec.updateStrategy.rollingUpdate.partition"])
        #expect(fields(sts, object("StatefulSet", extra: ["persistentVolumeClaimRetentionPolicy": ["whenDeleted": "Keep"]]))
                == ["spec.persistentVolumeClaimRetentionPolicy.whenDeleted"])
        #expect(fields(sts, object("StatefulSet", extra: ["volumeClaimTemplates": [["metadata": ["name": "data"], "spec": [:]]]]))
                == ["spec.volumeClaimTemplates[0].spec.accessModes"])
    }

    @Test func statefulSetUpdatesOnlyTheMutableFields() {
        let old = defaulted(sts, object("StatefulSet", extra: ["serviceName": "web"]))
        var scaled = old
        scaled[path: ["spec", "replicas"]] = 5
        scaled[path: ["spec", "template", "spec", "containers"]] = [["name": "web", "image": "nginx:2"]]
        #expect(sts.validateUpdate(defaulted(sts, scaled), old: old).isEmpty)
        var renamed = old
        renamed[path: ["spec", "serviceName"]] = "other"
        #expect(sts.validateUpdate(renamed, old: old).map(\.field) == ["spec"])
    }

    @Test func statefulSetTable() {
        var o = defaulted(sts, object("StatefulSet", extra: ["replicas": 3]))
        o["status"] = ["readyReplicas": 2]
        #expect(sts.tableColumns.map(\.name) == ["Name", "Ready", "Age", "Containers", "Images"])
        let cells = sts.tableCells(for: o, now: Date())
        #expect(cells[0] == "web" && cells[1] == "2/3" && cells[3] == "web" && cells[4] == "nginx:1")
    }

    @Test func controllerRevisionDataIsRequiredAndImmutable() {
        let r: JSONValue = ["apiVersion": "apps/v1", "kind": "ControllerRevision", "metadata": [
            "name": "web-abc", "namespace": "default",
            "ownerReferences": [["apiVersion": "apps/v1", "kind": "DaemonSet", "name": "web", "uid": "u", "controller": true]],
        ], "data": ["spec": ["template": [:]]], "revision": 1]
        #expect(revision.validate(r).isEmpty)
        var missing = r
        missing["data"] = nil
        #expect(revision.validate(missing).map(\.field) == ["data"])
        var negative = r
        negative["revision"] = -1
        #expect(revision.validate(negative).map(\.field) == ["revision"])
        var renumbered = r
        renumbered["revision"] = 3
        #expect(revision.validateUpdate(renumbered, old: r).isEmpty)
        var changed = r
        changed["data"] = ["spec": ["template": ["metadata": [:]]]]
        #expect(revision.validateUpdate(changed, old: r).map(\.field) == ["data"])
        let cells = revision.tableCells(for: r, now: Date())
        #expect(cells[0] == "web-abc" && cells[1] == "daemonset.apps/web" && cells[2] == 1)
    }

    @Test func replicationControllerDefaultsItsSelectorFromTheTemplate() {
        let o: JSONValue = ["apiVersion": "v1", "kind": "ReplicationController", "metadata": ["name": "rc", "namespace": "default"],
                            "spec": ["template": ["metadata": ["labels": ["app": "rc"]], "spec": ["containers": [["name": "a", "image": "nginx:1"]]]]]]
        let d = defaulted(rc, o)
        #expect(d[path: ["spec", "selector"]] == ["app": "rc"])
        #expect(d[path: ["metadata", "labels"]] == ["app": "rc"])
        #expect(d[path: ["spec", "replicas"]] == 1)
        #expect(rc.validate(d).isEmpty)
        #expect(Registry.scale(of: d, paths: rc.scalePaths)[path: ["status", "selector"]] == "app=rc")
        var mismatch = d
        mismatch[path: ["spec", "selector"]] = ["app": "other"]
        #expect(rc.validate(mismatch).map(\.field) == ["spec.template.metadata.labels"])
        var noLabels = o
        noLabels[path: ["spec", "template", "metadata"]] = [:]
        #expect(Set(rc.validate(defaulted(rc, noLabels)).map(\.field)).contains("spec.selector"))
        let cells = rc.tableCells(for: d, now: Date())
        #expect(cells[0] == "rc" && cells[1] == 1 && cells[2] == 0 && cells[7] == "app=rc")
    }
}
