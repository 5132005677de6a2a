import Testing
@testable import KubeModel

private let deploymentType = "io.k8s.api.apps.v1.Deployment"
private let podType = "io.k8s.api.core.v1.Pod"
private let serviceType = "io.k8s.api.core.v1.Service"

private let deployment = """
    {"apiVersion":"apps/v1","kind":"Deployment",
     "metadata":{"name":"web","namespace":"default","labels":{"app":"web","tier":"frontend"},
                 "finalizers":["example.com/a","example.com/b"]},
     "spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},
       "strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":"25%","maxUnavailable":"25%"}},
       "template":{"metadata":{"labels":{"app":"web"}},"spec":{
         "containers":[
           {"name":"app","image":"app:1",
            "env":[{"name":"A","value":"1"},{"name":"B","value":"2"}],
            "ports":[{"containerPort":8080,"name":"http"},{"containerPort":9090,"name":"metrics"}]},
           {"name":"sidecar","image":"proxy:1"}],
         "volumes":[{"name":"data","emptyDir":{}}],
         "securityContext":{"runAsUser":1000},
         "tolerations":[{"key":"a","operator":"Exists"}]}}}}
    """

private let podSpecPath = ["spec", "template", "spec"]

private func parse(_ s: String) throws -> JSONValue { try JSONParser.parse(s) }

private func patched(_ original: String, _ patch: String, type: String) throws -> JSONValue {
    try StrategicMergePatch.apply(parse(patch), to: parse(original), typeName: type)
}

private func patchError(_ original: String, _ patch: String, type: String = deploymentType) throws
    -> StrategicMergePatchError?
{
    let o = try parse(original)
    let p = try parse(patch)
    do {
        _ = try StrategicMergePatch.apply(p, to: o, typeName: type)
        return nil
    } catch {
        return error
    }
}

/// Patch wrapping `podSpec` (JSON object members) at spec.template.spec of a Deployment.
private func podSpecPatch(_ podSpec: String) -> String { #"{"spec":{"template":{"spec":{\#(podSpec)}}}}"# }

private func containers(_ v: JSONValue) -> [JSONValue] { v[path: podSpecPath + ["containers"]]?.arrayValue ?? [] }

private func container(_ v: JSONValue, _ name: String) -> JSONValue? {
    containers(v).first { $0["name"]?.stringValue == name }
}

private func names(_ list: JSONValue?, key: String = "name") -> [String] {
    (list?.arrayValue ?? []).map { $0[key]?.stringValue ?? "?" }
}

/// True when no object anywhere has a directive member.
private func directiveFree(_ v: JSONValue) -> Bool {
    switch v {
    case .object(let o): return o.allSatisfy { !$0.key.hasPrefix("$") && directiveFree($0.value) }
    case .array(let a): return a.allSatisfy(directiveFree)
    default: return true
    }
}

@Suite struct StrategicMergePatchTests {
    // MARK: Containers and env

    @Test func changeOneContainerImageKeepsTheOthers() throws {
        let r = try patched(deployment, podSpecPatch(#""containers":[{"name":"sidecar","image":"proxy:2"}]"#), type: deploymentType)
        #expect(names(r[path: podSpecPath + ["containers"]]) == ["app", "sidecar"])
        #expect(container(r, "sidecar") == ["name": "sidecar", "image": "proxy:2"])
        let original = try parse(deployment)
        #expect(container(r, "app") == container(original, "app"))
        #expect(r[path: podSpecPath + ["volumes"]] == original[path: podSpecPath + ["volumes"]])
    }

    @Test func addEnvVarWithoutOrderPutsPatchItemsFirstAsGoDoes() throws {
        let r = try patched(
            deployment, podSpecPatch(#""containers":[{"name":"app","env":[{"name":"C","value":"3"}]}]"#), type: deploymentType)
        #expect(names(container(r, "app")?["env"]) == ["C", "A", "B"])
        #expect(container(r, "app")?["image"] == "app:1")
    }

    @Test func addEnvVarKubectlApplyStyle() throws {
        let patch = podSpecPatch(
            #""$setElementOrder/containers":[{"name":"app"},{"name":"sidecar"}],"containers":[{"name":"app","#
                + #""$setElementOrder/env":[{"name":"A"},{"name":"B"},{"name":"C"}],"env":[{"name":"C","value":"3"}]}]"#)
        let r = try patched(deployment, patch, type: deploymentType)
        #expect(names(r[path: podSpecPath + ["containers"]]) == ["app", "sidecar"])
        #expect(container(r, "app")?["env"] == [["name": "A", "value": "1"], ["name": "B", "value": "2"], ["name": "C", "value": "3"]])
        #expect(directiveFree(r))
    }

    @Test func removeEnvVarWithDeleteDirective() throws {
        let r = try patched(
            deployment, podSpecPatch(#""containers":[{"name":"app","env":[{"name":"A","$patch":"delete"}]}]"#),
            type: deploymentType)
        #expect(container(r, "app")?["env"] == [["name": "B", "value": "2"]])
        #expect(directiveFree(r))
    }

    @Test func removeEnvVarKubectlApplyStyle() throws {
        let patch = podSpecPatch(
            #""$setElementOrder/containers":[{"name":"app"},{"name":"sidecar"}],"containers":[{"name":"app","#
                + #""$setElementOrder/env":[{"name":"B"}],"env":[{"$patch":"delete","name":"A"}]}]"#)
        let r = try patched(deployment, patch, type: deploymentType)
        #expect(container(r, "app")?["env"] == [["name": "B", "value": "2"]])
        #expect(directiveFree(r))
    }

    @Test func kubectlApplyAddAndDeleteKeepsServerOnlyItemsInPlace() throws {
        // C was added by someone else; apply drops A and adds D. Go orders the result B, C, D.
        let original = """
            {"spec":{"template":{"spec":{"containers":[{"name":"app","image":"app:1",
              "env":[{"name":"A","value":"1"},{"name":"B","value":"2"},{"name":"C","value":"3"}]}]}}}}
            """
        let patch = podSpecPatch(
            #""containers":[{"name":"app","$setElementOrder/env":[{"name":"B"},{"name":"D"}],"#
                + #""env":[{"name":"D","value":"4"},{"$patch":"delete","name":"A"}]}]"#)
        let r = try patched(original, patch, type: deploymentType)
        #expect(names(container(r, "app")?["env"]) == ["B", "C", "D"])
    }

    @Test func newContainerOrderWithAndWithoutSetElementOrder() throws {
        let plain = try patched(
            deployment, podSpecPatch(#""containers":[{"name":"new","image":"new:1"}]"#), type: deploymentType)
        #expect(names(plain[path: podSpecPath + ["containers"]]) == ["new", "app", "sidecar"])
        let ordered = try patched(
            deployment,
            podSpecPatch(
                #""$setElementOrder/containers":[{"name":"app"},{"name":"sidecar"},{"name":"new"}],"#
                    + #""containers":[{"name":"new","image":"new:1"}]"#), type: deploymentType)
        #expect(names(ordered[path: podSpecPath + ["containers"]]) == ["app", "sidecar", "new"])
    }

    @Test func replaceWholeMergingList() throws {
        let r = try patched(
            deployment, podSpecPatch(#""containers":[{"$patch":"replace"},{"name":"only","image":"only:1"}]"#),
            type: deploymentType)
        #expect(containers(r) == [["name": "only", "image": "only:1"]])
    }

    // MARK: Ports

    @Test func changeAndRemoveContainerPort() throws {
        let changed = try patched(
            deployment,
            podSpecPatch(#""containers":[{"name":"app","ports":[{"containerPort":9090,"name":"prom"}]}]"#),
            type: deploymentType)
        #expect(container(changed, "app")?["ports"] == [["containerPort": 8080, "name": "http"], ["containerPort": 9090, "name": "prom"]])
        let removed = try patched(
            deployment,
            podSpecPatch(#""containers":[{"name":"app","ports":[{"containerPort":9090,"$patch":"delete"}]}]"#),
            type: deploymentType)
        #expect(container(removed, "app")?["ports"] == [["containerPort": 8080, "name": "http"]])
    }

    @Test func newPortListKeepsItemsSharingAMergeKey() throws {
        // DNS serves 53 over UDP and TCP; a list new to the object is taken as given.
        let r = try patched(
            deployment,
            podSpecPatch(
                #""containers":[{"name":"sidecar","ports":[{"containerPort":53,"protocol":"UDP"},{"containerPort":53,"protocol":"TCP"}]}]"#),
            type: deploymentType)
        #expect(container(r, "sidecar")?["ports"]?.arrayValue?.count == 2)
    }

    @Test func servicePortsMergeByPort() throws {
        let service = """
            {"apiVersion":"v1","kind":"Service","metadata":{"name":"web"},
             "spec":{"type":"ClusterIP","selector":{"app":"web"},"ports":[
               {"name":"http","port":80,"targetPort":8080,"protocol":"TCP"},
               {"name":"https","port":443,"targetPort":8443,"protocol":"TCP"}]}}
            """
        let r = try patched(service, #"{"spec":{"ports":[{"port":443,"targetPort":9443}]}}"#, type: serviceType)
        #expect(
            r["spec"]?["ports"] == [
                ["name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"],
                ["name": "https", "port": 443, "targetPort": 9443, "protocol": "TCP"],
            ])
        #expect(r["spec"]?["selector"] == ["app": "web"])
        let removed = try patched(service, #"{"spec":{"ports":[{"port":80,"$patch":"delete"}]}}"#, type: serviceType)
        #expect(names(removed["spec"]?["ports"]) == ["https"])
    }

    // MARK: Maps

    @Test func mergeLabelsAndRemoveOneWithNull() throws {
        let r = try patched(deployment, #"{"metadata":{"labels":{"tier":null,"env":"prod"}}}"#, type: deploymentType)
        #expect(r["metadata"]?["labels"] == ["app": "web", "env": "prod"])
        #expect(r["metadata"]?["name"] == "web")
    }

    @Test func replaceDirectiveOnAMap() throws {
        let r = try patched(
            deployment, #"{"metadata":{"labels":{"$patch":"replace","owner":"me"}}}"#, type: deploymentType)
        #expect(r["metadata"]?["labels"] == ["owner": "me"])
        // `$patch: merge` is the default, spelled out.
        let merged = try patched(deployment, #"{"metadata":{"labels":{"$patch":"merge","owner":"me"}}}"#, type: deploymentType)
        #expect(merged["metadata"]?["labels"] == ["app": "web", "tier": "frontend", "owner": "me"])
    }

    @Test func deleteDirectiveOnAMapEmptiesIt() throws {
        // Go's behaviour: an existing object becomes {}, a missing one stays missing.
        let r = try patched(deployment, podSpecPatch(#""securityContext":{"$patch":"delete"}"#), type: deploymentType)
        #expect(r[path: podSpecPath + ["securityContext"]] == [:])
        let absent = try patched(deployment, podSpecPatch(#""affinity":{"$patch":"delete"}"#), type: deploymentType)
        #expect(absent[path: podSpecPath + ["affinity"]] == nil)
    }

    @Test func replaceStrategyFieldReplacesTheMap() throws {
        let pdb = #"{"spec":{"minAvailable":1,"selector":{"matchLabels":{"app":"web","tier":"fe"}}}}"#
        let r = try patched(
            pdb, #"{"spec":{"selector":{"matchLabels":{"app":"api"}}}}"#, type: "io.k8s.api.policy.v1.PodDisruptionBudget")
        #expect(r["spec"]?["selector"] == ["matchLabels": ["app": "api"]])
        #expect(r["spec"]?["minAvailable"] == 1)
    }

    // MARK: retainKeys

    @Test func retainKeysOnStrategySwitchToRecreate() throws {
        let r = try patched(
            deployment, #"{"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate","rollingUpdate":null}}}"#,
            type: deploymentType)
        #expect(r["spec"]?["strategy"] == ["type": "Recreate"])
        let withoutNull = try patched(
            deployment, #"{"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate"}}}"#, type: deploymentType)
        #expect(withoutNull["spec"]?["strategy"] == ["type": "Recreate"])
        // Without the directive the old rollingUpdate would survive the merge.
        let plain = try patched(deployment, #"{"spec":{"strategy":{"type":"Recreate"}}}"#, type: deploymentType)
        #expect(plain["spec"]?["strategy"]?["rollingUpdate"] != nil)
    }

    @Test func retainKeysOnVolumeSourceSwitch() throws {
        let r = try patched(
            deployment,
            podSpecPatch(#""volumes":[{"name":"data","configMap":{"name":"cfg"},"$retainKeys":["configMap","name"]}]"#),
            type: deploymentType)
        #expect(r[path: podSpecPath + ["volumes"]] == [["name": "data", "configMap": ["name": "cfg"]]])
    }

    @Test func retainKeysRejectsPatchFieldsNotListed() throws {
        let e = try patchError(
            deployment, #"{"spec":{"strategy":{"$retainKeys":["type"],"type":"RollingUpdate","rollingUpdate":{"maxSurge":1}}}}"#)
        #expect(e?.message.contains("rollingUpdate") == true)
        #expect(try patchError(deployment, #"{"spec":{"strategy":{"$retainKeys":"type"}}}"#) != nil)
    }

    // MARK: Primitive lists

    @Test func finalizersUnion() throws {
        let r = try patched(
            deployment, #"{"metadata":{"finalizers":["example.com/b","example.com/c"]}}"#, type: deploymentType)
        #expect(r["metadata"]?["finalizers"] == ["example.com/a", "example.com/b", "example.com/c"])
    }

    @Test func deleteFromPrimitiveList() throws {
        let r = try patched(
            deployment, #"{"metadata":{"$deleteFromPrimitiveList/finalizers":["example.com/a","missing"]}}"#,
            type: deploymentType)
        #expect(r["metadata"]?["finalizers"] == ["example.com/b"])
        // kubectl apply: order, additions and deletions together.
        let applied = try patched(
            deployment,
            #"{"metadata":{"$setElementOrder/finalizers":["example.com/b","example.com/c"],"#
                + #""$deleteFromPrimitiveList/finalizers":["example.com/a"],"finalizers":["example.com/c"]}}"#,
            type: deploymentType)
        #expect(applied["metadata"]?["finalizers"] == ["example.com/b", "example.com/c"])
        #expect(directiveFree(applied))
    }

    // MARK: Other lists

    @Test func conditionsMergeByType() throws {
        let pod = """
            {"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"i"}]},
             "status":{"phase":"Pending","conditions":[
               {"type":"PodScheduled","status":"True"},
               {"type":"Ready","status":"False","reason":"ContainersNotReady"}]}}
            """
        let r = try patched(
            pod, #"{"status":{"phase":"Running","conditions":[{"type":"Ready","status":"True","reason":null}]}}"#,
            type: podType)
        #expect(r["status"]?["conditions"] == [["type": "PodScheduled", "status": "True"], ["type": "Ready", "status": "True"]])
        #expect(r["status"]?["phase"] == "Running")
    }

    @Test func ownerReferencesMergeByUID() throws {
        let pod = #"{"metadata":{"name":"p","ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"rs","uid":"u1"}]}}"#
        let r = try patched(pod, #"{"metadata":{"ownerReferences":[{"uid":"u1","controller":true}]}}"#, type: podType)
        #expect(r["metadata"]?["ownerReferences"]?.arrayValue?.first?["controller"] == true)
        #expect(r["metadata"]?["ownerReferences"]?.arrayValue?.first?["name"] == "rs")
    }

    @Test func listsWithoutMergeStrategyReplace() throws {
        let r = try patched(
            deployment, podSpecPatch(#""tolerations":[{"key":"b","operator":"Exists"}]"#), type: deploymentType)
        #expect(r[path: podSpecPath + ["tolerations"]] == [["key": "b", "operator": "Exists"]])
    }

    @Test func intOrStringFieldsAreScalars() throws {
        let r = try patched(deployment, #"{"spec":{"strategy":{"rollingUpdate":{"maxSurge":1}}}}"#, type: deploymentType)
        #expect(r["spec"]?["strategy"]?["rollingUpdate"] == ["maxSurge": 1, "maxUnavailable": "25%"])
    }

    // MARK: Unknown types and fields

    @Test func unknownTypeBehavesLikeJSONMergePatch() throws {
        let original = #"{"spec":{"items":[1,2],"config":{"a":1,"b":2}},"status":{"x":1}}"#
        let r = try patched(
            original, #"{"spec":{"items":[3],"config":{"b":null,"c":{"d":null,"e":1}}},"status":null}"#,
            type: "com.example.v1.Widget")
        #expect(r == ["spec": ["items": [3], "config": ["a": 1, "c": ["e": 1]]]])
    }

    @Test func unknownFieldInKnownTypeMergesAsMergePatch() throws {
        let original = #"{"metadata":{"name":"p"},"extra":{"list":[1,2],"keep":true}}"#
        let r = try patched(original, #"{"extra":{"list":[3]}}"#, type: podType)
        #expect(r["extra"] == ["list": [3], "keep": true])
    }

    @Test func directivesDoNotLeakIntoNewFields() throws {
        let pod = #"{"metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"i"}]}}"#
        let patch = """
            {"spec":{"$setElementOrder/volumes":[{"name":"v"}],
              "volumes":[{"name":"v","configMap":{"name":"cm"},"$retainKeys":["configMap","name"]}],
              "$setElementOrder/containers":[{"name":"c"},{"name":"d"}],
              "containers":[{"name":"d","image":"d:1","$setElementOrder/env":[{"name":"X"}],
                "env":[{"name":"X","value":"1"},{"name":"Y","$patch":"delete"}],
                "securityContext":{"$patch":"replace","privileged":false}}]}}
            """
        let r = try patched(pod, patch, type: podType)
        #expect(directiveFree(r))
        #expect(r["spec"]?["volumes"] == [["name": "v", "configMap": ["name": "cm"]]])
        #expect(names(r["spec"]?["containers"]) == ["c", "d"])
        let d = r["spec"]?["containers"]?.arrayValue?.last
        #expect(d?["env"] == [["name": "X", "value": "1"]])
        #expect(d?["securityContext"] == ["privileged": false])
    }

    @Test func nullOriginalIsAnEmptyObject() throws {
        let r = try StrategicMergePatch.apply(parse(#"{"metadata":{"labels":{"a":"b","c":null}}}"#), to: .null, typeName: podType)
        #expect(r == ["metadata": ["labels": ["a": "b"]]])
    }

    // MARK: Errors

    @Test func missingMergeKeyIsAnError() throws {
        let e = try patchError(deployment, podSpecPatch(#""containers":[{"image":"x"}]"#))
        #expect(e?.message.contains("spec.template.spec.containers[0]") == true)
        #expect(e?.message.contains("\"name\"") == true)
        #expect(try patchError(deployment, podSpecPatch(#""containers":[{"$patch":"delete","image":"x"}]"#)) != nil)
    }

    @Test func malformedDirectivesAreErrors() throws {
        #expect(try patchError(deployment, #"{"metadata":{"labels":{"$patch":"explode"}}}"#) != nil)
        #expect(try patchError(deployment, podSpecPatch(#""containers":[{"name":"app","$patch":"bogus"}]"#)) != nil)
        #expect(try patchError(deployment, #"{"metadata":{"$setElementOrder":["x"]}}"#) != nil)
        #expect(try patchError(deployment, #"{"metadata":{"$deleteFromPrimitiveList/finalizers":"x"}}"#) != nil)
        #expect(try patchError(deployment, #"{"metadata":{"$setElementOrder/finalizers":"x"}}"#) != nil)
        #expect(try patchError(deployment, podSpecPatch(#""$setElementOrder/containers":[{"image":"x"}]"#)) != nil)
    }

    @Test func setElementOrderMustMatchThePatchList() throws {
        let patch = podSpecPatch(
            #""containers":[{"name":"app","$setElementOrder/env":[{"name":"B"},{"name":"A"}],"#
                + #""env":[{"name":"A","value":"x"},{"name":"B","value":"y"}]}]"#)
        let e = try patchError(deployment, patch)
        #expect(e?.message.contains("$setElementOrder/env") == true)
    }

    @Test func wrongTypesAreErrors() throws {
        #expect(try patchError(deployment, "[1]") != nil)
        #expect(try patchError("[]", "{}") != nil)
        // A merging list of objects cannot take scalars, nor a set of scalars objects.
        #expect(try patchError(deployment, podSpecPatch(#""containers":["app"]"#)) != nil)
        #expect(try patchError(deployment, #"{"metadata":{"finalizers":[{"a":1}]}}"#) != nil)
    }

    @Test func recursionDepthIsLimited() throws {
        var deep: JSONValue = ["leaf": 1]
        for _ in 0..<(StrategicMergePatch.maxDepth + 10) { deep = ["x": deep] }
        #expect(throws: StrategicMergePatchError.self) {
            try StrategicMergePatch.apply(deep, to: .null, typeName: "com.example.v1.Widget")
        }
        var deepList: JSONValue = [1]
        for _ in 0..<(StrategicMergePatch.maxDepth + 10) { deepList = [deepList] }
        #expect(throws: StrategicMergePatchError.self) {
            try StrategicMergePatch.apply(["spec": deepList], to: ["spec": [1]], typeName: podType)
        }
    }
}
