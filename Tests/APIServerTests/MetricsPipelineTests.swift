import Foundation
import Logging
import Testing

@testable import APIServer
@testable import KubeModel

/// The API server's side of the metrics feed: Prometheus text parsing, rates between two
/// samples at given times, and the JSON the metrics APIs answer.
@Suite struct MetricsPipelineTests {
    static let kubeletText = """
        # HELP container_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the container in core-seconds
        # TYPE container_cpu_usage_seconds_total counter
        container_cpu_usage_seconds_total{container="app",namespace="shop",pod="web-1"} 10.5 1700000010000
        container_cpu_usage_seconds_total{container="side",namespace="shop",pod="web-1"} 1 1700000010000
        # TYPE container_memory_working_set_bytes gauge
        container_memory_working_set_bytes{container="app",namespace="shop",pod="web-1"} 52428800 1700000010000
        container_memory_working_set_bytes{container="side",namespace="shop",pod="web-1"} 1.048576e+06 1700000010000
        container_start_time_seconds{container="app",namespace="shop",pod="web-1"} 1.7e+09 1700000010000
        container_start_time_seconds{container="side",namespace="shop",pod="web-1"} 1.7e+09 1700000010000
        node_cpu_usage_seconds_total 100 1700000010000
        node_memory_working_set_bytes 1073741824 1700000010000
        resource_scrape_error 0
        """

    static func later(cpuApp: Double, cpuSide: Double, node: Double, ms: Int64) -> String {
        kubeletText.replacingOccurrences(of: "10.5 1700000010000", with: "\(cpuApp) \(ms)")
            .replacingOccurrences(of: "} 1 1700000010000", with: "} \(cpuSide) \(ms)")
            .replacingOccurrences(of: "node_cpu_usage_seconds_total 100 1700000010000", with: "node_cpu_usage_seconds_total \(node) \(ms)")
            .replacingOccurrences(of: "1700000010000", with: "\(ms)")
    }

    @Test func prometheusTextParsesLabelsEscapesTypesAndTimestamps() {
        let text = PrometheusText.parse("""
            # HELP x_total help with "quotes"
            # TYPE x_total counter
            x_total{path="/a\\"b",code="200"} 3 1700000000123
            x_total{ path = "/c\\\\d" , code="500", } 1.5e+01
            up 1
            broken{path="unterminated} 1
            not a sample
            """)
        #expect(text.types == ["x_total": "counter"])
        #expect(text.samples == [
            .init(name: "x_total", labels: ["path": "/a\"b", "code": "200"], value: 3, timestampMs: 1_700_000_000_123),
            .init(name: "x_total", labels: ["path": "/c\\d", "code": "500"], value: 15, timestampMs: nil),
            .init(name: "up", labels: [:], value: 1, timestampMs: nil),
        ])
    }

    @Test func kubeletScrapeDecodesNodeAndContainers() {
        let scrape = KubeletScrape.decode(Self.kubeletText, receivedAt: Date(timeIntervalSince1970: 0))
        let t = Date(timeIntervalSince1970: 1_700_000_010)
        #expect(scrape.node == UsagePoint(timestamp: t, cpuSeconds: 100, memoryBytes: 1 << 30, startTime: nil))
        #expect(scrape.containers[.init(namespace: "shop", pod: "web-1", container: "app")]
            == UsagePoint(timestamp: t, cpuSeconds: 10.5, memoryBytes: 50 << 20, startTime: Date(timeIntervalSince1970: 1.7e9)))
        #expect(scrape.containers[.init(namespace: "shop", pod: "web-1", container: "side")]?.memoryBytes == 1 << 20)
    }

    @Test func cpuIsTheRateBetweenTwoSamplesAndNeedsBoth() throws {
        let cache = ResourceMetricsCache()
        cache.record(node: "n1", KubeletScrape.decode(Self.kubeletText, receivedAt: Date()))
        // One sample: no rate yet, for the node or the pod.
        #expect(cache.node("n1") == nil)
        #expect(cache.pod(namespace: "shop", name: "web-1") == nil)
        // 1.5 s later: app used 0.75 s of CPU (0.5 cores), side none; the node 3 s (2 cores).
        cache.record(node: "n1", KubeletScrape.decode(Self.later(cpuApp: 11.25, cpuSide: 1, node: 103, ms: 1_700_000_011_500), receivedAt: Date()))
        let node = try #require(cache.node("n1"))
        #expect(node.window == 1.5 && node.cpuCores == 2 && node.memoryBytes == 1 << 30)
        let pod = try #require(cache.pod(namespace: "shop", name: "web-1"))
        #expect(pod.window == 1.5)
        #expect(pod.containers.map(\.name) == ["app", "side"])
        #expect(pod.containers.map(\.usage.cpuCores) == [0.5, 0])
        // The same scrape again changes nothing; a later one moves the window on.
        cache.record(node: "n1", KubeletScrape.decode(Self.later(cpuApp: 11.25, cpuSide: 1, node: 103, ms: 1_700_000_011_500), receivedAt: Date()))
        #expect(cache.node("n1")?.window == 1.5)
        cache.record(node: "n1", KubeletScrape.decode(Self.later(cpuApp: 12.25, cpuSide: 1.25, node: 104, ms: 1_700_000_012_500), receivedAt: Date()))
        #expect(cache.pod(namespace: "shop", name: "web-1")?.containers.map(\.usage.cpuCores) == [1, 0.25])
        // A node that drops out takes its pods with it.
        cache.forget(node: "n1")
        #expect(cache.pods(namespace: nil).isEmpty && cache.node("n1") == nil)
    }

    @Test func aRestartedContainerStartsItsSeriesOver() {
        let t0 = Date(timeIntervalSince1970: 100)
        var series = UsageSeries(UsagePoint(timestamp: t0, cpuSeconds: 50, memoryBytes: 1, startTime: Date(timeIntervalSince1970: 1)))
        series = series.adding(UsagePoint(timestamp: t0 + 1, cpuSeconds: 0.25, memoryBytes: 1, startTime: Date(timeIntervalSince1970: 100.5)))
        #expect(series.rate == nil)
        series = series.adding(UsagePoint(timestamp: t0 + 2, cpuSeconds: 0.75, memoryBytes: 2, startTime: Date(timeIntervalSince1970: 100.5)))
        #expect(series.rate == UsageRate(timestamp: t0 + 2, window: 1, cpuCores: 0.5, memoryBytes: 2))
    }

    @Test func customMetricsServeCounterRatesAndGauges() throws {
        let cache = CustomMetricsCache()
        let pod = CustomMetricsCache.PodKey(namespace: "d", name: "p")
        let t0 = Date(timeIntervalSince1970: 1000)
        cache.record(pod: pod, text: """
            # TYPE http_requests_total counter
            http_requests_total{path="/",code="200"} 100
            http_requests_total{path="/",code="500"} 10
            # TYPE queue_depth gauge
            queue_depth{queue="a"} 3
            queue_depth{queue="b"} 4
            # TYPE latency histogram
            latency_bucket{le="1"} 5
            """, at: t0)
        #expect(cache.value(pod: pod, metric: "http_requests_per_second") == nil)
        #expect(cache.value(pod: pod, metric: "queue_depth") == .init(value: 7, timestamp: t0, windowSeconds: nil))
        cache.record(pod: pod, text: """
            # TYPE http_requests_total counter
            http_requests_total{path="/",code="200"} 130
            http_requests_total{path="/",code="500"} 20
            http_requests_total{path="/new",code="200"} 1000
            """, at: t0 + 2)
        // (30 + 10) / 2 s; the series new in this scrape has no rate yet.
        #expect(cache.value(pod: pod, metric: "http_requests_per_second") == .init(value: 20, timestamp: t0 + 2, windowSeconds: 2))
        #expect(cache.metricNames() == ["http_requests_per_second"])
        #expect(cache.value(pod: pod, metric: "latency_bucket") == nil)
    }

    // MARK: the APIs' JSON

    func makeAPIs() async throws -> (MetricsAPIs, Discovery) {
        let registry = Registry(store: try SQLiteStore(path: nil, historySize: 1000), catalog: ResourceCatalog(BuiltinResources.all))
        try await APIServerBuilder.bootstrap(registry)
        let pod: JSONValue = ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": "web-1", "namespace": "default", "labels": ["app": "web"]],
                              "spec": ["containers": [["name": "app", "image": "x"], ["name": "side", "image": "x"]]]]
        _ = try await registry.create(registry.catalog.strategy(group: "", plural: "pods")!, version: "v1", namespace: "default", body: pod,
                                      options: WriteOptions())
        let node: JSONValue = ["apiVersion": "v1", "kind": "Node", "metadata": ["name": "n1", "labels": ["zone": "a"]]]
        _ = try await registry.create(registry.catalog.strategy(group: "", plural: "nodes")!, version: "v1", namespace: nil, body: node,
                                      options: WriteOptions())
        let apis = MetricsAPIs(registry: registry, now: { Date(timeIntervalSince1970: 1_700_000_100) })
        let text = Self.kubeletText.replacingOccurrences(of: "namespace=\"shop\"", with: "namespace=\"default\"")
        apis.resources.record(node: "n1", KubeletScrape.decode(text, receivedAt: Date()))
        apis.resources.record(node: "n1", KubeletScrape.decode(Self.later(cpuApp: 11.25, cpuSide: 1, node: 103, ms: 1_700_000_011_500)
            .replacingOccurrences(of: "namespace=\"shop\"", with: "namespace=\"default\""), receivedAt: Date()))
        return (apis, Discovery(catalog: registry.catalog))
    }

    func get(_ apis: MetricsAPIs, _ discovery: Discovery, _ path: String, _ query: String? = nil) async throws -> JSONValue? {
        try await apis.answer(method: "GET", path: path, query: QueryParameters(query), body: { [:] }, discovery: discovery)
    }

    @Test func podAndNodeMetricsHaveMetricsServersShape() async throws {
        let (apis, discovery) = try await makeAPIs()
        let pod = try #require(try await get(apis, discovery, "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/web-1"))
        #expect(pod["kind"] == "PodMetrics" && pod["apiVersion"] == "metrics.k8s.io/v1beta1")
        #expect(pod[path: ["metadata", "labels"]] == ["app": "web"])
        #expect(pod["timestamp"] == "2023-11-14T22:13:31Z" && pod["window"] == "1.5s")
        #expect(pod["containers"] == [["name": "app", "usage": ["cpu": "500m", "memory": "50Mi"]],
                                      ["name": "side", "usage": ["cpu": "0", "memory": "1Mi"]]])
        let list = try #require(try await get(apis, discovery, "/apis/metrics.k8s.io/v1beta1/pods", "labelSelector=app%3Dweb"))
        #expect(list["kind"] == "PodMetricsList" && list["items"]?.arrayValue?.count == 1)
        let byName = try await get(apis, discovery, "/apis/metrics.k8s.io/v1beta1/pods", "fieldSelector=metadata.name%3Dweb-1")
        #expect(byName?["items"]?.arrayValue?.count == 1)
        let none = try await get(apis, discovery, "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods", "labelSelector=app%3Dother")
        #expect(none?["items"] == [])
        let node = try #require(try await get(apis, discovery, "/apis/metrics.k8s.io/v1beta1/nodes/n1"))
        #expect(node["kind"] == "NodeMetrics" && node["usage"] == ["cpu": "2", "memory": "1Gi"])
        await #expect(throws: APIError.self) { try await get(apis, discovery, "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/nope") }
        await #expect(throws: APIError.self) { try await get(apis, discovery, "/apis/metrics.k8s.io/v1beta1/pods", "labelSelector=%21%21") }
    }

    @Test func discoveryListsTheMetricsGroups() async throws {
        let (apis, discovery) = try await makeAPIs()
        func groups() async throws -> [String] {
            try #require(try await get(apis, discovery, "/apis"))["groups"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
        }
        // The custom and external groups are listed once they have a metric (clients fail on empty groups).
        let before = try await groups()
        #expect(before.contains("apps") && before.contains("metrics.k8s.io"))
        #expect(!before.contains("custom.metrics.k8s.io") && !before.contains("external.metrics.k8s.io"))
        apis.custom.record(pod: .init(namespace: "default", name: "web-1"), text: "queue_depth 3\n", at: Date())
        apis.external.put(namespace: "default", metric: "backlog", [.init(labels: [:], value: "1", timestamp: Date())])
        let after = try await groups()
        #expect(after.contains("custom.metrics.k8s.io") && after.contains("external.metrics.k8s.io"))
        let list = try #require(try await get(apis, discovery, "/apis/metrics.k8s.io/v1beta1"))
        #expect(list["resources"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["nodes", "pods"])
        #expect(try await get(apis, discovery, "/apis/apps/v1") == nil)
    }

    @Test func externalMetricsArePushedAndReadBackBySelector() async throws {
        let (apis, discovery) = try await makeAPIs()
        let path = "/apis/external.metrics.k8s.io/v1beta1/namespaces/default/queue_depth"
        let body: JSONValue = ["kind": "ExternalMetricValueList", "apiVersion": "external.metrics.k8s.io/v1beta1", "items": [
            ["metricLabels": ["queue": "a"], "value": "42"],
            ["metricName": "queue_depth", "metricLabels": ["queue": "b"], "value": "1500m", "timestamp": "2023-11-14T22:00:00Z"],
        ]]
        let put = try #require(try await apis.answer(method: "PUT", path: path, query: QueryParameters(nil), body: { body }, discovery: discovery))
        #expect(put["items"]?.arrayValue?.count == 2)
        let a = try #require(try await get(apis, discovery, path, "labelSelector=queue%3Da"))
        #expect(a["kind"] == "ExternalMetricValueList")
        #expect(a["items"] == [["metricName": "queue_depth", "metricLabels": ["queue": "a"], "timestamp": "2023-11-14T22:15:00Z", "value": "42"]])
        let bad: JSONValue = ["kind": "ExternalMetricValueList", "items": [["value": "lots"]]]
        await #expect(throws: APIError.self) {
            try await apis.answer(method: "PUT", path: path, query: QueryParameters(nil), body: { bad }, discovery: discovery)
        }
        // A rejected push changes nothing.
        #expect(try await get(apis, discovery, path)?["items"]?.arrayValue?.count == 2)
        await #expect(throws: APIError.self) { try await get(apis, discovery, "/apis/external.metrics.k8s.io/v1beta1/namespaces/default/unknown") }
    }

    @Test func customMetricsForPodsAndServices() async throws {
        let (apis, discovery) = try await makeAPIs()
        let pod = CustomMetricsCache.PodKey(namespace: "default", name: "web-1")
        apis.custom.record(pod: pod, text: "http_requests_total 10\n", at: Date(timeIntervalSince1970: 1_700_000_000))
        apis.custom.record(pod: pod, text: "http_requests_total 25\n", at: Date(timeIntervalSince1970: 1_700_000_010))
        let list = try #require(try await get(apis, discovery, "/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/*/http_requests_per_second",
                                              "labelSelector=app%3Dweb"))
        #expect(list["kind"] == "MetricValueList")
        #expect(list["items"] == [[
            "describedObject": ["kind": "Pod", "namespace": "default", "name": "web-1", "apiVersion": "/v1"],
            "metric": ["name": "http_requests_per_second"], "timestamp": "2023-11-14T22:13:30Z", "windowSeconds": 10, "value": "1500m",
        ]])
        // kubectl sends the wildcard escaped.
        let escaped = try await get(apis, discovery, "/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/%2A/http_requests_per_second")
        #expect(escaped?["items"] == list["items"])
        let resources = try #require(try await get(apis, discovery, "/apis/custom.metrics.k8s.io/v1beta2"))["resources"]
        #expect(resources?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["pods/http_requests_per_second", "services/http_requests_per_second"])
        await #expect(throws: APIError.self) {
            try await get(apis, discovery, "/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/*/no_such_metric")
        }
    }

    @Test func aNodeThatCannotBeScrapedDropsOutAndNothingElseBreaks() async throws {
        let (apis, discovery) = try await makeAPIs()
        // A Ready node whose kubelet port on loopback has nobody listening.
        let closed = try Self.closedLoopbackPort()
        let node: JSONValue = ["apiVersion": "v1", "kind": "Node", "metadata": ["name": "gone"], "status": [
            "conditions": [["type": "Ready", "status": "True"]], "addresses": [["type": "InternalIP", "address": "127.0.0.1"]],
            "daemonEndpoints": ["kubeletEndpoint": ["Port": .int(Int64(closed))]],
        ]]
        let nodes = try #require(apis.registry.catalog.strategy(group: "", plural: "nodes"))
        _ = try await apis.registry.create(nodes, version: "v1", namespace: nil, body: node, options: WriteOptions())
        apis.resources.record(node: "gone", KubeletScrape.decode(Self.kubeletText, receivedAt: Date()))
        #expect(apis.resources.nodeNames.contains("gone"))
        let scraper = MetricsScraper(registry: apis.registry, metrics: apis, kubelets: try KubeletClientConfig(clientCertificate: nil),
                                     resolution: .seconds(1), logger: Logger(label: "test"))
        await scraper.scrapeNodes()
        // The unreachable node is gone; n1 (not Ready: no status) is dropped too; the API still answers.
        #expect(!apis.resources.nodeNames.contains("gone"))
        #expect(apis.resources.node("n1") == nil)
        let list = try await get(apis, discovery, "/apis/metrics.k8s.io/v1beta1/nodes")
        #expect(list?["items"] == [])
    }

    @Test func podsThatAskToBeScrapedAreFoundOnEveryPage() async throws {
        let (apis, _) = try await makeAPIs()
        let pods = try #require(apis.registry.catalog.strategy(group: "", plural: "pods"))
        func pod(_ name: String, annotated: Bool, phase: String) -> JSONValue {
            var meta: JSONValue = ["name": .string(name), "namespace": "default"]
            if annotated { meta["annotations"] = ["prometheus.io/scrape": "true", "prometheus.io/port": "9100"] }
            return ["apiVersion": "v1", "kind": "Pod", "metadata": meta,
                    "spec": ["containers": [["name": "app", "image": "x"]]],
                    "status": ["phase": .string(phase), "podIP": "10.42.0.7"]]
        }
        for (name, annotated, phase) in [("a", true, "Running"), ("b", false, "Running"), ("c", true, "Pending"),
                                         ("d", true, "Running"), ("e", false, "Running"), ("f", true, "Running")] {
            let created = try await apis.registry.create(pods, version: "v1", namespace: "default", body: pod(name, annotated: annotated, phase: "Pending"),
                                                         options: WriteOptions())
            var status = created.object
            status["status"] = ["phase": .string(phase), "podIP": "10.42.0.7"]
            _ = try await apis.registry.update(pods, version: "v1", namespace: "default", name: name, body: status,
                                               target: .status, options: WriteOptions())
        }
        let scraper = MetricsScraper(registry: apis.registry, metrics: apis, kubelets: try KubeletClientConfig(clientCertificate: nil),
                                     resolution: .seconds(1), logger: Logger(label: "test"))
        // Pages of two: the running, annotated pods on every page are found, and nothing else.
        let targets = try #require(await scraper.customMetricsTargets(pageSize: 2))
        #expect(targets.map(\.pod.name).sorted() == ["a", "d", "f"])
        #expect(targets.first?.url == "http://10.42.0.7:9100/metrics")
        #expect(MetricsScraper.contains(Data("{\"prometheus.io/scrape\":\"true\"}".utf8), MetricsScraper.scrapeAnnotationBytes))
        #expect(!MetricsScraper.contains(Data("{\"prometheus.io/port\":\"1\"}".utf8), MetricsScraper.scrapeAnnotationBytes))
    }

    @Test func readyKubeletsAreFoundOnEveryPage() async throws {
        let (apis, _) = try await makeAPIs()
        let nodes = try #require(apis.registry.catalog.strategy(group: "", plural: "nodes"))
        for i in 0..<5 {
            let node: JSONValue = ["apiVersion": "v1", "kind": "Node", "metadata": ["name": .string("k\(i)")], "status": [
                "conditions": [["type": "Ready", "status": i == 2 ? "False" : "True"]],
                "addresses": [["type": "InternalIP", "address": "127.0.0.1"]],
                "daemonEndpoints": ["kubeletEndpoint": ["Port": .int(Int64(10250 + i))]],
            ]]
            _ = try await apis.registry.create(nodes, version: "v1", namespace: nil, body: node, options: WriteOptions())
        }
        let scraper = MetricsScraper(registry: apis.registry, metrics: apis, kubelets: try KubeletClientConfig(clientCertificate: nil),
                                     resolution: .seconds(1), logger: Logger(label: "test"))
        // n1 from makeAPIs has no status: not Ready. k2 is not Ready.
        let ready = try #require(await scraper.readyKubelets(pageSize: 2))
        #expect(ready.map(\.node) == ["k0", "k1", "k3", "k4"])
        #expect(ready.map(\.port) == [10250, 10251, 10253, 10254])
    }

    /// A loopback port that was free a moment ago: bound, then closed.
    static func closedLoopbackPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &addr) { ptr in
            ptr.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        guard bound else { throw CocoaError(.fileNoSuchFile) }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}
