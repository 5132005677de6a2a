import Foundation
import Testing
@testable import APIServer
import KubeModel

@Suite struct ServerSideApplyTests {
    let registry: Registry
    let deployments: any ResourceStrategy

    init() async throws {
        (registry, deployments) = try await RegistryFixture.open(try SQLiteStore(path: nil, historySize: 1000), group: "apps", plural: "deployments")
    }

    func config(replicas: Int64? = 2, image: String = "nginx:1.27", labels: JSONValue = ["app": "web"], sidecar: Bool = false) -> JSONValue {
        var containers: [JSONValue] = [["name": "web", "image": .string(image)]]
        if sidecar { containers.append(["name": "sidecar", "image": "busybox"]) }
        var spec: JSONValue = ["selector": ["matchLabels": ["app": "web"]],
                               "template": ["metadata": ["labels": ["app": "web"]], "spec": ["containers": .array(containers)]]]
        if let replicas { spec["replicas"] = .int(replicas) }
        return ["apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "web", "labels": labels], "spec": spec]
    }

    @discardableResult
    func apply(_ body: JSONValue, manager: String = "kubectl", force: Bool = false) async throws(APIError) -> WriteResult {
        try await registry.apply(deployments, version: "v1", namespace: "default", name: "web", config: body, target: .main,
                                 force: force, manager: manager, options: WriteOptions())
    }

    func managers(_ o: JSONValue) -> [String: FieldSet] {
        var out: [String: FieldSet] = [:]
        for e in ManagedFields.of(o).entries { out["\(e.manager)/\(e.operation.rawValue)"] = e.fields }
        return out
    }

    static let replicasPath = FieldPath([.field("spec"), .field("replicas")])
    static func containerPath(_ name: String) -> FieldPath {
        FieldPath([.field("spec"), .field("template"), .field("spec"), .field("containers"), .key(.object(["name": .string(name)]))])
    }

    @Test func applyCreatesAndReapplyIsNoOp() async throws {
        let created = try await apply(config())
        #expect(created.code == 201)
        #expect(created.object[path: ["spec", "replicas"]] == 2)
        #expect(managers(created.object)["kubectl/Apply"]?.contains(Self.replicasPath) == true)
        let again = try await apply(config())
        #expect(again.code == 200)
        #expect(again.object.resourceVersion == created.object.resourceVersion)
        #expect(again.object[path: ["metadata", "managedFields"]] == created.object[path: ["metadata", "managedFields"]])
    }

    @Test func droppingAFieldRemovesIt() async throws {
        try await apply(config(labels: ["app": "web", "tier": "front"]))
        let r = try await apply(config(replicas: nil, labels: ["app": "web"]))
        #expect(r.object[path: ["metadata", "labels"]] == ["app": "web"])
        // Defaulting puts replicas back to 1: the applier no longer owns it.
        #expect(r.object[path: ["spec", "replicas"]] == 1)
        #expect(managers(r.object)["kubectl/Apply"]?.contains(Self.replicasPath) == false)
    }

    @Test func twoManagersCoexist() async throws {
        try await apply(config())
        let r = try await apply(["apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "web", "annotations": ["team": "a"]]],
                                manager: "other")
        #expect(r.object[path: ["metadata", "annotations", "team"]] == "a")
        #expect(r.object[path: ["spec", "replicas"]] == 2)
        let m = managers(r.object)
        #expect(m.keys.sorted() == ["kubectl/Apply", "other/Apply"])
        // Applying the same value as another manager shares the field without conflict.
        let shared = try await apply(["apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "web"], "spec": ["replicas": 2]],
                                     manager: "other")
        #expect(managers(shared.object)["other/Apply"]?.contains(Self.replicasPath) == true)
        #expect(managers(shared.object)["kubectl/Apply"]?.contains(Self.replicasPath) == true)
    }

    @Test func conflictThenForce() async throws {
        try await apply(config())
        do {
            try await apply(config(replicas: 5), manager: "helm")
            Issue.record("expected a conflict")
        } catch {
            #expect(error.code == 409 && error.reason == "Conflict")
            #expect(error.message == #"Apply failed with 1 conflict: conflict with "kubectl": .spec.replicas"#)
            let cause = error.details?["causes"]?.arrayValue?.first
            #expect(cause?["reason"] == "FieldManagerConflict" && cause?["field"] == ".spec.replicas")
        }
        let r = try await apply(config(replicas: 5), manager: "helm", force: true)
        #expect(r.object[path: ["spec", "replicas"]] == 5)
        let m = managers(r.object)
        #expect(m["helm/Apply"]?.contains(Self.replicasPath) == true)
        #expect(m["kubectl/Apply"]?.contains(Self.replicasPath) == false)
        #expect(m["kubectl/Apply"]?.contains(Self.containerPath("web")) == true)  // shared, unchanged value
    }

    @Test func clientSideUpdateTakesOwnership() async throws {
        try await apply(config())
        let patched = try await registry.patch(deployments, version: "v1", namespace: "default", name: "web", patch: ["spec": ["replicas": 3]],
                                               type: .merge, target: .main, options: WriteOptions(fieldManager: "kubectl-edit"))
        let m = managers(patched.object)
        #expect(m["kubectl-edit/Update"]?.paths == [Self.replicasPath])
        #expect(m["kubectl/Apply"]?.contains(Self.replicasPath) == false)
        do {
            try await apply(config(replicas: 2))
            Issue.record("expected a conflict")
        } catch {
            #expect(error.code == 409)
            #expect(error.message.contains(#"conflict with "kubectl-edit" using apps/v1: .spec.replicas"#))
        }
        // Re-applying without replicas leaves the editor's value alone.
        let r = try await apply(config(replicas: nil))
        #expect(r.object[path: ["spec", "replicas"]] == 3)
    }

    @Test func listMapItemsOwnedSeparately() async throws {
        try await apply(config())
        let r = try await apply(["apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "web"],
                                 "spec": ["template": ["spec": ["containers": [["name": "sidecar", "image": "busybox"]]]]]], manager: "injector")
        let names = r.object[path: ["spec", "template", "spec", "containers"]]?.arrayValue?.compactMap { $0["name"]?.stringValue }
        #expect(names == ["web", "sidecar"])
        let m = managers(r.object)
        #expect(m["injector/Apply"]?.contains(Self.containerPath("sidecar")) == true)
        #expect(m["kubectl/Apply"]?.contains(Self.containerPath("sidecar")) == false)
        // The first applier changing its own container conflicts with no one.
        let updated = try await apply(config(image: "nginx:1.28"))
        #expect(updated.object[path: ["spec", "template", "spec", "containers"]]?.arrayValue?.count == 2)
        // The injector dropping its item removes it.
        let dropped = try await apply(["apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "web"]], manager: "injector")
        #expect(dropped.object[path: ["spec", "template", "spec", "containers"]]?.arrayValue?.count == 1)
        #expect(managers(dropped.object)["injector/Apply"] == nil)
    }

    @Test func createAndUpdateRecordManagers() async throws {
        var body = config()
        body[path: ["metadata", "namespace"]] = "default"
        let created = try await registry.create(deployments, version: "v1", namespace: "default", body: body,
                                                options: WriteOptions(fieldManager: "kubectl-create"))
        let m = managers(created.object)
        #expect(m["kubectl-create/Update"]?.contains(Self.replicasPath) == true)
        // Defaults count as the creator's, as in kube (defaulting happens before the fieldmanager there).
        #expect(m["kubectl-create/Update"]?.contains(FieldPath([.field("spec"), .field("revisionHistoryLimit")])) == true)
        #expect(ManagedFields.of(created.object).entries.allSatisfy { !$0.fields.isEmpty && !$0.fields.isMember })
        // A PUT with managedFields [{}] resets them.
        var reset = created.object
        reset[path: ["metadata", "managedFields"]] = [[:]]
        let r = try await registry.update(deployments, version: "v1", namespace: "default", name: "web", body: reset, target: .main,
                                          options: WriteOptions(fieldManager: "x"))
        #expect(r.object[path: ["metadata", "managedFields"]] == nil)
    }

    @Test func statusApplyOwnsOnlyStatus() async throws {
        try await apply(config())
        let r = try await registry.apply(deployments, version: "v1", namespace: "default", name: "web",
                                         config: ["apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "web"],
                                                  "spec": ["replicas": 9], "status": ["replicas": 1]],
                                         target: .status, force: false, manager: "controller", options: WriteOptions())
        #expect(r.object[path: ["status", "replicas"]] == 1)
        #expect(r.object[path: ["spec", "replicas"]] == 2)
        let entry = ManagedFields.of(r.object).entries.first { $0.manager == "controller" }
        #expect(entry?.subresource == "status")
        #expect(entry?.fields.paths == [FieldPath([.field("status"), .field("replicas")])])
    }

    @Test func applyRequiresManagerAndNoManagedFields() async throws {
        await #expect(throws: APIError.self) { try await apply(config(), manager: "") }
        var bad = config()
        bad[path: ["metadata", "managedFields"]] = [["manager": "x"]]
        await #expect(throws: APIError.self) { try await apply(bad) }
        // Dry run creates nothing.
        let dry = try await registry.apply(deployments, version: "v1", namespace: "default", name: "web", config: config(), target: .main,
                                           force: false, manager: "kubectl", options: WriteOptions(dryRun: true))
        #expect(dry.code == 201)
        await #expect(throws: APIError.self) { try await registry.get(deployments, version: "v1", namespace: "default", name: "web") }
    }
}
