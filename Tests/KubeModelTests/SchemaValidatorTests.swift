import Testing

@testable import KubeModel

@Suite struct SchemaValidatorTests {
    static let deploymentType = "io.k8s.api.apps.v1.Deployment"

    func parse(_ s: String) throws -> JSONValue { try JSONParser.parse(s) }

    func deployment(spec: String = "", container: String = "", meta: String = "") throws -> JSONValue {
        try parse(
            """
            {"apiVersion": "apps/v1", "kind": "Deployment",
             "metadata": {"name": "web", "labels": {"app": "web"}\(meta)},
             "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}}\(spec),
               "template": {"metadata": {"labels": {"app": "web"}},
                 "spec": {"containers": [{"name": "nginx", "image": "nginx"\(container)}]}}}}
            """)
    }

    @Test func definitionsAreNamedByTheirLastComponent() {
        #expect(Schema.shortName("io.k8s.api.apps.v1.DeploymentSpec") == "DeploymentSpec")
        #expect(Schema.shortName("Plain") == "Plain")
        #expect(Schema.shortName("trailing.dot.") == "dot")
        #expect(Schema.goTypeName("io.k8s.api.apps.v1.DeploymentSpec") == "v1.DeploymentSpec")
    }

    @Test func kubernetesSchemaLoads() throws {
        let s = Schema.kubernetes
        #expect(s.definitions.count == 707)
        #expect(s.typeName(group: "apps", version: "v1", kind: "Deployment") == Self.deploymentType)
        #expect(s.typeName(group: "", version: "v1", kind: "Pod") == "io.k8s.api.core.v1.Pod")
        #expect(s.typeName(group: "apps", version: "v1", kind: "DeleteOptions") == "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions")
        let spec = try #require(s.definition("io.k8s.api.apps.v1.DeploymentSpec"))
        #expect(spec.required.contains("selector"))
        #expect(spec.properties["strategy"]?.ref == "io.k8s.api.apps.v1.DeploymentStrategy")
        let podSpec = try #require(s.definition("io.k8s.api.core.v1.PodSpec"))
        let containers = try #require(podSpec.properties["containers"])
        #expect(containers.patchStrategy == "merge" && containers.patchMergeKey == "name")
        #expect(containers.listType == "map" && containers.listMapKeys == ["name"])
        #expect(s.resolve(try #require(spec.properties["template"])).properties["spec"] != nil)
    }

    @Test func validObjectIsUntouched() throws {
        var obj = try deployment()
        let before = obj
        let r = SchemaValidator.prune(&obj, typeName: Self.deploymentType)
        #expect(r.isClean)
        #expect(obj == before)
    }

    @Test func unknownFieldsAreReportedWithPathsAndPruned() throws {
        var obj = try deployment(
            spec: #", "unknown1": "x", "unknownDupe": {"a": 1}"#, container: #", "unknownNested": "v""#,
            meta: #", "unknownMeta": true"#)
        let r = SchemaValidator.prune(&obj, typeName: Self.deploymentType)
        // Depth-first in key order, the order kube-apiserver reports patched objects in.
        #expect(r.unknownFields == [
            "metadata.unknownMeta", "spec.template.spec.containers[0].unknownNested", "spec.unknown1", "spec.unknownDupe",
        ])
        #expect(r.unknownFieldMessages.first == #"unknown field "metadata.unknownMeta""#)
        #expect(r.typeErrors.isEmpty)
        #expect(obj[path: ["spec", "unknown1"]] == nil)
        #expect(obj[path: ["metadata", "unknownMeta"]] == nil)
        #expect(obj[path: ["spec", "template", "spec", "containers"]]?.arrayValue?.first?["unknownNested"] == nil)
        #expect(obj[path: ["spec", "template", "spec", "containers"]]?.arrayValue?.first?["image"] == "nginx")
        #expect(obj[path: ["spec", "replicas"]] == 2)
        #expect(obj.apiVersion == "apps/v1" && obj.kind == "Deployment")
    }

    @Test func unknownTopLevelField() throws {
        var obj = try parse(#"{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "bogus": 1, "data": {"k": "v"}}"#)
        let r = SchemaValidator.prune(&obj, typeName: "io.k8s.api.core.v1.ConfigMap")
        #expect(r.unknownFields == ["bogus"])
        #expect(obj["data"] == ["k": "v"])
    }

    @Test func typeErrorsUseGoDecoderWording() throws {
        var obj = try deployment(
            spec: #", "paused": "yes""#, container: #", "args": ["run", 5], "ports": {"containerPort": 80}"#,
            meta: #", "annotations": {"a": 1}"#)
        obj[path: ["spec", "replicas"]] = "3"
        let r = SchemaValidator.prune(&obj, typeName: Self.deploymentType)
        // Depth-first in key order: metadata before spec, then the container's keys.
        #expect(r.typeErrors == [
            "json: cannot unmarshal number into Go struct field ObjectMeta.metadata.annotations of type string",
            "json: cannot unmarshal string into Go struct field DeploymentSpec.spec.paused of type bool",
            "json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32",
            "json: cannot unmarshal number into Go struct field Container.spec.template.spec.containers.args of type string",
            "json: cannot unmarshal object into Go struct field Container.spec.template.spec.containers.ports of type []v1.ContainerPort",
        ])
        #expect(r.unknownFields.isEmpty)
    }

    @Test func structGivenScalarAndIntegerRanges() throws {
        var obj = try deployment(spec: #", "strategy": "Recreate", "minReadySeconds": 1.5, "revisionHistoryLimit": 3000000000"#)
        let r = SchemaValidator.prune(&obj, typeName: Self.deploymentType)
        #expect(r.typeErrors.contains(
            "json: cannot unmarshal string into Go struct field DeploymentSpec.spec.strategy of type v1.DeploymentStrategy"))
        #expect(r.typeErrors.contains(
            "json: cannot unmarshal number 1.5 into Go struct field DeploymentSpec.spec.minReadySeconds of type int32"))
        #expect(r.typeErrors.contains(
            "json: cannot unmarshal number 3000000000 into Go struct field DeploymentSpec.spec.revisionHistoryLimit of type int32"))
    }

    @Test func topLevelMustBeAnObject() throws {
        var obj: JSONValue = [1, 2]
        let r = SchemaValidator.prune(&obj, typeName: Self.deploymentType)
        #expect(r.typeErrors == ["json: cannot unmarshal array into Go value of type v1.Deployment"])
    }

    @Test func intOrStringAcceptsBoth() throws {
        var obj = try deployment(spec: #", "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 1}}"#)
        #expect(SchemaValidator.prune(&obj, typeName: Self.deploymentType).isClean)
        var bad = try deployment(spec: #", "strategy": {"rollingUpdate": {"maxSurge": true}}"#)
        let r = SchemaValidator.prune(&bad, typeName: Self.deploymentType)
        #expect(r.typeErrors == [
            "json: cannot unmarshal bool into Go struct field RollingUpdateDeployment.spec.strategy.rollingUpdate.maxSurge of type int32"
        ])
    }

    @Test func quantitiesAcceptStringsAndNumbers() throws {
        var obj = try deployment(container: #", "resources": {"limits": {"cpu": "500m", "memory": 128}, "requests": {"cpu": 0.5, "memory": "1Gi"}}"#)
        #expect(SchemaValidator.prune(&obj, typeName: Self.deploymentType).isClean)
        var bad = try deployment(container: #", "resources": {"limits": {"cpu": "lots"}, "requests": {"memory": "1kk"}}"#)
        let r = SchemaValidator.prune(&bad, typeName: Self.deploymentType)
        #expect(r.typeErrors == [GoValueChecks.quantityFormatError, GoValueChecks.quantitySuffixError])
        #expect(GoValueChecks.quantityStringError("1e3") == nil)
        #expect(GoValueChecks.quantityStringError("-1.5Ki") == nil)
        #expect(GoValueChecks.quantityStringError("1.2.3") == GoValueChecks.quantityFormatError)
        #expect(GoValueChecks.quantityStringError("1Gb") == GoValueChecks.quantityFormatError)
    }

    @Test func nullsAreDroppedOrZeroed() throws {
        var obj = try deployment(spec: #", "paused": null, "strategy": null"#, meta: #", "annotations": {"a": null}"#)
        obj[path: ["spec", "template", "spec", "containers"]] = [["name": "a", "image": "b", "command": [.null, "x"]]]
        let r = SchemaValidator.prune(&obj, typeName: Self.deploymentType)
        #expect(r.isClean)
        #expect(obj[path: ["spec"]]?.objectValue?.keys.contains("paused") == false)
        #expect(obj[path: ["spec"]]?.objectValue?.keys.contains("strategy") == false)
        #expect(obj[path: ["metadata", "annotations", "a"]] == "")
        #expect(obj[path: ["spec", "template", "spec", "containers"]]?.arrayValue?.first?["command"] == ["", "x"])
    }

    @Test func wholeDoublesBecomeIntegers() throws {
        var obj = try deployment()
        obj[path: ["spec", "replicas"]] = .double(3)
        #expect(SchemaValidator.prune(&obj, typeName: Self.deploymentType).isClean)
        #expect(obj[path: ["spec", "replicas"]] == .int(3))
    }

    @Test func freeFormFieldsAreKept() throws {
        var obj = try deployment(
            meta: #", "managedFields": [{"manager": "kubectl", "operation": "Apply", "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:replicas": {}}}}]"#)
        #expect(SchemaValidator.prune(&obj, typeName: Self.deploymentType).isClean)
        #expect(obj[path: ["metadata", "managedFields"]]?.arrayValue?.first?["fieldsV1"] == ["f:spec": ["f:replicas": [:]]])

        var rev = try parse(#"{"apiVersion": "apps/v1", "kind": "ControllerRevision", "metadata": {"name": "r"}, "revision": 1, "data": {"anything": [1, {"x": null}]}}"#)
        #expect(SchemaValidator.prune(&rev, typeName: "io.k8s.api.apps.v1.ControllerRevision").isClean)
        #expect(rev[path: ["data", "anything"]] == [1, ["x": .null]])
    }

    @Test func preserveUnknownFieldsKeepsUnknownKeys() throws {
        let schema = Schema(json: [
            "T": ["type": "object", "preserveUnknownFields": true, "properties": ["n": ["type": "integer", "format": "int32"]]]
        ])
        var obj: JSONValue = ["n": 1, "extra": ["deep": true]]
        #expect(SchemaValidator.prune(&obj, typeName: "T", schema: schema).isClean)
        #expect(obj["extra"] == ["deep": true])
    }

    @Test func secretDataMustBeBase64() throws {
        var ok = try parse(#"{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": {"a": "aGVsbG8=", "b": "aGk=\n"}}"#)
        #expect(SchemaValidator.prune(&ok, typeName: "io.k8s.api.core.v1.Secret").isClean)
        var bad = try parse(#"{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": {"a": "abc"}}"#)
        #expect(SchemaValidator.prune(&bad, typeName: "io.k8s.api.core.v1.Secret").typeErrors == ["illegal base64 data at input byte 0"])
        #expect(GoValueChecks.base64ErrorOffset("ab!d") == 2)
        #expect(GoValueChecks.base64ErrorOffset("aGk=x") == 4)
        #expect(GoValueChecks.base64ErrorOffset("") == nil)
    }

    @Test func timestampsAreChecked() throws {
        var ok = try deployment(meta: #", "creationTimestamp": "2024-05-01T10:00:00Z""#)
        #expect(SchemaValidator.prune(&ok, typeName: Self.deploymentType).isClean)
        var bad = try deployment(meta: #", "creationTimestamp": "yesterday""#)
        #expect(SchemaValidator.prune(&bad, typeName: Self.deploymentType).typeErrors == [
            #"parsing time "yesterday" as "2006-01-02T15:04:05Z07:00": cannot parse "yesterday" as "2006""#
        ])
        #expect(GoValueChecks.timeError("2024-13-01T00:00:00Z") == #"parsing time "2024-13-01T00:00:00Z": month out of range"#)
        #expect(GoValueChecks.timeError("2024-01-01T00:00:00.123+02:00") == nil)
    }

    @Test func unknownTypeNameLeavesObjectAlone() throws {
        var obj: JSONValue = ["anything": 1]
        #expect(SchemaValidator.prune(&obj, typeName: "com.example.v1.Nope").isClean)
        #expect(obj == ["anything": 1])
    }
}
