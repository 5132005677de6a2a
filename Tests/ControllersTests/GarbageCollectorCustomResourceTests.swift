import KubeTesting
import APIServer
import Foundation
import KubeClient
import KubeModel
import Testing
@testable import Controllers

/// The garbage collector with custom resources as owners and dependents: the real API server
/// in-process with a CustomResourceDefinition, the ControllerManager against it over HTTP.
@Suite(.serialized) struct GarbageCollectorCustomResourceTests {
    static let definitions = CustomObjectKey.definitionsPath
    static let widgets = ResourcePath(group: "gc.example.com", version: "v1", plural: "widgets", namespace: "default")
    static let configMaps = ResourcePath.core("configmaps", namespace: "default")

    @Test func customObjectKeysRoundTrip() throws {
        let key = CustomObjectKey(collection: Self.widgets, namespace: "default", name: "a")
        #expect(key.description == "~gc.example.com/v1/widgets|default/a")
        #expect(CustomObjectKey(parsing: key.description) == key)
        let cluster = CustomObjectKey(collection: ResourcePath(group: "x.io", version: "v2", plural: "things"), namespace: nil, name: "b")
        #expect(CustomObjectKey(parsing: cluster.description) == cluster)
        #expect(CustomObjectKey(parsing: "pods|default/a") == nil)
        #expect(CustomObjectKey(parsing: CustomObjectKey.sweep) == nil)
    }

    @Test func definitionsServeTheirStorageVersionOnceEstablished() {
        var crd: JSONValue = ["spec": ["group": "gc.example.com", "names": ["plural": "widgets"],
                                       "versions": [["name": "v1beta1", "served": true, "storage": false],
                                                    ["name": "v1", "served": true, "storage": true]]]]
        #expect(CustomObjectKey.collection(of: crd) == nil)
        crd["status"] = ["conditions": [["type": "Established", "status": "True"]]]
        #expect(CustomObjectKey.collection(of: crd) == ResourcePath(group: "gc.example.com", version: "v1", plural: "widgets"))
    }

    @Test(.timeLimit(.minutes(5))) func foregroundDeletionOfACustomOwnerWaitsForItsDependents() async throws {
        try await withControlPlane { client in
            _ = try await client.create(Self.definitions.path, Self.definition)
            let served = await eventually(timeout: .seconds(20)) {
                (try? await client.create(Self.widgets.path, Self.widget("parent"))) != nil
            }
            try #require(served)
            let parent = try await client.get(Self.widgets.named("parent").path)
            let ref: JSONValue = ["apiVersion": "gc.example.com/v1", "kind": "Widget", "name": "parent",
                                  "uid": .string(parent.uid ?? ""), "blockOwnerDeletion": true]
            // The ConfigMap's own finalizer keeps it terminating until the test lets it go.
            _ = try await client.create(Self.configMaps.path, [
                "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": ["name": "child", "ownerReferences": [ref], "finalizers": ["example.com/hold"]],
                "data": ["k": "v"],
            ])
            var child = Self.widget("child")
            child[path: ["metadata", "ownerReferences"]] = [ref]
            _ = try await client.create(Self.widgets.path, child)

            let answer = try await client.delete(Self.widgets.named("parent").path,
                                                 options: ["apiVersion": "v1", "kind": "DeleteOptions", "propagationPolicy": "Foreground"])
            #expect(answer.finalizers.contains("foregroundDeletion"))

            let dependentsGoing = await eventually(timeout: .seconds(30)) {
                let map = try? await client.get(Self.configMaps.named("child").path)
                let widget = try? await client.get(Self.widgets.named("child").path)
                return map?[path: ["metadata", "deletionTimestamp"]] != nil && widget == nil
            }
            try #require(dependentsGoing)
            // The ConfigMap still blocks: the owner waits with its finalizer.
            let waiting = try await client.get(Self.widgets.named("parent").path)
            #expect(waiting.finalizers == ["foregroundDeletion"] && waiting.uid == parent.uid)

            _ = try await client.patch(Self.configMaps.named("child").path, ["metadata": ["finalizers": .null]], type: .merge)
            let ownerGone = try await eventually(timeout: .seconds(30)) {
                do { _ = try await client.get(Self.widgets.named("parent").path); return false } catch let e as KubeAPIError where e.isNotFound {
                    return true
                }
            }
            #expect(ownerGone)
        }
    }

    @Test(.timeLimit(.minutes(5))) func customDependentsOfAGoneOwnerAreCollected() async throws {
        try await withControlPlane { client in
            _ = try await client.create(Self.definitions.path, Self.definition)
            var orphan = Self.widget("orphan")
            orphan[path: ["metadata", "ownerReferences"]] = [["apiVersion": "v1", "kind": "ConfigMap", "name": "gone",
                                                                "uid": .string(UUID().uuidString)]]
            let served = await eventually(timeout: .seconds(20)) { (try? await client.create(Self.widgets.path, orphan)) != nil }
            try #require(served)
            let collected = await eventually(timeout: .seconds(60)) {
                (try? await client.get(Self.widgets.named("orphan").path)) == nil
            }
            #expect(collected)
        }
    }

    static let definition: JSONValue = [
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": ["name": "widgets.gc.example.com"],
        "spec": [
            "group": "gc.example.com", "scope": "Namespaced",
            "names": ["plural": "widgets", "kind": "Widget"],
            "versions": [["name": "v1", "served": true, "storage": true,
                          "schema": ["openAPIV3Schema": ["type": "object", "x-kubernetes-preserve-unknown-fields": true]]]],
        ],
    ]

    static func widget(_ name: String) -> JSONValue {
        ["apiVersion": "gc.example.com/v1", "kind": "Widget", "metadata": ["name": .string(name)], "spec": ["size": 1]]
    }
}
