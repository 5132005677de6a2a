import Testing
import KubeModel

/// `ResourcePath(parsing:)` reads back what `path` builds.
@Suite struct ResourcePathParsingTests {
    @Test func roundTripsEveryShape() {
        let paths = [
            ResourcePath.core("pods"),
            ResourcePath.core("pods", namespace: "default"),
            ResourcePath.core("pods", namespace: "default", name: "web-1"),
            ResourcePath(group: "apps", version: "v1", plural: "deployments", namespace: "prod", name: "web", subresource: "scale"),
            ResourcePath(group: "rbac.authorization.k8s.io", version: "v1", plural: "clusterroles", name: "admin"),
            ResourcePath.core("namespaces", name: "kube-system"),
            ResourcePath(plural: "namespaces", name: "ns", subresource: "finalize"),
            ResourcePath.core("configmaps", namespace: "a b", name: "x/y"),
        ]
        for path in paths { #expect(ResourcePath(parsing: path.path) == path, "\(path.path)") }
    }

    @Test func ignoresTheQueryAndRefusesNonResourcePaths() {
        #expect(ResourcePath(parsing: "/api/v1/pods?labelSelector=app%3Dweb") == .core("pods"))
        for other in ["/healthz", "/api", "/api/v1", "/apis/apps/v1", "/apis/apps", "/api/v1/namespaces/ns/pods/p/status/extra"] {
            #expect(ResourcePath(parsing: other) == nil, "\(other)")
        }
    }
}
