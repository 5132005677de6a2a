import Testing
@testable import KubeModel

/// Resource paths built by clients and parsed by the server, and Go-style query reads: one
/// home each, shared by the API server, the kubelet and the client.
@Suite struct RequestPathTests {
    @Test func pathsParseBackToWhatBuiltThem() {
        let paths = [
            ResourcePath(plural: "pods"),
            ResourcePath.core("pods", namespace: "a", name: "p"),
            ResourcePath(plural: "pods", namespace: "a", name: "p", subresource: "log"),
            ResourcePath(group: "apps", version: "v1", plural: "deployments", namespace: "a", name: "d", subresource: "scale"),
            ResourcePath(plural: "namespaces", name: "ns"),
            ResourcePath(plural: "namespaces", name: "ns", subresource: "finalize"),
            ResourcePath(group: "rbac.authorization.k8s.io", version: "v1", plural: "clusterroles", name: "view"),
        ]
        for p in paths {
            let parsed = ResourcePath.parse(p.path)
            #expect(parsed?.path == p, "\(p.path)")
            #expect(parsed?.legacyWatch == false)
        }
    }

    @Test func legacyWatchAndNonResourcePaths() {
        let w = ResourcePath.parse("/api/v1/watch/namespaces/a/pods/p")
        #expect(w?.legacyWatch == true && w?.path == ResourcePath.core("pods", namespace: "a", name: "p"))
        for path in ["/", "/api", "/api/v1", "/apis", "/apis/apps", "/apis/apps/v1", "/healthz", "/openapi/v3",
                     "/api/v1/namespaces/a/pods/p/log/extra"] {
            #expect(ResourcePath.parse(path) == nil, "\(path)")
        }
    }

    @Test func goStyleBooleansAndIntegers() throws {
        let q = QueryParameters("a=1&b=False&c=&d=yes&n=-3&m=x&e")
        #expect(try q.bool("a") && !(try q.bool("b")) && !(try q.bool("c")) && !(try q.bool("missing")) && !(try q.bool("e")))
        #expect(throws: QueryParameterError(key: "d", value: "yes", expected: "boolean")) { try q.bool("d") }
        #expect(try q.int("n") == -3 && (try q.int("c")) == nil && (try q.int("missing")) == nil)
        do {
            _ = try q.int("m")
            Issue.record("no error for m=x")
        } catch {
            #expect(error.message == "invalid integer value \"x\" for query parameter m")
        }
    }

    @Test func percentEncodingKeepsOnlyUnreserved() {
        #expect(PercentEncoding.encode("a b/c?d#e~f.g_h-i") == "a%20b%2Fc%3Fd%23e~f.g_h-i")
        #expect(PercentEncoding.encode("é") == "%C3%A9")
    }
}
