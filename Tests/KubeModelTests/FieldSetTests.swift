import Testing
import KubeModel

@Suite struct FieldSetTests {
    let deployment = "io.k8s.api.apps.v1.Deployment"

    func config(image: String = "nginx:1.27", replicas: JSONValue? = 2, extraContainer: Bool = false) -> JSONValue {
        var containers: [JSONValue] = [["name": "web", "image": .string(image), "ports": [["containerPort": 80]]]]
        if extraContainer { containers.append(["name": "sidecar", "image": "busybox"]) }
        var spec: JSONValue = ["selector": ["matchLabels": ["app": "web"]],
                               "template": ["metadata": ["labels": ["app": "web"]], "spec": ["containers": .array(containers)]]]
        if let replicas { spec["replicas"] = replicas }
        return ["apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "web", "labels": ["app": "web"]], "spec": spec]
    }

    @Test func pathElementsRoundTrip() {
        let elements: [PathElement] = [.field("spec"), .key(["name": "web"]), .value("a"), .index(3), .key(["containerPort": 80, "protocol": "TCP"])]
        for e in elements { #expect(PathElement(fieldsV1Key: e.fieldsV1Key) == e) }
        #expect(PathElement.key(["containerPort": 80, "protocol": "TCP"]).fieldsV1Key == #"k:{"containerPort":80,"protocol":"TCP"}"#)
        #expect(PathElement(fieldsV1Key: "x:1") == nil)
        #expect(PathElement(fieldsV1Key: "k:notjson") == nil)
        #expect(FieldPath([.field("spec"), .field("containers"), .key(["name": "web"]), .field("image")]).description
                == #".spec.containers[name="web"].image"#)
    }

    @Test func fieldSetFromConfiguration() {
        let s = FieldSets.of(config(), typeName: deployment)
        let containers: [PathElement] = [.field("spec"), .field("template"), .field("spec"), .field("containers")]
        #expect(s.contains(FieldPath([.field("spec"), .field("replicas")])))
        #expect(s.contains(FieldPath([.field("spec"), .field("selector")])))  // atomic: owned whole
        #expect(!s.contains(FieldPath([.field("spec"), .field("selector"), .field("matchLabels")])))
        #expect(s.contains(FieldPath(containers + [.key(["name": "web"])])))
        #expect(s.contains(FieldPath(containers + [.key(["name": "web"]), .field("image")])))
        // The ports key gets the protocol default so it matches the defaulted live item.
        #expect(s.contains(FieldPath(containers + [.key(["name": "web"]), .field("ports"), .key(["containerPort": 80, "protocol": "TCP"])])))
        #expect(s.contains(FieldPath([.field("metadata"), .field("labels"), .field("app")])))
        #expect(!s.contains(FieldPath([.field("metadata"), .field("labels")])))
        let stripped = FieldSets.strippingServerOwned(s)
        #expect(!stripped.contains(FieldPath([.field("metadata"), .field("name")])))
        #expect(!stripped.contains(FieldPath([.field("kind")])))
    }

    @Test func fieldsV1RoundTrip() throws {
        let s = FieldSets.strippingServerOwned(FieldSets.of(config(extraContainer: true), typeName: deployment))
        let json = s.fieldsV1
        #expect(json[path: ["f:spec", "f:template", "f:spec", "f:containers", #"k:{"name":"web"}"#, "."]] == .object([:]))
        #expect(json[path: ["f:spec", "f:replicas"]] == .object([:]))
        #expect(try FieldSet(fieldsV1: json) == s)
        #expect(throws: FieldsV1Error.self) { try FieldSet(fieldsV1: ["bad": [:]]) }
    }

    @Test func setOperations() {
        let a = FieldSet(paths: [FieldPath([.field("a")]), FieldPath([.field("b"), .field("c")])])
        let b = FieldSet(paths: [FieldPath([.field("b"), .field("c")]), FieldPath([.field("d")])])
        #expect(a.union(b).paths.count == 3)
        #expect(a.intersection(b).paths == [FieldPath([.field("b"), .field("c")])])
        #expect(a.subtracting(b).paths == [FieldPath([.field("a")])])
        #expect(a.subtracting(a).isEmpty)
        var c = a
        c.removeSubtree([.field("b")])
        #expect(c.paths == [FieldPath([.field("a")])])
        #expect(a.onlySubtree([.field("b")]).paths == [FieldPath([.field("b"), .field("c")])])
    }

    @Test func compareFindsChangedAndRemoved() {
        let old = config(), new = config(image: "nginx:1.28", replicas: nil)
        let (changed, removed) = FieldSets.compare(old, new, typeName: deployment)
        let image = FieldPath([.field("spec"), .field("template"), .field("spec"), .field("containers"), .key(["name": "web"]), .field("image")])
        #expect(changed.paths == [image])
        #expect(removed.paths == [FieldPath([.field("spec"), .field("replicas")])])
        let added = FieldSets.compare(old, config(extraContainer: true), typeName: deployment).changed
        #expect(added.paths.count == 3)  // the sidecar item, its name and image
    }

    @Test func mergeAndRemove() {
        var live = config(extraContainer: true)
        live[path: ["spec", "template", "spec", "containers"]] = [
            ["name": "web", "image": "nginx:1.27", "imagePullPolicy": "Always", "ports": [["containerPort": 80, "protocol": "TCP"]]],
            ["name": "sidecar", "image": "busybox"],
        ]
        let merged = ApplyMerge.merge(config(image: "nginx:1.28"), into: live, typeName: deployment)
        let containers = merged[path: ["spec", "template", "spec", "containers"]]?.arrayValue ?? []
        #expect(containers.count == 2)
        #expect(containers.first?["image"] == "nginx:1.28")
        #expect(containers.first?["imagePullPolicy"] == "Always")  // fields the config leaves out stay
        #expect(containers.first?["ports"]?.arrayValue?.count == 1)  // matched by key with the protocol default
        let sidecar = FieldSet(paths: [FieldPath([.field("spec"), .field("template"), .field("spec"), .field("containers"), .key(["name": "sidecar"])])])
        let removed = ApplyMerge.removing(sidecar.union(FieldSet(paths: [FieldPath([.field("spec"), .field("replicas")])])), from: merged, typeName: deployment)
        #expect(removed[path: ["spec", "template", "spec", "containers"]]?.arrayValue?.count == 1)
        #expect(removed[path: ["spec", "replicas"]] == nil)
        let finalizers = ApplyMerge.merge(["metadata": ["finalizers": ["b", "a"]]], into: ["metadata": ["finalizers": ["a", "c"]]],
                                          typeName: deployment)
        #expect(finalizers[path: ["metadata", "finalizers"]] == ["a", "c", "b"])  // a set: union
    }

    @Test func managedFieldsEntries() throws {
        var m = ManagedFields()
        let s = FieldSet(paths: [FieldPath([.field("spec"), .field("replicas")])])
        m.set(manager: "a", operation: .apply, subresource: nil, fields: s, apiVersion: "apps/v1", time: "t1")
        m.set(manager: "a", operation: .apply, subresource: nil, fields: s, apiVersion: "apps/v1", time: "t2")
        #expect(m.entries.first?.time == "t1")  // unchanged fields keep the time
        m.set(manager: "b", operation: .update, subresource: "status", fields: s, apiVersion: "apps/v1", time: "t3")
        let decoded = try ManagedFields(json: m.json)
        #expect(Set(decoded.entries) == Set(m.entries))
        m.remove(s, exceptManager: "b", operation: .update, subresource: "status")
        #expect(m.entries.map(\.manager) == ["b"])
        #expect(ManagedFields.isReset([[:]]) && !ManagedFields.isReset([]))
        #expect(throws: FieldsV1Error.self) { try ManagedFields(json: [["operation": "Bogus"]]) }
    }
}
