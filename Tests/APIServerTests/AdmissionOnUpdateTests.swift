import Foundation
import Testing
@testable import APIServer
import KubeModel

/// Records every admission request it sees.
struct RecordingAdmission: AdmissionPlugin {
    let name = "Recording"
    let seen = Locked<[(AdmissionRequest.Operation, String?, Bool, String)]>([])

    func admit(_ request: inout AdmissionRequest, registry: Registry) async throws(APIError) {
        seen.withLock { $0.append((request.operation, request.subresource, request.oldObject != nil, "admit")) }
    }

    func validate(_ request: inout AdmissionRequest, registry: Registry) async throws(APIError) {
        seen.withLock { $0.append((request.operation, request.subresource, request.oldObject != nil, "validate")) }
    }
}

/// Admission on update, patch and delete: the operation reaches every plugin, and each
/// plugin does what its Kubernetes counterpart does on an update.
@Suite struct AdmissionOnUpdateTests {
    typealias F = AdmissionFixture

    func patch(_ f: F, _ plural: String, _ ns: String?, _ name: String, _ patch: JSONValue,
               target: Registry.UpdateTarget = .main) async throws(APIError) -> WriteResult {
        let s: any ResourceStrategy
        do { s = try f.strategy(plural) } catch { throw APIError.internalError(plural) }
        return try await f.registry.patch(s, version: "v1", namespace: ns, name: name, patch: patch, type: .merge, target: target,
                                          options: WriteOptions())
    }

    func refusal(_ f: F, _ plural: String, _ ns: String?, _ name: String, _ p: JSONValue) async -> APIError? {
        do { _ = try await patch(f, plural, ns, name, p); return nil } catch { return error }
    }

    @Test func everyWriteCarriesItsOperation() async throws {
        let recorder = RecordingAdmission()
        let f = try F([recorder])
        try await f.namespace("ns")
        recorder.seen.withLock { $0.removeAll() }
        try await f.create("configmaps", "ns", ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "c"], "data": ["a": "1"]])
        let cms = try f.strategy("configmaps")
        _ = try await f.registry.update(cms, version: "v1", namespace: "ns", name: "c",
                                        body: ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "c"], "data": ["a": "2"]],
                                        target: .main, options: WriteOptions())
        _ = try await patch(f, "configmaps", "ns", "c", ["data": ["a": "3"]])
        _ = try await patch(f, "namespaces", nil, "ns", ["status": ["phase": "Active"]], target: .status)
        _ = try await f.registry.delete(cms, version: "v1", namespace: "ns", name: "c", options: DeleteOptions())
        let seen = recorder.seen.value.map { "\($0.0.rawValue) \($0.1 ?? "-") \($0.2) \($0.3)" }
        #expect(seen == [
            "CREATE - false admit", "CREATE - false validate",
            "UPDATE - true admit", "UPDATE - true validate",
            "UPDATE - true admit", "UPDATE - true validate",
            "UPDATE status true admit",
            "DELETE - true validate",
        ])
    }

    @Test func admissionRefusalOnUpdateChangesNothing() async throws {
        struct Refuse: AdmissionPlugin {
            let name = "Refuse"
            func validate(_ request: inout AdmissionRequest, registry: Registry) async throws(APIError) {
                if request.operation != .create { throw APIError.forbidden(request.resource, request.name, "no \(request.operation.rawValue)") }
            }
        }
        let f = try F([Refuse()])
        try await f.namespace("ns")
        try await f.create("configmaps", "ns", ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "c"], "data": ["a": "1"]])
        let e = await refusal(f, "configmaps", "ns", "c", ["data": ["a": "2"]])
        #expect(e?.code == 403 && e?.message.contains("no UPDATE") == true)
        let cms = try f.strategy("configmaps")
        await #expect(throws: APIError.self) {
            _ = try await f.registry.delete(cms, version: "v1", namespace: "ns", name: "c", options: DeleteOptions())
        }
        let stored = try await f.registry.get(cms, version: "v1", namespace: "ns", name: "c")
        #expect(stored["data"] == ["a": "1"])
    }

    @Test func resourceQuotaChargesWhatAnUpdateAdds() async throws {
        let f = try F([ResourceQuotaAdmission()])
        try await f.namespace("ns")
        try await f.create("resourcequotas", "ns", ["apiVersion": "v1", "kind": "ResourceQuota", "metadata": ["name": "q"],
                                                    "spec": ["hard": ["services.nodeports": "1", "services": "5"]]])
        func svc(_ name: String, _ type: String) -> JSONValue {
            ["apiVersion": "v1", "kind": "Service", "metadata": ["name": .string(name)],
             "spec": ["type": .string(type), "ports": [["port": 80]]]]
        }
        try await f.create("services", "ns", svc("np", "NodePort"))
        try await f.create("services", "ns", svc("plain", "ClusterIP"))
        // Turning a second Service into a NodePort one takes a port the quota does not have.
        let e = await refusal(f, "services", "ns", "plain", ["spec": ["type": "NodePort"]])
        #expect(e?.code == 403)
        #expect(e?.message.contains("exceeded quota: q, requested: services.nodeports=1, used: services.nodeports=1, limited: services.nodeports=1") == true)
        // An update that adds nothing passes, even when the namespace is at its limit.
        _ = try await patch(f, "services", "ns", "np", ["metadata": ["labels": ["a": "b"]]])
        _ = try await patch(f, "services", "ns", "plain", ["metadata": ["labels": ["a": "b"]]])
        // Freeing the port first makes room.
        _ = try await patch(f, "services", "ns", "np", ["spec": ["type": "ClusterIP", "ports": [["port": 80]]]])
        _ = try await patch(f, "services", "ns", "plain", ["spec": ["type": "NodePort"]])
    }

    @Test func quotaGrowthIsTheDifference() {
        let g = ResourceQuotaAdmission.growth(["a": Quantity(mantissa: 3), "b": Quantity(mantissa: 1), "c": Quantity(mantissa: 5)],
                                              from: ["a": Quantity(mantissa: 1), "b": Quantity(mantissa: 2)])
        #expect(g == ["a": Quantity(mantissa: 2), "c": Quantity(mantissa: 5)])
    }

    @Test func podSecurityJudgesOnlyUpdatesOfWhatItChecks() async throws {
        let f = try F([PodSecurityAdmission()])
        try await f.namespace("ns")
        // Admitted while the namespace was privileged, then the namespace is locked down.
        try await f.create("pods", "ns", F.pod("host", spec: ["hostNetwork": true]))
        _ = try await patch(f, "namespaces", nil, "ns", ["metadata": ["labels": ["pod-security.kubernetes.io/enforce": "baseline"]]])
        // Labels are not the policy's concern: the update passes.
        let labelled = try await patch(f, "pods", "ns", "host", ["metadata": ["labels": ["tier": "web"]]])
        #expect(labelled.object[path: ["metadata", "labels", "tier"]] == "web")
        // A new image is judged as a create would be.
        let e = await refusal(f, "pods", "ns", "host", ["spec": ["containers": [["name": "c", "image": "busybox:2"]]]])
        #expect(e?.code == 403 && e?.message.contains("violates PodSecurity \"baseline:latest\": host namespaces (hostNetwork=true)") == true)
        // Status writes are never judged.
        _ = try await patch(f, "pods", "ns", "host", ["status": ["phase": "Running"]], target: .status)
        // A workload's template change is warned about, not refused.
        let d = try f.strategy("deployments", group: "apps")
        let dep: JSONValue = [
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "d"],
            "spec": ["selector": ["matchLabels": ["app": "d"]],
                     "template": ["metadata": ["labels": ["app": "d"]], "spec": ["containers": [["name": "c", "image": "x"]]]]],
        ]
        _ = try await f.registry.create(d, version: "v1", namespace: "ns", body: dep, options: WriteOptions())
        let scaled = try await f.registry.patch(d, version: "v1", namespace: "ns", name: "d", patch: ["spec": ["replicas": 3]],
                                                type: .merge, target: .main, options: WriteOptions())
        #expect(scaled.warnings.isEmpty)
        let hostTemplate = try await f.registry.patch(d, version: "v1", namespace: "ns", name: "d",
                                                      patch: ["spec": ["template": ["spec": ["hostNetwork": true]]]],
                                                      type: .merge, target: .main, options: WriteOptions())
        #expect(hostTemplate.warnings.contains { $0.contains("would violate PodSecurity \"baseline:latest\"") })
    }

    @Test func limitRangerLeavesPodUpdatesAlone() async throws {
        let f = try F([LimitRanger()])
        try await f.namespace("ns")
        let big = F.pod("big", containers: [["name": "c", "image": "x", "resources": ["limits": ["cpu": "2"]]]])
        try await f.create("pods", "ns", big)
        try await f.create("limitranges", "ns", ["apiVersion": "v1", "kind": "LimitRange", "metadata": ["name": "l"],
                                                 "spec": ["limits": [["type": "Container", "max": ["cpu": "1"],
                                                                      "default": ["memory": "64Mi"]]]]])
        // A new pod like it is refused ...
        let refused = await f.refusal("pods", "ns", F.pod("big2", containers: [["name": "c", "image": "x", "resources": ["limits": ["cpu": "2"]]]]))
        #expect(refused?.code == 403)
        // ... but the existing one can still be labelled, and gets no defaults.
        let r = try await patch(f, "pods", "ns", "big", ["metadata": ["labels": ["a": "b"]]])
        #expect(r.object[path: ["metadata", "annotations", "kubernetes.io/limit-ranger"]] == nil)
        #expect(r.object[path: ["spec", "containers"]]?.arrayValue?.first?[path: ["resources", "limits", "memory"]] == nil)
    }

    @Test func serviceAccountAdmissionIsCreateOnly() async throws {
        let f = try F([ServiceAccountAdmission(caCertificatePath: nil)])
        try await f.namespace("ns")
        try await f.create("serviceaccounts", "ns", ["apiVersion": "v1", "kind": "ServiceAccount", "metadata": ["name": "robot"]])
        try await f.create("pods", "ns", F.pod("p", spec: ["serviceAccountName": "robot"]))
        // Deleting the account does not make the running pod's other updates fail.
        let sa = try f.strategy("serviceaccounts")
        _ = try await f.registry.delete(sa, version: "v1", namespace: "ns", name: "robot", options: DeleteOptions())
        let r = try await patch(f, "pods", "ns", "p", ["metadata": ["labels": ["a": "b"]]])
        #expect(r.object[path: ["spec", "serviceAccountName"]] == "robot")
    }
}
