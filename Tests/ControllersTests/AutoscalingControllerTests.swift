import APIServer
import Foundation
import KubeModel
import Testing
@testable import Controllers
@testable import KubeClient

/// Metrics a test sets; a metric without values fails as the metrics API would.
final class FakeMetricsSource: MetricsSource, @unchecked Sendable {
    // Guarded by `lock`.
    private let lock = NSLock()
    private var cpu: [String: PodMetric] = [:]
    private var pods: [String: [String: PodMetric]] = [:]

    func setCPU(_ values: [String: Int64], at time: Date) {
        lock.withLock { cpu = values.mapValues { PodMetric(value: $0, timestamp: time, window: 15) } }
    }

    func setPodsMetric(_ name: String, _ values: [String: Int64], at time: Date) {
        lock.withLock { pods[name] = values.mapValues { PodMetric(value: $0, timestamp: time, window: 15) } }
    }

    func resourceMetrics(_ resource: String, container: String?, namespace: String, selector: String) async throws -> [String: PodMetric] {
        let cpu = lock.withLock { self.cpu }
        guard resource == "cpu", !cpu.isEmpty else { throw MetricsUnavailable("no metrics returned from resource metrics API") }
        return cpu
    }

    func podsMetric(_ name: String, namespace: String, selector: String, metricSelector: String?) async throws -> [String: PodMetric] {
        guard let values = lock.withLock({ pods[name] }) else { throw MetricsUnavailable("no metrics returned from custom metrics API") }
        return values
    }

    func objectMetric(_ name: String, namespace: String, object: MetricObjectReference, metricSelector: String?) async throws -> Int64 {
        throw MetricsUnavailable("no metrics returned from custom metrics API")
    }

    func externalMetric(_ name: String, namespace: String, metricSelector: String?) async throws -> [Int64] {
        throw MetricsUnavailable("no metrics returned from external metrics API")
    }
}

/// The autoscaler against the real API server with metrics from a fake source and a fixed
/// clock: it scales a Deployment through `/scale` and reports status, conditions and events as
/// Kubernetes does.
@Suite struct AutoscalingControllerTests {
    static let deployments = ResourcePath(group: "apps", version: "v1", plural: "deployments", namespace: "default")
    static let hpas = HorizontalPodAutoscalerController.resource.inNamespace("default")
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    static func pod(_ name: String) -> JSONValue {
        [
            "apiVersion": "v1", "kind": "Pod",
            "metadata": ["name": .string(name), "namespace": "default", "labels": ["app": "web"]],
            "spec": ["containers": [["name": "app", "image": "x", "resources": ["requests": ["cpu": "500m"]]]]],
            "status": ["phase": "Running", "startTime": "2026-01-01T00:00:00Z",
                       "conditions": [["type": "Ready", "status": "True", "lastTransitionTime": "2026-01-01T00:00:05Z"]]],
        ]
    }

    /// The REST source against the real metrics APIs (external values pushed as an operator
    /// does), and target kinds resolved through discovery.
    @Test(.timeLimit(.minutes(5))) func restSourceAndKindResolution() async throws {
        try await withAPIServer { client, _ in
            let path = "/apis/external.metrics.k8s.io/v1beta1/namespaces/default/queue_depth"
            _ = try await client.update(path, [
                "kind": "ExternalMetricValueList", "apiVersion": "external.metrics.k8s.io/v1beta1",
                "items": [["metricName": "queue_depth", "metricLabels": ["queue": "orders"], "value": "42"],
                          ["metricName": "queue_depth", "metricLabels": ["queue": "mail"], "value": "1500m"]],
            ])
            let resolver = ResourceKindResolver(client: client)
            let source = RESTMetricsSource(client: client, resolver: resolver)
            #expect(try await source.externalMetric("queue_depth", namespace: "default", metricSelector: "queue=orders") == [42000])
            #expect(Set(try await source.externalMetric("queue_depth", namespace: "default", metricSelector: nil)) == [42000, 1500])
            do {
                _ = try await source.externalMetric("queue_depth", namespace: "default", metricSelector: "queue=none")
                Issue.record("an empty answer must fail")
            } catch {
                #expect("\(error)" == "no metrics returned from external metrics API")
            }
            let deployments = try await resolver.resolve(apiVersion: "apps/v1", kind: "Deployment")
            #expect(deployments == .init(resource: ResourcePath(group: "apps", version: "v1", plural: "deployments"), hasScale: true))
            let services = try await resolver.resolve(apiVersion: "v1", kind: "Service")
            #expect(services.resource.plural == "services" && !services.hasScale)
            await #expect(throws: (any Error).self) { try await resolver.resolve(apiVersion: "apps/v1", kind: "Nothing") }
        }
    }

    @Test(.timeLimit(.minutes(5))) func scalesAndReports() async throws {
        try await withAPIServer { client, _ in try await scenario(client) }
    }

    func scenario(_ client: KubeRESTClient) async throws {
        _ = try await client.create(Self.deployments.path, [
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "web"],
            "spec": ["replicas": 2, "selector": ["matchLabels": ["app": "web"]],
                     "template": ["metadata": ["labels": ["app": "web"]], "spec": ["containers": [["name": "app", "image": "x"]]]]],
        ])
        _ = try await client.create(Self.hpas.path, [
            "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": ["name": "web"],
            "spec": ["scaleTargetRef": ["apiVersion": "apps/v1", "kind": "Deployment", "name": "web"], "minReplicas": 1, "maxReplicas": 10,
                     "metrics": [["type": "Resource", "resource": ["name": "cpu", "target": ["type": "Utilization", "averageUtilization": 50]]]]],
        ])
        let autoscalers = ObjectCache(), pods = ObjectCache()
        pods.put(Self.pod("web-a"))
        pods.put(Self.pod("web-b"))
        let metrics = FakeMetricsSource()
        let controller = HorizontalPodAutoscalerController(client: client, autoscalers: autoscalers, pods: pods, metrics: metrics,
                                                           now: { Self.now })
        func sync() async throws -> JSONValue {
            autoscalers.put(try await client.get(Self.hpas.named("web").path))
            #expect(try await controller.reconcile(key: "default/web") == .requeue(after: .seconds(15)))
            return try await client.get(Self.hpas.named("web").path)
        }
        func condition(_ hpa: JSONValue, _ type: String) -> (String, String, String)? {
            guard let c = hpa[path: ["status", "conditions"]]?.arrayValue?.first(where: { $0["type"]?.stringValue == type }) else { return nil }
            return (c["status"]?.stringValue ?? "", c["reason"]?.stringValue ?? "", c["message"]?.stringValue ?? "")
        }
        func events() async throws -> [(String, String, String)] {
            let items = try await client.list(ResourcePath.core("events", namespace: "default").path)["items"]?.arrayValue ?? []
            return items.filter { $0[path: ["involvedObject", "kind"]] == "HorizontalPodAutoscaler" }
                .map { ($0["type"]?.stringValue ?? "", $0["reason"]?.stringValue ?? "", $0["message"]?.stringValue ?? "") }
        }
        func replicas() async throws -> Int64? { try await client.get(Self.deployments.named("web").path)[path: ["spec", "replicas"]]?.intValue }

        // No metrics yet: nothing scales; ScalingActive says why, with Kubernetes' events.
        var hpa = try await sync()
        #expect(try await replicas() == 2)
        #expect(condition(hpa, "AbleToScale")?.1 == "SucceededGetScale")
        let failed = "failed to get cpu utilization: unable to get metrics for resource cpu: no metrics returned from resource metrics API"
        #expect(condition(hpa, "ScalingActive")! == ("False", "FailedGetResourceMetric", "the HPA was unable to compute the replica count: \(failed)"))
        #expect(hpa[path: ["status", "currentReplicas"]] == 2)
        var seen = try await events()
        #expect(seen.contains { $0 == ("Warning", "FailedGetResourceMetric", failed) })
        #expect(seen.contains { $0 == ("Warning", "FailedComputeMetricsReplicas",
                                       "invalid metrics (1 invalid out of 1), first error is: failed to get cpu resource metric value: \(failed)") })

        // The same failure next sync: one event, counted twice, as Kubernetes' recorder does.
        _ = try await sync()
        let failures = try await client.list(ResourcePath.core("events", namespace: "default").path)["items"]?.arrayValue?
            .filter { $0["reason"] == "FailedGetResourceMetric" } ?? []
        #expect(failures.count == 1 && failures.first?["count"] == 2)

        // 100% of requests against a 50% target: 4 wanted; without behavior, at most max(2×2, 4).
        metrics.setCPU(["web-a": 500, "web-b": 500], at: Self.now)
        hpa = try await sync()
        #expect(try await replicas() == 4)
        let status = hpa["status"] ?? .null
        #expect(status["currentReplicas"] == 2 && status["desiredReplicas"] == 4)
        #expect(status["lastScaleTime"] == .string(Timestamp.format(Self.now)))
        #expect(status["observedGeneration"] == hpa[path: ["metadata", "generation"]])
        #expect(status["currentMetrics"] == [["type": "Resource", "resource": ["name": "cpu", "current": ["averageUtilization": 100, "averageValue": "500m"]]]])
        #expect(condition(hpa, "AbleToScale")! == ("True", "SucceededRescale", "the HPA controller was able to update the target scale to 4"))
        #expect(condition(hpa, "ScalingActive")! == ("True", "ValidMetricFound",
                                                     "the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)"))
        #expect(condition(hpa, "ScalingLimited")! == ("False", "DesiredWithinRange", "the desired count is within the acceptable range"))
        seen = try await events()
        #expect(seen.contains { $0 == ("Normal", "SuccessfulRescale", "New size: 4; reason: cpu resource utilization (percentage of request) above target") })

        // Several metrics: the largest proposal wins (a Pods metric at 3× its target).
        hpa = try await client.get(Self.hpas.named("web").path)
        hpa[path: ["spec", "metrics"]] = .array((hpa[path: ["spec", "metrics"]]?.arrayValue ?? []) + [
            ["type": "Pods", "pods": ["metric": ["name": "http_requests_per_second"], "target": ["type": "AverageValue", "averageValue": "10"]]],
        ])
        _ = try await client.update(Self.hpas.named("web").path, hpa)
        pods.put(Self.pod("web-c"))
        pods.put(Self.pod("web-d"))
        metrics.setCPU(["web-a": 250, "web-b": 250, "web-c": 250, "web-d": 250], at: Self.now)
        metrics.setPodsMetric("http_requests_per_second", ["web-a": 30000, "web-b": 30000, "web-c": 30000, "web-d": 30000], at: Self.now)
        hpa = try await sync()
        #expect(try await replicas() == 8)
        #expect(hpa[path: ["status", "currentMetrics"]]?.arrayValue?.last == [
            "type": "Pods", "pods": ["metric": ["name": "http_requests_per_second"], "current": ["averageValue": "30"]]])
        seen = try await events()
        #expect(seen.contains { $0 == ("Normal", "SuccessfulRescale", "New size: 8; reason: pods metric http_requests_per_second above target") })

        // The target scaled to zero by hand: autoscaling is off.
        var scale = try await client.get(Self.deployments.named("web").path + "/scale")
        scale[path: ["spec", "replicas"]] = 0
        _ = try await client.update(Self.deployments.named("web").path + "/scale", scale)
        hpa = try await sync()
        #expect(try await replicas() == 0)
        #expect(condition(hpa, "ScalingActive")! == ("False", "ScalingDisabled", "scaling is disabled since the replica count of the target is zero"))

        // A missing target: FailedGetScale.
        _ = try await client.delete(Self.deployments.named("web").path)
        hpa = try await sync()
        #expect(condition(hpa, "AbleToScale")?.0 == "False")
        #expect(condition(hpa, "AbleToScale")?.1 == "FailedGetScale")
        seen = try await events()
        #expect(seen.contains { $0.1 == "FailedGetScale" })
    }
}
