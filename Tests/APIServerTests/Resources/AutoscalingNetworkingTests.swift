import Foundation
import Testing
@testable import APIServer
import KubeModel

@Suite struct AutoscalingTests {
    let s = HorizontalPodAutoscalerStrategy()

    var v2: JSONValue {
        [
            "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": ["name": "web", "namespace": "default", "annotations": ["keep": "me"]],
            "spec": [
                "scaleTargetRef": ["apiVersion": "apps/v1", "kind": "Deployment", "name": "web"],
                "minReplicas": 2, "maxReplicas": 10,
                "metrics": [
                    ["type": "Resource", "resource": ["name": "cpu", "target": ["type": "Utilization", "averageUtilization": 60]]],
                    ["type": "Pods", "pods": ["metric": ["name": "qps"], "target": ["type": "AverageValue", "averageValue": "100"]]],
                ],
                "behavior": ["scaleDown": ["stabilizationWindowSeconds": 300]],
            ],
            "status": [
                "currentReplicas": 3, "desiredReplicas": 3,
                "currentMetrics": [
                    ["type": "Resource", "resource": ["name": "cpu", "current": ["averageUtilization": 45, "averageValue": "120m"]]],
                    ["type": "Pods", "pods": ["metric": ["name": "qps"], "current": ["averageValue": "80"]]],
                ],
                "conditions": [["type": "AbleToScale", "status": "True", "reason": "ReadyForNewScale"]],
            ],
        ]
    }

    @Test func definition() {
        #expect(s.definition.versions == ["v2", "v1"])
        #expect(s.definition.storageVersion == "v2")
        #expect(s.definition.schemaNames["v1"] == "io.k8s.api.autoscaling.v1.HorizontalPodAutoscaler")
    }

    @Test func roundTripV2ThroughV1() throws {
        let v1 = try s.convert(v2, toVersion: "v1")
        #expect(v1.apiVersion == "autoscaling/v1")
        #expect(v1[path: ["spec", "targetCPUUtilizationPercentage"]] == 60)
        #expect(v1[path: ["spec", "metrics"]] == nil)
        #expect(v1[path: ["status", "currentCPUUtilizationPercentage"]] == 45)
        let ann = v1.annotations
        #expect(ann["keep"] == "me")
        #expect(ann[HorizontalPodAutoscalerStrategy.metricsAnnotation] == #"[{"pods":{"metricName":"qps","targetAverageValue":"100"},"type":"Pods"}]"#)
        #expect(ann[HorizontalPodAutoscalerStrategy.conditionsAnnotation] != nil)
        #expect(ann[HorizontalPodAutoscalerStrategy.behaviorAnnotation] != nil)

        let back = try s.convertToStorage(v1, fromVersion: "v1")
        #expect(back.apiVersion == "autoscaling/v2")
        #expect(back.annotations == ["keep": "me"])
        // v1 puts the CPU target last, as Kubernetes does.
        let metrics = v2[path: ["spec", "metrics"]]?.arrayValue ?? []
        #expect(back[path: ["spec", "metrics"]] == .array([metrics[1], metrics[0]]))
        #expect(back[path: ["spec", "behavior"]] == v2[path: ["spec", "behavior"]])
        #expect(back["status"] == v2["status"])
        #expect(back[path: ["spec", "scaleTargetRef"]] == v2[path: ["spec", "scaleTargetRef"]])
    }

    @Test func v1WithoutTargetGetsDefaultCPU() throws {
        let v1: JSONValue = ["apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler", "metadata": ["name": "h"],
                             "spec": ["scaleTargetRef": ["kind": "Deployment", "name": "web"], "maxReplicas": 3]]
        let stored = try s.convertToStorage(v1, fromVersion: "v1")
        #expect(stored[path: ["spec", "metrics"]] == [HorizontalPodAutoscalerStrategy.defaultCPUUtilization])
        let again = try s.convert(stored, toVersion: "v1")
        #expect(again[path: ["spec", "targetCPUUtilizationPercentage"]] == 80)
        #expect(again.annotations.isEmpty)
    }

    @Test func defaultsAndValidation() {
        var o: JSONValue = ["apiVersion": "autoscaling/v2", "metadata": ["name": "h"],
                            "spec": ["scaleTargetRef": ["kind": "Deployment", "name": "web"], "maxReplicas": 3, "behavior": [:]]]
        s.applyDefaults(to: &o)
        #expect(o[path: ["spec", "minReplicas"]] == 1)
        #expect(o[path: ["spec", "metrics"]] == [HorizontalPodAutoscalerStrategy.defaultCPUUtilization])
        #expect(o[path: ["spec", "behavior", "scaleUp", "policies"]]?.arrayValue?.count == 2)
        #expect(o[path: ["spec", "behavior", "scaleDown", "selectPolicy"]] == "Max")
        #expect(o[path: ["spec", "behavior", "scaleDown", "stabilizationWindowSeconds"]] == nil)
        #expect(s.validate(o).isEmpty)
        var bad = o
        bad[path: ["spec", "minReplicas"]] = 5
        bad[path: ["spec", "scaleTargetRef", "name"]] = ""
        #expect(Set(s.validate(bad).map(\.field)) == ["spec.maxReplicas", "spec.scaleTargetRef.name"])
    }

    @Test func table() {
        var o = v2
        o[path: ["metadata", "creationTimestamp"]] = "2026-01-01T00:00:00Z"
        let cells = s.tableCells(for: o, now: Date(timeIntervalSince1970: 1_767_225_600 + 30))
        #expect(cells == ["web", "Deployment/web", "cpu: 45%/60%, 80/100", "2", 10, 3, "30s"])
        var fresh = o
        fresh["status"] = nil
        #expect(s.tableCells(for: fresh, now: Date())[2] == "cpu: <unknown>/60%, <unknown>/100")
    }
}

@Suite struct NetworkingTests {
    @Test func networkPolicy() {
        let s = NetworkPolicyStrategy()
        var o: JSONValue = ["metadata": ["name": "deny"], "spec": ["podSelector": ["matchLabels": ["app": "db"]],
                                                                   "ingress": [["ports": [["port": 5432]]]]]]
        s.applyDefaults(to: &o)
        #expect(o[path: ["spec", "policyTypes"]] == ["Ingress"])
        #expect(o[path: ["spec", "ingress"]]?.arrayValue?.first?["ports"] == [["port": 5432, "protocol": "TCP"]])
        #expect(s.validate(o).isEmpty)
        var egress: JSONValue = ["metadata": ["name": "e"], "spec": ["egress": [["to": [["ipBlock": ["cidr": "10.0.0.0/8"]]]]]]]
        s.applyDefaults(to: &egress)
        #expect(egress[path: ["spec", "policyTypes"]] == ["Ingress", "Egress"])
        #expect(s.tableCells(for: egress, now: Date())[1] == "<none>")
        #expect(s.tableCells(for: o, now: Date())[1] == "app=db")
        egress[path: ["spec", "egress"]] = [["to": [["ipBlock": ["cidr": "10.0.0.0"]]]]]
        #expect(s.validate(egress).map(\.field) == ["spec.egress[0].to[0].ipBlock.cidr"])
        #expect(s.definition.shortNames == ["netpol"] && s.definition.group == "networking.k8s.io")
    }

    @Test func lease() {
        let s = LeaseStrategy()
        let o: JSONValue = ["metadata": ["name": "n1"], "spec": ["holderIdentity": "n1", "leaseDurationSeconds": 40]]
        #expect(s.validate(o).isEmpty)
        #expect(s.tableCells(for: o, now: Date())[1] == "n1")
        #expect(s.validate(["spec": ["leaseDurationSeconds": 0]]).map(\.field) == ["spec.leaseDurationSeconds"])
    }

    @Test func endpointSlice() {
        let s = EndpointSliceStrategy()
        var o: JSONValue = ["metadata": ["name": "web-abc"], "addressType": "IPv4",
                            "endpoints": [["addresses": ["10.0.0.1"]], ["addresses": ["10.0.0.2"]]], "ports": [["port": 80]]]
        s.applyDefaults(to: &o)
        #expect(o["ports"] == [["port": 80, "protocol": "TCP", "name": ""]])
        #expect(s.validate(o).isEmpty)
        #expect(s.tableCells(for: o, now: Date())[1...3] == ["IPv4", "80", "10.0.0.1,10.0.0.2"])
        #expect(s.validate(["addressType": "IPv5"]).map(\.field) == ["addressType"])
        #expect(s.validate(["addressType": "IPv4", "endpoints": [["addresses": ["fe80::1"]]]]).map(\.field) == ["endpoints[0].addresses[0]"])
        #expect(s.validate(["addressType": "IPv4", "endpoints": [["addresses": []]]]).map(\.field) == ["endpoints[0].addresses"])
        var changed = o
        changed["addressType"] = "IPv6"
        changed["endpoints"] = [["addresses": ["fe80::1"]]]
        #expect(s.validateUpdate(changed, old: o).map(\.field) == ["addressType"])
    }

    @Test func builtinsAreComplete() {
        let kinds = BuiltinResources.all.map(\.definition.kind)
        #expect(Set(kinds) == ["Namespace", "Pod", "Service", "Endpoints", "Secret", "ConfigMap", "ServiceAccount", "Node", "Event",
                               "Deployment", "ReplicaSet", "HorizontalPodAutoscaler", "NetworkPolicy", "Lease", "EndpointSlice",
                               "Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding", "SelfSubjectAccessReview", "SubjectAccessReview",
                               "SelfSubjectRulesReview", "CertificateSigningRequest", "LimitRange", "ResourceQuota", "PodDisruptionBudget",
                               "Job", "CronJob", "CustomResourceDefinition", "DaemonSet", "StatefulSet", "ControllerRevision",
                               "ReplicationController", "PersistentVolume", "PersistentVolumeClaim", "StorageClass",
                               "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding", "ValidatingWebhookConfiguration",
                               "MutatingWebhookConfiguration", "APIService", "PriorityClass"])
        #expect(kinds.count == Set(kinds).count)
        for s in BuiltinResources.all {
            #expect(s.tableColumns.count == s.tableCells(for: ["metadata": ["name": "x"]], now: Date()).count, "\(s.definition.kind)")
            for v in s.definition.versions { #expect(s.definition.schemaNames[v] != nil, "\(s.definition.kind) \(v)") }
            // What discovery advertises is what the kind serves.
            let served = Set(s.subresourceHandlers.map(\.subresource))
            #expect(served == s.definition.subresources, "\(s.definition.kind)")
        }
    }
}
