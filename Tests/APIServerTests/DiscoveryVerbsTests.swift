import Testing

@testable import APIServer
@testable import KubeModel

/// The verbs discovery lists: review kinds are create-only, stored kinds have the full set.
@Suite struct DiscoveryVerbsTests {
    let discovery = Discovery(catalog: ResourceCatalog(BuiltinResources.all))

    func verbs(_ path: String, _ resource: String) -> [String]? {
        discovery.document(path: path)?["resources"]?.arrayValue?
            .first { $0["name"]?.stringValue == resource }?["verbs"]?.arrayValue?.compactMap(\.stringValue)
    }

    @Test func reviewResourcesAreCreateOnly() {
        for r in ["selfsubjectaccessreviews", "subjectaccessreviews", "selfsubjectrulesreviews"] {
            #expect(verbs("/apis/authorization.k8s.io/v1", r) == ["create"], "\(r)")
        }
    }

    @Test func storedResourcesKeepAllVerbs() {
        #expect(verbs("/api/v1", "configmaps") == ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"])
        #expect(verbs("/apis/rbac.authorization.k8s.io/v1", "clusterroles")?.contains("watch") == true)
    }
}
