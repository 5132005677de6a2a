import Testing

@testable import APIServer
@testable import KubeModel

@Suite struct OpenAPIDocumentsTests {
    static let definitions: [ResourceDefinition] = [
        ResourceDefinition(
            group: "", versions: ["v1"], kind: "Pod", plural: "pods", shortNames: ["po"], namespaced: true,
            categories: ["all"], subresources: [.status, .log, .binding, .eviction, .exec],
            schemaNames: ["v1": "io.k8s.api.core.v1.Pod"]),
        ResourceDefinition(
            group: "", versions: ["v1"], kind: "Namespace", plural: "namespaces", shortNames: ["ns"], namespaced: false,
            subresources: [.status], schemaNames: ["v1": "io.k8s.api.core.v1.Namespace"]),
        ResourceDefinition(
            group: "", versions: ["v1"], kind: "ConfigMap", plural: "configmaps", shortNames: ["cm"], namespaced: true,
            schemaNames: ["v1": "io.k8s.api.core.v1.ConfigMap"]),
        ResourceDefinition(
            group: "apps", versions: ["v1"], kind: "Deployment", plural: "deployments", shortNames: ["deploy"],
            namespaced: true, categories: ["all"], subresources: [.status, .scale],
            schemaNames: ["v1": "io.k8s.api.apps.v1.Deployment"]),
        ResourceDefinition(
            group: "rbac.authorization.k8s.io", versions: ["v1"], kind: "ClusterRole", plural: "clusterroles",
            namespaced: false, schemaNames: ["v1": "io.k8s.api.rbac.v1.ClusterRole"]),
        ResourceDefinition(
            group: "stable.example.com", versions: ["v1"], kind: "CronTab", plural: "crontabs", namespaced: true,
            schemaNames: [:]),
    ]

    let docs = OpenAPIDocuments(definitions: Self.definitions)

    func operations(_ doc: JSONValue) -> [(path: String, method: String, op: JSONValue)] {
        var out: [(String, String, JSONValue)] = []
        for (path, item) in doc["paths"]?.objectValue ?? [:] {
            for m in ["get", "put", "post", "delete", "patch"] { if let op = item[m] { out.append((path, m, op)) } }
        }
        return out
    }

    func parameterNames(_ op: JSONValue) -> Set<String> {
        Set((op["parameters"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue })
    }

    @Test func rootListsEveryGroupVersion() throws {
        let root = docs.root()
        let paths = try #require(root["paths"]?.objectValue)
        #expect(Set(paths.keys) == ["api/v1", "apis/apps/v1", "apis/rbac.authorization.k8s.io/v1", "apis/stable.example.com/v1"])
        let url = try #require(paths["apis/apps/v1"]?["serverRelativeURL"]?.stringValue)
        let hash = try #require(docs.built(path: "apis/apps/v1")?.hash)
        #expect(url == "/openapi/v3/apis/apps/v1?hash=\(hash)")
        #expect(hash.count == 16)
        #expect(docs.root() == root)
        // Stable across instances: clients cache documents by this hash.
        #expect(OpenAPIDocuments(definitions: Self.definitions).built(path: "apis/apps/v1")?.hash == hash)
    }

    @Test func documentLookupNormalisesPath() {
        #expect(docs.document(path: "apis/apps/v1") != nil)
        #expect(docs.document(path: "/openapi/v3/apis/apps/v1?hash=X") == docs.document(path: "apis/apps/v1"))
        #expect(docs.document(path: "/api/v1/") != nil)
        #expect(docs.document(path: "apis/apps/v2") == nil)
        #expect(docs.document(path: "apis/batch/v1") == nil)
    }

    @Test func deploymentPathsAndOperations() throws {
        let doc = try #require(docs.document(path: "apis/apps/v1"))
        #expect(doc["openapi"] == "3.0.0")
        #expect(doc["info"]?["title"] != nil)
        let paths = try #require(doc["paths"]?.objectValue)
        for p in [
            "/apis/apps/v1/", "/apis/apps/v1/deployments", "/apis/apps/v1/namespaces/{namespace}/deployments",
            "/apis/apps/v1/namespaces/{namespace}/deployments/{name}",
            "/apis/apps/v1/namespaces/{namespace}/deployments/{name}/status",
            "/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale",
        ] { #expect(paths[p] != nil, "missing \(p)") }

        let item = try #require(paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"])
        for m in ["get", "put", "patch", "delete"] { #expect(item[m] != nil) }
        let patch = try #require(item["patch"])
        #expect(patch["x-kubernetes-group-version-kind"] == ["group": "apps", "version": "v1", "kind": "Deployment"])
        #expect(patch["x-kubernetes-action"] == "patch")
        #expect(parameterNames(patch).isSuperset(of: ["dryRun", "fieldManager", "fieldValidation", "force"]))
        let content = try #require(patch["requestBody"]?["content"]?.objectValue)
        #expect(Set(content.keys) == [
            "application/json-patch+json", "application/merge-patch+json", "application/strategic-merge-patch+json",
            "application/apply-patch+yaml",
        ])
        #expect(paths["/apis/apps/v1/namespaces/{namespace}/deployments"]?["get"]?["x-kubernetes-action"] == "list")
        #expect(paths["/apis/apps/v1/namespaces/{namespace}/deployments"]?["delete"]?["x-kubernetes-action"] == "deletecollection")
        let scale = paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"]?["patch"]
        #expect(scale?["x-kubernetes-group-version-kind"] == ["group": "autoscaling", "version": "v1", "kind": "Scale"])
        #expect(item["parameters"]?.arrayValue?.contains { $0["name"] == "namespace" && $0["in"] == "path" } == true)
    }

    @Test func everyPatchOperationCarriesFieldValidationAndGVK() throws {
        for key in docs.paths {
            let doc = try #require(docs.document(path: key))
            let patches = operations(doc).filter { $0.method == "patch" }
            #expect(!patches.isEmpty, "no PATCH in \(key)")
            for (path, _, op) in patches {
                #expect(parameterNames(op).contains("fieldValidation"), "\(path)")
                #expect(op["x-kubernetes-group-version-kind"]?["kind"]?.stringValue != nil, "\(path)")
            }
            for (path, _, op) in operations(doc) where !path.hasSuffix("/") {
                #expect(op["x-kubernetes-action"] != nil, "\(path)")
            }
        }
    }

    @Test func clusterScopedAndCorePaths() throws {
        let doc = try #require(docs.document(path: "api/v1"))
        let paths = try #require(doc["paths"]?.objectValue)
        #expect(paths["/api/v1/namespaces/{name}"]?["patch"] != nil)
        #expect(paths["/api/v1/namespaces/{name}/status"] != nil)
        #expect(paths["/api/v1/namespaces/{namespace}/namespaces"] == nil)
        #expect(paths["/api/v1/pods"]?["get"]?["operationId"] == "listCoreV1PodForAllNamespaces")
        #expect(paths["/api/v1/namespaces/{namespace}/pods/{name}"]?["patch"]?["operationId"] == "patchCoreV1NamespacedPod")
        #expect(paths["/api/v1/namespaces/{namespace}/pods/{name}/eviction"]?["post"]?["x-kubernetes-group-version-kind"]?["kind"] == "Eviction")
        #expect(paths["/api/v1/namespaces/{namespace}/pods/{name}/log"]?["get"] != nil)
        let rbac = try #require(docs.document(path: "apis/rbac.authorization.k8s.io/v1"))
        #expect(rbac["paths"]?["/apis/rbac.authorization.k8s.io/v1/clusterroles/{name}"]?["patch"]?["operationId"]
            == "patchRbacAuthorizationV1ClusterRole")
    }

    /// Every `$ref` must point at a component, or clients fail to resolve the document.
    @Test func allReferencesResolve() throws {
        for key in docs.paths {
            let doc = try #require(docs.document(path: key))
            let components = try #require(doc["components"]?["schemas"]?.objectValue)
            var missing: Set<String> = []
            func visit(_ v: JSONValue) {
                switch v {
                case .object(let o):
                    if let r = o["$ref"]?.stringValue {
                        let name = String(r.dropFirst("#/components/schemas/".count))
                        if components[name] == nil { missing.insert(r) }
                    }
                    o.values.forEach(visit)
                case .array(let a): a.forEach(visit)
                default: break
                }
            }
            visit(doc)
            #expect(missing.isEmpty, "\(key): \(missing.sorted())")
        }
    }

    @Test func componentsCarryKindsAndExtensions() throws {
        let doc = try #require(docs.document(path: "apis/apps/v1"))
        let schemas = try #require(doc["components"]?["schemas"]?.objectValue)
        let deployment = try #require(schemas["io.k8s.api.apps.v1.Deployment"])
        #expect(deployment["x-kubernetes-group-version-kind"] == [["group": "apps", "kind": "Deployment", "version": "v1"]])
        #expect(deployment["type"] == "object")
        #expect(deployment["description"]?.stringValue?.isEmpty == false)
        #expect(deployment["properties"]?["kind"]?["enum"] == nil)
        #expect(schemas["io.k8s.api.apps.v1.DeploymentList"] != nil)
        #expect(schemas["io.k8s.apimachinery.pkg.apis.meta.v1.Patch"] != nil)
        #expect(schemas["io.k8s.api.autoscaling.v1.Scale"] != nil)
        let intOrString = try #require(schemas["io.k8s.apimachinery.pkg.util.intstr.IntOrString"])
        #expect(intOrString["format"] == "int-or-string")
        let containers = try #require(schemas["io.k8s.api.core.v1.PodSpec"]?["properties"]?["containers"])
        #expect(containers["x-kubernetes-patch-strategy"] == "merge")
        #expect(containers["x-kubernetes-patch-merge-key"] == "name")
        #expect(containers["x-kubernetes-list-type"] == "map")
        #expect(containers["x-kubernetes-list-map-keys"] == ["name"])
        #expect(containers["items"] == ["$ref": "#/components/schemas/io.k8s.api.core.v1.Container"])
        let replicas = try #require(schemas["io.k8s.api.apps.v1.DeploymentSpec"]?["properties"]?["replicas"])
        #expect(replicas["type"] == "integer" && replicas["format"] == "int32")
        #expect(replicas["description"] == "Field replicas of DeploymentSpec.")
        // Unrelated groups' kinds are not dragged in.
        #expect(schemas["io.k8s.api.batch.v1.Job"] == nil)
    }

    /// Walks the document the way `kubectl explain deployment.spec.strategy` does: find the
    /// component with the GVK, follow `properties`, resolving `$ref` and single `allOf`.
    @Test func explainDeploymentSpecStrategy() throws {
        let doc = try #require(docs.document(path: "apis/apps/v1"))
        let schemas = try #require(doc["components"]?["schemas"]?.objectValue)
        func resolve(_ s: JSONValue) -> JSONValue {
            if let r = s["$ref"]?.stringValue { return schemas[String(r.dropFirst("#/components/schemas/".count))] ?? s }
            if s["properties"] == nil, let all = s["allOf"]?.arrayValue, all.count == 1 { return resolve(all[0]) }
            return s
        }
        let gvk: JSONValue = ["group": "apps", "kind": "Deployment", "version": "v1"]
        var cur = try #require(schemas.values.first { $0["x-kubernetes-group-version-kind"]?.arrayValue?.contains(gvk) == true })
        for field in ["spec", "strategy"] {
            let next = try #require(resolve(cur)["properties"]?[field], "no field \(field)")
            #expect(next["description"] != nil)
            cur = next
        }
        let strategy = resolve(cur)
        #expect(Set(strategy["properties"]?.objectValue?.keys.map { $0 } ?? []) == ["rollingUpdate", "type"])
        let rollingUpdate = try #require(strategy["properties"]?["rollingUpdate"])
        let maxSurge = resolve(try #require(resolve(rollingUpdate)["properties"]?["maxSurge"]))
        #expect(maxSurge["format"] == "int-or-string")
    }

    @Test func kindsWithoutSchemaGetAPlaceholderComponent() throws {
        let doc = try #require(docs.document(path: "apis/stable.example.com/v1"))
        let schemas = try #require(doc["components"]?["schemas"]?.objectValue)
        let crontab = try #require(schemas["com.example.stable.v1.CronTab"])
        #expect(crontab["x-kubernetes-preserve-unknown-fields"] == true)
        #expect(crontab["x-kubernetes-group-version-kind"]?.arrayValue?.first?["kind"] == "CronTab")
    }

    @Test func concurrentBuildsAgree() async throws {
        let fresh = OpenAPIDocuments(definitions: Self.definitions)
        let hashes = await withTaskGroup(of: String?.self) { group in
            for _ in 0..<4 { group.addTask { fresh.built(path: "api/v1")?.hash } }
            var out: [String?] = []
            for await h in group { out.append(h) }
            return out
        }
        #expect(Set(hashes).count == 1)
        #expect(hashes.allSatisfy { $0 != nil })
    }
}
