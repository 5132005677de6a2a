import Foundation
import Testing
@testable import APIServer
import KubeModel

/// PersistentVolume, PersistentVolumeClaim and StorageClass: defaults, Kubernetes' validation
/// messages, what may change after create, `kubectl get` cells, the default class, and how
/// claims count against a ResourceQuota.
@Suite struct StorageStrategyTests {
    let now = Date(timeIntervalSince1970: 1_767_225_600 + 3600)  // 2026-01-01T01:00:00Z
    let created: JSONValue = "2026-01-01T00:00:00Z"

    func prepared(_ s: any ResourceStrategy, _ o: JSONValue) -> JSONValue {
        var x = o
        s.applyDefaults(to: &x)
        s.prepareForCreate(&x)
        return x
    }

    func messages(_ errs: [FieldError]) -> [String] { errs.map(\.message) }

    @Test func persistentVolume() {
        let s = PersistentVolumeStrategy()
        let pv = prepared(s, ["metadata": ["name": "pv1", "creationTimestamp": created],
                              "spec": ["capacity": ["storage": "2Gi"], "accessModes": ["ReadWriteMany", "ReadWriteOnce"],
                                       "hostPath": ["path": "/srv/pv1"]]])
        #expect(pv[path: ["spec", "persistentVolumeReclaimPolicy"]] == "Retain")
        #expect(pv[path: ["spec", "volumeMode"]] == "Filesystem")
        #expect(pv[path: ["spec", "hostPath", "type"]] == "")
        #expect(pv["status"] == ["phase": "Pending"])
        #expect(s.validate(pv).isEmpty)
        #expect(s.tableCells(for: pv, now: now)
                == ["pv1", "2Gi", "RWO,RWX", "Retain", "Pending", "", "", "<unset>", "", "60m", "Filesystem"])

        #expect(messages(s.validate(["spec": ["accessModes": ["Sometimes"], "capacity": ["storage": "1Gi", "cpu": "1"]]])) == [
            "spec.accessModes: Unsupported value: \"Sometimes\": supported values: \"ReadWriteOnce\", \"ReadOnlyMany\", \"ReadWriteMany\", \"ReadWriteOncePod\"",
            "spec.capacity: Unsupported value: cpu,storage: supported values: \"storage\"",
            "spec: Required value: must specify a volume type",
        ])
        #expect(messages(s.validate(["spec": ["accessModes": ["ReadWriteOncePod", "ReadWriteOnce"], "capacity": ["storage": "1Gi"],
                                              "local": ["path": "/srv"]]])) == [
            "spec.accessModes: Forbidden: may not use ReadWriteOncePod with other access modes",
            "spec.nodeAffinity: Required value: Local volume requires node affinity",
        ])
        #expect(messages(s.validate(["spec": ["accessModes": ["ReadWriteOnce"], "capacity": ["storage": "1Gi"],
                                              "hostPath": ["path": "/a"], "nfs": ["server": "x", "path": "/"]]]))
                == ["spec.nfs: Forbidden: may not specify more than 1 volume type"])

        var moved = pv
        moved[path: ["spec", "hostPath", "path"]] = "/elsewhere"
        #expect(messages(s.validateUpdate(moved, old: pv))
                == ["spec.persistentvolumesource: Forbidden: spec.persistentvolumesource is immutable after creation"])
        var retained = pv
        retained[path: ["spec", "persistentVolumeReclaimPolicy"]] = "Delete"
        #expect(s.validateUpdate(retained, old: pv).isEmpty)

        var bound = pv
        bound[path: ["spec", "claimRef"]] = ["namespace": "ns", "name": "data"]
        bound["status"] = ["phase": "Bound"]
        bound[path: ["metadata", "deletionTimestamp"]] = "2026-01-01T00:30:00Z"
        #expect(s.tableCells(for: bound, now: now)[4...5] == ["Terminating", "ns/data"])
    }

    @Test func persistentVolumeClaim() {
        let s = PersistentVolumeClaimStrategy()
        let claim = prepared(s, ["metadata": ["name": "data", "namespace": "ns", "creationTimestamp": created],
                                 "spec": ["accessModes": ["ReadWriteOnce"], "resources": ["requests": ["storage": "1Gi"]],
                                          "storageClassName": "local-path"]])
        #expect(claim["status"] == ["phase": "Pending"] && claim[path: ["spec", "volumeMode"]] == "Filesystem")
        #expect(s.validate(claim).isEmpty)
        #expect(s.tableCells(for: claim, now: now) == ["data", "Pending", "", "", "", "local-path", "<unset>", "60m", "Filesystem"])
        #expect(messages(s.validate(["spec": ["resources": ["requests": ["storage": "0"]]]])) == [
            "spec.accessModes: Required value: at least 1 access mode is required",
            "spec.resources[storage]: Invalid value: \"0\": must be greater than zero",
        ])
        #expect(messages(s.validate(["spec": ["accessModes": ["ReadWriteOnce"]]])) == ["spec.resources[storage]: Required value"])

        // Binding may set volumeName; a pending claim's request is fixed; a bound one may grow.
        var binding = claim
        binding[path: ["spec", "volumeName"]] = "pv1"
        #expect(s.validateUpdate(binding, old: claim).isEmpty)
        var changedModes = claim
        changedModes[path: ["spec", "accessModes"]] = ["ReadWriteMany"]
        let immutable = "spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims"
        #expect(messages(s.validateUpdate(changedModes, old: claim)) == [immutable])
        var grown = claim
        grown[path: ["spec", "resources", "requests", "storage"]] = "2Gi"
        #expect(messages(s.validateUpdate(grown, old: claim)) == [immutable])
        var bound = binding
        bound["status"] = ["phase": "Bound", "capacity": ["storage": "1Gi"], "accessModes": ["ReadWriteOnce"]]
        var boundGrown = bound
        boundGrown[path: ["spec", "resources", "requests", "storage"]] = "2Gi"
        #expect(s.validateUpdate(boundGrown, old: bound).isEmpty)
        var shrunk = boundGrown
        shrunk[path: ["spec", "resources", "requests", "storage"]] = "512Mi"
        #expect(messages(s.validateUpdate(shrunk, old: boundGrown))
                == ["spec.resources.requests.storage: Forbidden: field can not be less than status.capacity"])
        #expect(s.tableCells(for: bound, now: now) == ["data", "Bound", "pv1", "1Gi", "RWO", "local-path", "<unset>", "60m", "Filesystem"])
    }

    @Test func storageClass() {
        let s = StorageClassStrategy()
        let sc = prepared(s, ["metadata": ["name": "fast", "creationTimestamp": created,
                                           "annotations": ["storageclass.kubernetes.io/is-default-class": "true"]],
                              "provisioner": "example.com/fast"])
        #expect(sc["reclaimPolicy"] == "Delete" && sc["volumeBindingMode"] == "Immediate")
        #expect(s.validate(sc).isEmpty)
        #expect(s.tableCells(for: sc, now: now) == ["fast (default)", "example.com/fast", "Delete", "Immediate", false, "60m"])
        #expect(messages(s.validate(["volumeBindingMode": "Later", "reclaimPolicy": "Recycle"])) == [
            "provisioner: Required value",
            "reclaimPolicy: Unsupported value: \"Recycle\": supported values: \"Delete\", \"Retain\"",
            "volumeBindingMode: Unsupported value: \"Later\": supported values: \"Immediate\", \"WaitForFirstConsumer\"",
        ])
        var changed = sc
        changed["provisioner"] = "example.com/slow"
        changed["parameters"] = ["type": "ssd"]
        changed["allowVolumeExpansion"] = true
        #expect(messages(s.validateUpdate(changed, old: sc)) == [
            "parameters: Forbidden: updates to parameters are forbidden.",
            "provisioner: Forbidden: updates to provisioner are forbidden.",
        ])
    }

    @Test func theNewestDefaultClassWins() {
        let older: JSONValue = ["metadata": ["name": "b", "creationTimestamp": "2026-01-01T00:00:00Z"]]
        let newer: JSONValue = ["metadata": ["name": "a", "creationTimestamp": "2026-01-02T00:00:00Z"]]
        #expect(DefaultStorageClassAdmission.newest([older, newer])?.name == "a")
        #expect(DefaultStorageClassAdmission.newest([]) == nil)
    }

    @Test func claimsCountAgainstQuotas() {
        let claim: JSONValue = ["spec": ["storageClassName": "gold", "resources": ["requests": ["storage": "5Gi"]]]]
        let used = ResourceQuotaUsage.usage(group: "", plural: "persistentvolumeclaims", object: claim)
        let fiveGi = Quantity.parse("5Gi")
        #expect(used["persistentvolumeclaims"] == Quantity(mantissa: 1))
        #expect(used["count/persistentvolumeclaims"] == Quantity(mantissa: 1))
        #expect(used["requests.storage"] == fiveGi)
        #expect(used["gold.storageclass.storage.k8s.io/requests.storage"] == fiveGi)
        #expect(used["gold.storageclass.storage.k8s.io/persistentvolumeclaims"] == Quantity(mantissa: 1))
        #expect(ResourceQuotaUsage.collection(for: "requests.storage")?.plural == "persistentvolumeclaims")
        #expect(ResourceQuotaUsage.collection(for: "requests.cpu")?.plural == "pods")
    }
}
