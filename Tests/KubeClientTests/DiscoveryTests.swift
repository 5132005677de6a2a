import Foundation
import Testing
import KubeModel
@testable import KubeClient

@Suite struct DiscoveryTests {
    private func resource(_ group: String, _ version: String, _ name: String, _ kind: String, namespaced: Bool = true,
                          short: [String] = [], categories: [String] = []) -> APIResourceInfo {
        APIResourceInfo(group: group, version: version, name: name, singularName: "", kind: kind, namespaced: namespaced,
                        shortNames: short, categories: categories)
    }

    private var mapper: RESTMapper {
        RESTMapper(resources: DiscoveredResources(entries: [
            .init(resource: resource("", "v1", "pods", "Pod", short: ["po"], categories: ["all"]), preferred: true),
            .init(resource: resource("", "v1", "pods/log", "Pod"), preferred: true),
            .init(resource: resource("", "v1", "services", "Service", short: ["svc"], categories: ["all"]), preferred: true),
            .init(resource: resource("", "v1", "events", "Event", short: ["ev"]), preferred: true),
            .init(resource: resource("", "v1", "nodes", "Node", namespaced: false, short: ["no"]), preferred: true),
            .init(resource: resource("apps", "v1", "deployments", "Deployment", short: ["deploy"], categories: ["all"]), preferred: true),
            .init(resource: resource("events.k8s.io", "v1", "events", "Event", short: ["ev"]), preferred: true),
            .init(resource: resource("autoscaling", "v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler", short: ["hpa"], categories: ["all"]), preferred: true),
            .init(resource: resource("autoscaling", "v1", "horizontalpodautoscalers", "HorizontalPodAutoscaler", short: ["hpa"], categories: ["all"]), preferred: false),
        ]))
    }

    @Test func resolvesEveryFormKubectlAccepts() throws {
        for arg in ["po", "pod", "pods", "Pod", "PODS", "pods.v1."] where !arg.hasSuffix(".") {
            #expect(try mapper.resolve(arg).map(\.name) == ["pods"], "\(arg)")
        }
        #expect(try mapper.resource("deploy").group == "apps")
        #expect(try mapper.resource("deployments.apps").kind == "Deployment")
        #expect(try mapper.resource("deployment.v1.apps").version == "v1")
        #expect(try mapper.resource("hpa").version == "v2")
        #expect(try mapper.resource("horizontalpodautoscalers.v1.autoscaling").version == "v1")
        // The core group comes first in discovery, so it wins an ambiguous name.
        #expect(try mapper.resource("events").group == "")
        #expect(try mapper.resource("events.events.k8s.io").group == "events.k8s.io")
        #expect(throws: RESTMapperError.self) { try mapper.resolve("pods/log") }
        #expect(throws: RESTMapperError.self) { try mapper.resolve("nosuch") }
        #expect(RESTMapperError(argument: "nosuch").description == "the server doesn't have a resource type \"nosuch\"")
    }

    @Test func categoriesExpandInDiscoveryOrderOverPreferredVersions() throws {
        #expect(try mapper.resolve("all").map(\.groupResource) == ["pods", "services", "deployments.apps", "horizontalpodautoscalers.autoscaling"])
    }

    @Test func findsTheResourceForAnObjectsApiVersionAndKind() {
        #expect(mapper.resource(apiVersion: "apps/v1", kind: "Deployment")?.name == "deployments")
        #expect(mapper.resource(apiVersion: "autoscaling/v1", kind: "HorizontalPodAutoscaler")?.version == "v1")
        #expect(mapper.resource(apiVersion: "v1", kind: "Nope") == nil)
    }

    @Test func cacheDirectoryIsNamedLikeKubectls() {
        #expect(DiscoveryCache.hostDirectory("https://127.0.0.1:6443") == "127.0.0.1_6443")
        #expect(DiscoveryCache.hostDirectory("http://my-host.example:8080/prefix") == "my_host.example_8080/prefix")
        let cache = DiscoveryCache(cacheDir: "/c", server: "https://10.0.0.1:443")
        #expect(cache.groupsFile == "/c/discovery/10.0.0.1_443/servergroups.json")
        #expect(cache.resourcesFile(groupVersion: "apps/v1") == "/c/discovery/10.0.0.1_443/apps/v1/serverresources.json")
        #expect(cache.resourcesFile(groupVersion: "v1") == "/c/discovery/10.0.0.1_443/v1/serverresources.json")
    }

    @Test func cachedFilesExpireAfterTheirTTL() throws {
        let dir = NSTemporaryDirectory() + "disc-" + UUID().uuidString
        let cache = DiscoveryCache(cacheDir: dir, server: "https://h:1", ttl: 60)
        let value: JSONValue = ["kind": "APIGroupList", "groups": .array([])]
        cache.write(value, to: cache.groupsFile)
        #expect(cache.read(cache.groupsFile) == value)
        #expect(cache.read(cache.groupsFile, now: Date().addingTimeInterval(61)) == nil)
        cache.invalidate()
        #expect(cache.read(cache.groupsFile) == nil)
    }
}
