import AsyncHTTPClient
import Foundation
import KubeModel
import Logging
import NIOCore
import ServiceLifecycle

/// Fills the metrics caches every `resolution`: scrapes each Ready node's kubelet at
/// `/metrics/resource` (with the API server's kubelet client certificate), and each running
/// pod annotated `prometheus.io/scrape: "true"` at `prometheus.io/port` and
/// `prometheus.io/path` (default `/metrics`) over plain HTTP on its pod IP. A node that cannot
/// be scraped drops out of the cache until it can be again, with one log line.
public struct MetricsScraper: Service {
    let registry: Registry
    let metrics: MetricsAPIs
    let kubelets: KubeletClientConfig
    let resolution: Duration
    let logger: Logger
    private let failing = Locked<Set<String>>([])

    public static let scrapeAnnotation = "prometheus.io/scrape"
    /// Kubelets scraped at once, and at most how many a second. Thousands of nodes are scraped
    /// a few dozen at a time, each over a connection of its own (at most 100 TLS handshakes a
    /// second) rather than with thousands of handshakes in the same instant, and the scrapes'
    /// share of the control plane stays bounded: beyond 1,500 nodes a round outlasts the 15 s
    /// resolution and delays the next one.
    static let nodeScrapeConcurrency = 32
    static let maxNodeScrapesPerSecond = 100
    public static let portAnnotation = "prometheus.io/port"
    public static let pathAnnotation = "prometheus.io/path"

    init(registry: Registry, metrics: MetricsAPIs, kubelets: KubeletClientConfig, resolution: Duration, logger: Logger) {
        self.registry = registry
        self.metrics = metrics
        self.kubelets = kubelets
        self.resolution = resolution
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            let clock = ContinuousClock()
            var next = clock.now
            while !Task.isCancelled {
                await scrapeOnce()
                next = max(next.advanced(by: resolution), clock.now)
                do { try await Task.sleep(until: next, clock: clock) } catch { return }
            }
        }
    }

    /// How long one scrape may take: the resolution, but no less than 5 s on a loaded machine.
    var timeout: TimeAmount { .seconds(max(5, resolution.components.seconds)) }

    func scrapeOnce() async {
        async let nodes: Void = scrapeNodes()
        async let pods: Void = scrapePods()
        _ = await (nodes, pods)
    }

    func scrapeNodes() async {
        guard let ready = await readyKubelets() else { return }
        for gone in metrics.resources.nodeNames.subtracting(ready.map(\.node)) { metrics.resources.forget(node: gone) }
        let clock = ContinuousClock()
        let spacing = Duration.seconds(1) / Self.maxNodeScrapesPerSecond
        var slot = clock.now
        await withTaskGroup(of: Void.self) { group in
            var running = 0
            for target in ready {
                if running >= Self.nodeScrapeConcurrency {
                    await group.next()
                    running -= 1
                }
                if slot > clock.now {
                    do { try await Task.sleep(until: slot, clock: clock) } catch { break }
                }
                slot = slot.advanced(by: spacing)
                group.addTask { await scrape(target) }
                running += 1
            }
        }
    }

    private func scrape(_ target: KubeletTarget) async {
        var request = HTTPClientRequest(url: "https://\(target.authority)/metrics/resource")
        request.tlsConfiguration = kubelets.tls
        // Not kept for the next round: an idle TLS connection holds some 60 KB of buffers on
        // each side, 300 MB in this server alone with 5,000 nodes, to save one handshake
        // every 15 s per node.
        request.headers.add(name: "connection", value: "close")
        do {
            let text = try await fetch(request)
            metrics.resources.record(node: target.node, KubeletScrape.decode(text, receivedAt: Date()))
            if failing.withLock({ $0.remove(target.node) }) != nil {
                logger.info("metrics scrape of node succeeds again", metadata: ["node": .string(target.node)])
            }
        } catch {
            metrics.resources.forget(node: target.node)
            if failing.withLock({ $0.insert(target.node).inserted }) {
                logger.warning("unable to scrape the kubelet's resource metrics: node left out of metrics.k8s.io",
                               metadata: ["node": .string(target.node), "kubelet": .string(target.authority), "error": .string("\(error)")])
            }
        }
    }

    func scrapePods() async {
        guard let targets = await customMetricsTargets() else { return }
        metrics.custom.retain(Set(targets.map(\.pod)))
        await withTaskGroup(of: Void.self) { group in
            for target in targets {
                group.addTask {
                    do {
                        let text = try await fetch(HTTPClientRequest(url: target.url))
                        metrics.custom.record(pod: target.pod, text: text, at: Date())
                    } catch {
                        metrics.custom.forget(target.pod)
                        logger.debug("custom metrics scrape failed", metadata: ["pod": .string("\(target.pod.namespace)/\(target.pod.name)"),
                                                                                "error": .string("\(error)")])
                    }
                }
            }
        }
    }

    /// The kubelets of the Ready nodes; nil when the nodes cannot be read. Nodes are read a
    /// page at a time: a round holds one page of parsed nodes, not thousands.
    func readyKubelets(pageSize: Int = 500) async -> [KubeletTarget]? {
        guard let strategy = registry.catalog.strategy(group: "", plural: "nodes") else { return nil }
        var ready: [KubeletTarget] = []
        do {
            try await registry.forEachStoredPage(strategy, pageSize: pageSize) { page in
                for item in page {
                    guard let node = try? JSONParser.parse(item.bytes), Self.isReady(node), let target = KubeletTarget.of(node: node) else { continue }
                    ready.append(target)
                }
            }
        } catch {
            return nil
        }
        return ready
    }

    /// The pods that ask to be scraped, and where; nil when the pods cannot be read. Only a pod
    /// whose stored bytes name the annotation is parsed: with 30,000 pods, parsing them all
    /// every round held some 300 MB for nothing.
    func customMetricsTargets(pageSize: Int = 500) async -> [(pod: ResourceMetricsCache.PodKey, url: String)]? {
        guard let strategy = registry.catalog.strategy(group: "", plural: "pods") else { return nil }
        var targets: [(pod: ResourceMetricsCache.PodKey, url: String)] = []
        do {
            try await registry.forEachStoredPage(strategy, pageSize: pageSize) { page in
                for item in page where Self.contains(item.bytes, Self.scrapeAnnotationBytes) {
                    if let pod = try? JSONParser.parse(item.bytes), let target = Self.customMetricsURL(pod) { targets.append(target) }
                }
            }
        } catch {
            return nil
        }
        return targets
    }

    private func fetch(_ request: HTTPClientRequest) async throws -> String {
        let response = try await KubeletClientConfig.httpClient.execute(request, timeout: timeout)
        let body = try await response.body.collect(upTo: 16 << 20)
        guard response.status == .ok else { throw ScrapeError(message: "answered \(response.status.code)") }
        return String(buffer: body)
    }

    struct ScrapeError: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    static func isReady(_ node: JSONValue) -> Bool {
        (node[path: ["status", "conditions"]]?.arrayValue ?? []).contains {
            $0["type"]?.stringValue == "Ready" && $0["status"]?.stringValue == "True"
        }
    }

    static let scrapeAnnotationBytes = Array("\"\(scrapeAnnotation)\"".utf8)

    /// Whether `needle` occurs in `data`.
    static func contains(_ data: Data, _ needle: [UInt8]) -> Bool {
        data.withUnsafeBytes { raw in
            needle.withUnsafeBytes { n in
                guard let hay = raw.baseAddress, let pin = n.baseAddress, let first = n.first, raw.count >= n.count else { return n.isEmpty }
                for i in 0...(raw.count - n.count) where raw[i] == first && memcmp(hay + i, pin, n.count) == 0 { return true }
                return false
            }
        }
    }

    /// Where a running pod that asks to be scraped serves its metrics; nil for any other pod.
    static func customMetricsURL(_ pod: JSONValue) -> (pod: ResourceMetricsCache.PodKey, url: String)? {
        let annotations = pod.annotations
        guard annotations[scrapeAnnotation] == "true", pod[path: ["status", "phase"]]?.stringValue == "Running",
              let ip = pod[path: ["status", "podIP"]]?.stringValue, !ip.isEmpty,
              let namespace = pod.namespace, let name = pod.name else { return nil }
        let firstPort = (pod[path: ["spec", "containers"]]?.arrayValue ?? []).lazy
            .compactMap { $0["ports"]?.arrayValue?.first?["containerPort"]?.intValue }.first
        guard let port = annotations[portAnnotation].flatMap({ Int($0) }) ?? firstPort.map(Int.init), (1...65535).contains(port) else { return nil }
        var path = annotations[pathAnnotation] ?? "/metrics"
        if !path.hasPrefix("/") { path = "/" + path }
        let host = ip.contains(":") ? "[\(ip)]" : ip
        return (ResourceMetricsCache.PodKey(namespace: namespace, name: name), "http://\(host):\(port)\(path)")
    }
}
