import Foundation
import KubeModel
import KubeTesting
import Testing
@testable import Controllers
@testable import KubeClient

/// The autoscaler against the recording fake client, with metrics from a fake source and a
/// fixed clock: the exact requests of one sync. The same controller runs against the real
/// API server in AutoscalingControllerTests.
@Suite struct AutoscalingReconcilerTests {
    let client = RecordingClient()
    let autoscalers = ObjectCache()
    let pods = ObjectCache()
    let metrics = FakeMetricsSource()
    static let now = AutoscalingControllerTests.now

    init() {
        client.tracker.addDocument(["kind": "APIResourceList", "groupVersion": "apps/v1", "resources": [
            ["name": "deployments", "namespaced": true, "kind": "Deployment"],
            ["name": "deployments/scale", "namespaced": true, "kind": "Scale", "group": "autoscaling", "version": "v1"],
        ]], at: "/apis/apps/v1")
    }

    func autoscaler(target: String, min: Int = 1, max: Int = 10) {
        client.seed([
            "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": ["name": "web", "namespace": "default"],
            "spec": ["scaleTargetRef": ["apiVersion": "apps/v1", "kind": "Deployment", "name": .string(target)],
                     "minReplicas": .int(Int64(min)), "maxReplicas": .int(Int64(max)),
                     "metrics": [["type": "Resource", "resource": ["name": "cpu", "target": ["type": "Utilization", "averageUtilization": 50]]]]],
        ], as: HorizontalPodAutoscalerController.resource, into: autoscalers)
    }

    func deployment(replicas: Int) {
        client.tracker.add([
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "web", "namespace": "default"],
            "spec": ["replicas": .int(Int64(replicas)), "selector": ["matchLabels": ["app": "web"]]],
            "status": ["replicas": .int(Int64(replicas))],
        ], to: DeploymentController.resource)
        for name in ["web-a", "web-b"] { pods.put(AutoscalingControllerTests.pod(name)) }
    }

    func sync() async throws {
        let controller = HorizontalPodAutoscalerController(client: client, autoscalers: autoscalers, pods: pods, metrics: metrics,
                                                           now: { Self.now })
        #expect(try await controller.reconcile(key: "default/web") == .requeue(after: .seconds(15)))
    }

    /// The status the sync wrote (through `/status`).
    func writtenStatus() throws -> JSONValue {
        let update = try #require(client.actions().last { $0.matches("update", "horizontalpodautoscalers", subresource: "status") })
        return update.object?["status"] ?? .null
    }

    @Test func scalesTheTargetThroughItsScaleSubresource() async throws {
        autoscaler(target: "web")
        deployment(replicas: 2)
        metrics.setCPU(["web-a": 500, "web-b": 500], at: Self.now)
        try await sync()

        let actions = client.actions()
        #expect(actions.map(\.description) == [
            "get /apis/apps/v1", "get deployments/scale default/web", "update deployments/scale default/web",
            "update horizontalpodautoscalers/status default/web",
        ], "\(actions)")
        // 100% of requests against a 50% target: twice the pods.
        #expect(actions[2].object?[path: ["spec", "replicas"]] == 4)
        let status = try writtenStatus()
        #expect(status["currentReplicas"] == 2 && status["desiredReplicas"] == 4)
        #expect(client.tracker.object(DeploymentController.resource, namespace: "default", name: "web")?[path: ["spec", "replicas"]] == 4)
        #expect(client.actions(on: "events").compactMap { $0.object?["reason"]?.stringValue } == ["SuccessfulRescale"])
    }

    @Test func aMissingTargetStillReportsDesiredReplicas() async throws {
        autoscaler(target: "missing")
        try await sync()

        #expect(client.actions().map(\.verb) == ["get", "get", "update"])
        let status = try writtenStatus()
        #expect(status["desiredReplicas"] == 0)
        let ableToScale = status["conditions"]?.arrayValue?.first { $0["type"] == "AbleToScale" }
        #expect(ableToScale?["status"] == "False" && ableToScale?["reason"] == "FailedGetScale")
        #expect(client.actions(on: "events").compactMap { $0.object?["reason"]?.stringValue } == ["FailedGetScale"])
    }

    @Test func aRefusedRescaleIsReported() async throws {
        autoscaler(target: "web")
        deployment(replicas: 2)
        metrics.setCPU(["web-a": 500, "web-b": 500], at: Self.now)
        client.fail("update", "deployments", with: KubeAPIError(code: 409, reason: "Conflict", message: "the object has been modified"))
        try await sync()

        let status = try writtenStatus()
        #expect(status["currentReplicas"] == 2)
        let ableToScale = status["conditions"]?.arrayValue?.first { $0["type"] == "AbleToScale" }
        #expect(ableToScale?["reason"] == "FailedUpdateScale")
        #expect(client.tracker.object(DeploymentController.resource, namespace: "default", name: "web")?[path: ["spec", "replicas"]] == 2)
        let events = client.actions(on: "events").compactMap { $0.object?["reason"]?.stringValue }
        #expect(events == ["FailedRescale"])
    }

    @Test func withinTheToleranceNothingIsWritten() async throws {
        autoscaler(target: "web")
        deployment(replicas: 2)
        // 52% against a 50% target: inside the 10% tolerance.
        metrics.setCPU(["web-a": 260, "web-b": 260], at: Self.now)
        try await sync()
        #expect(!client.actions().contains { $0.matches("update", "deployments", subresource: "scale") })
    }
}
