import Foundation
import Testing
@testable import KubeModel

@Suite struct ThreeWayMergePatchTests {
    private func parse(_ s: String) throws -> JSONValue { try JSONParser.parse(Array(s.utf8)) }

    private let deploymentType = "io.k8s.api.apps.v1.Deployment"

    private let config = """
        {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","labels":{"app":"web"}},
         "spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},
          "template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"app","image":"demo:1"}]}}}}
        """

    /// The live object: the config plus what the server defaulted and reported.
    private let live = """
        {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","labels":{"app":"web"},"uid":"u","resourceVersion":"7"},
         "spec":{"replicas":2,"progressDeadlineSeconds":600,"selector":{"matchLabels":{"app":"web"}},
          "template":{"metadata":{"labels":{"app":"web"}},"spec":{"restartPolicy":"Always",
            "containers":[{"name":"app","image":"demo:1","imagePullPolicy":"IfNotPresent"}]}}},
         "status":{"replicas":2}}
        """

    @Test func sameConfigAgainstDefaultedLiveObjectIsEmpty() throws {
        let patch = ThreeWayMergePatch.create(original: try parse(config), modified: try parse(config),
                                              current: try parse(live), typeName: deploymentType)
        #expect(patch == .object([:]))
    }

    @Test func changedImageAndDroppedLabelPatchOnlyThoseFields() throws {
        var modified = try parse(config)
        modified = JSONPatchHelper.set(modified, ["metadata", "labels"], .object([:]))
        let text = JSONWriter.string(modified).replacingOccurrences(of: "demo:1", with: "demo:2")
        let patch = ThreeWayMergePatch.create(original: try parse(config), modified: try parse(text),
                                              current: try parse(live), typeName: deploymentType)
        #expect(patch["metadata"]?["labels"]?["app"] == .null)
        let containers = patch["spec"]?["template"]?["spec"]?["containers"]?.arrayValue
        #expect(containers == [.object(["name": "app", "image": "demo:2"])])
        #expect(patch["spec"]?["template"]?["spec"]?["$setElementOrder/containers"] == .array([.object(["name": "app"])]))
        #expect(patch["spec"]?["replicas"] == nil)
        // Applying the patch to the live object gives the new image and keeps server defaults.
        let result = try StrategicMergePatch.apply(patch, to: try parse(live), typeName: deploymentType)
        let c = result["spec"]?["template"]?["spec"]?["containers"]?.arrayValue?.first
        #expect(c?["image"] == "demo:2" && c?["imagePullPolicy"] == "IfNotPresent")
    }

    @Test func removedContainerBecomesADeleteDirective() throws {
        let two = config.replacingOccurrences(of: #"[{"name":"app","image":"demo:1"}]"#,
                                              with: #"[{"name":"app","image":"demo:1"},{"name":"side","image":"s:1"}]"#)
        let patch = ThreeWayMergePatch.create(original: try parse(two), modified: try parse(config),
                                              current: try parse(two), typeName: deploymentType)
        let containers = patch["spec"]?["template"]?["spec"]?["containers"]?.arrayValue
        #expect(containers == [.object(["name": "side", "$patch": "delete"])])
    }

    @Test func unknownTypesReplaceListsLikeJSONMergePatch() throws {
        let original = try parse(#"{"spec":{"items":[1,2],"keep":true,"gone":1}}"#)
        let modified = try parse(#"{"spec":{"items":[1,3],"keep":true}}"#)
        let current = try parse(#"{"spec":{"items":[1,2],"keep":true,"gone":1,"server":"x"}}"#)
        let patch = ThreeWayMergePatch.create(original: original, modified: modified, current: current, typeName: nil)
        #expect(patch == .object(["spec": .object(["items": .array([1, 3]), "gone": .null])]))
    }
}

/// Small helper for building test documents.
enum JSONPatchHelper {
    static func set(_ doc: JSONValue, _ path: [String], _ value: JSONValue) -> JSONValue {
        guard let key = path.first else { return value }
        var o = doc.objectValue ?? [:]
        o[key] = set(o[key] ?? .object([:]), Array(path.dropFirst()), value)
        return .object(o)
    }
}
