import Foundation
import Testing
@testable import APIServer
import KubeModel

/// APIService validation and table as kube-aggregator's, the Local APIServices' priorities,
/// the order of remote groups in discovery, and which headers the aggregation proxy passes on.
@Suite struct APIServiceTests {
    let strategy = APIServiceStrategy()

    func apiService(_ name: String, _ spec: JSONValue, status: JSONValue? = nil) -> JSONValue {
        var o: JSONValue = ["apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
                            "metadata": ["name": .string(name), "creationTimestamp": "2026-01-01T00:00:00Z"], "spec": spec]
        if let status { o["status"] = status }
        return o
    }

    let remote: JSONValue = ["group": "wardle.example.com", "version": "v1alpha1", "groupPriorityMinimum": 1000, "versionPriority": 15,
                             "service": ["namespace": "w", "name": "api"], "insecureSkipTLSVerify": true]

    @Test func validRemoteAndLocal() {
        var o = apiService("v1alpha1.wardle.example.com", remote)
        strategy.applyDefaults(to: &o)
        #expect(o[path: ["spec", "service", "port"]] == 443)
        #expect(strategy.validate(o).isEmpty)
        let core = apiService("v1.", ["version": "v1", "groupPriorityMinimum": 18000, "versionPriority": 1])
        #expect(strategy.validate(core).isEmpty)
    }

    @Test func refusesWhatKubeAggregatorRefuses() {
        func fields(_ o: JSONValue) -> [String] { strategy.validate(o).map(\.field) }
        #expect(fields(apiService("v2.wardle.example.com", remote)) == ["metadata.name"])
        var spec = remote
        spec["groupPriorityMinimum"] = 0
        spec["versionPriority"] = 1001
        #expect(fields(apiService("v1alpha1.wardle.example.com", spec)) == ["spec.groupPriorityMinimum", "spec.versionPriority"])
        spec = remote
        spec["caBundle"] = .string(Data("pem".utf8).base64EncodedString())
        #expect(fields(apiService("v1alpha1.wardle.example.com", spec)) == ["spec.insecureSkipTLSVerify"])
        spec = remote
        spec["service"] = nil
        #expect(fields(apiService("v1alpha1.wardle.example.com", spec)) == ["spec.insecureSkipTLSVerify"])
        spec = remote
        spec["service"] = ["namespace": "", "name": "api", "port": 70000]
        #expect(fields(apiService("v1alpha1.wardle.example.com", spec)) == ["spec.service.namespace", "spec.service.port"])
    }

    @Test func tableAsKubectlPrintsIt() {
        let now = Date(timeIntervalSince1970: 1_767_225_600 + 120)
        #expect(strategy.tableColumns.map(\.name) == ["Name", "Service", "Available", "Age"])
        let local = apiService("v1.apps", ["group": "apps", "version": "v1", "groupPriorityMinimum": 17800, "versionPriority": 15],
                               status: ["conditions": [["type": "Available", "status": "True", "reason": "Local"]]])
        #expect(strategy.tableCells(for: local, now: now) == ["v1.apps", "Local", "True", "2m"])
        let down = apiService("v1alpha1.wardle.example.com", remote,
                              status: ["conditions": [["type": "Available", "status": "False", "reason": "MissingEndpoints"]]])
        #expect(strategy.tableCells(for: down, now: now) == ["v1alpha1.wardle.example.com", "w/api", "False (MissingEndpoints)", "2m"])
    }

    @Test func backendReadsTheSpec() {
        var spec = remote
        spec["insecureSkipTLSVerify"] = nil
        spec["caBundle"] = .string(Data("-----BEGIN CERTIFICATE-----\n".utf8).base64EncodedString())
        let backend = APIServiceBackend(apiService: apiService("v1alpha1.wardle.example.com", spec))
        #expect(backend?.host == "api.w.svc" && backend?.port == 443 && backend?.insecureSkipTLSVerify == false)
        #expect(backend?.caBundle == "-----BEGIN CERTIFICATE-----\n")
        #expect(APIServiceBackend(apiService: apiService("v1.apps", ["group": "apps", "version": "v1"])) == nil)
    }

    @Test func remoteGroupsByPriority() throws {
        let apis = AggregatedAPIs()
        let backend = try #require(APIServiceBackend(apiService: apiService("v1alpha1.wardle.example.com", remote)))
        func entry(_ group: String, _ version: String, _ gp: Int64, _ vp: Int64, discovered: Bool = true) -> AggregatedAPIs.Remote {
            AggregatedAPIs.Remote(name: "\(version).\(group)", group: group, version: version, backend: backend, groupPriority: gp,
                                  versionPriority: vp, resources: discovered ? ["kind": "APIResourceList"] : nil)
        }
        apis.replace([entry("b.example.com", "v1", 100, 10), entry("a.example.com", "v1", 100, 10),
                      entry("c.example.com", "v1beta1", 2000, 10), entry("c.example.com", "v1", 2000, 20),
                      entry("down.example.com", "v1", 5000, 10, discovered: false), entry("apps", "v2", 100, 10)])
        let groups = apis.groups(excluding: ["apps"])
        #expect(groups.map(\.name) == ["c.example.com", "a.example.com", "b.example.com"])
        #expect(groups.first?.versions == ["v1", "v1beta1"])
        #expect(apis.remote(group: "down.example.com", version: "v1") != nil)
        #expect(apis.remote(group: "down.example.com", version: "v2") == nil)
    }

    @Test func proxyDropsCredentialsAndSpoofedIdentity() {
        for header in ["Authorization", "Impersonate-User", "Impersonate-Group", "X-Remote-User", "x-remote-group", "X-Remote-Extra-Scopes",
                       "Host", "Connection", "Content-Length", "Transfer-Encoding"] {
            #expect(!APIServiceProxy.forwarded(header), "\(header)")
        }
        for header in ["Accept", "Content-Type", "User-Agent", "Accept-Encoding"] { #expect(APIServiceProxy.forwarded(header)) }
        #expect(APIServiceProxy.returned("Content-Type") && !APIServiceProxy.returned("Transfer-Encoding"))
    }

    @Test func localPrioritiesAreKubeApiserversDefaults() {
        #expect(LocalAPIServices.priorities["/v1"].map { $0 == (18000, 1) } == true)
        #expect(LocalAPIServices.priorities["autoscaling/v2"].map { $0 == (17500, 30) } == true)
        #expect(LocalAPIServices.Desired(group: "", version: "v1", groupPriority: 1, versionPriority: 1, automanaged: "onstart").name == "v1.")
    }
}
