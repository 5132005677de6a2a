import Foundation
import KubeModel
import Testing
@testable import Controllers

/// The replica calculation of Kubernetes' documented algorithm, case by case:
/// desired = ceil(current × usage / target), tolerance, missing metrics, unready pods, the CPU
/// initialization period, and the Object/External value forms.
@Suite struct AutoscalingReplicaCalculatorTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)
    static let longAgo = now.addingTimeInterval(-3600)
    let calc = ReplicaCalculator()

    /// A running pod, ready since long ago, requesting `cpu` milli-CPU in one container.
    static func pod(_ name: String, cpu: Int64 = 1000, phase: String = "Running", ready: String = "True",
                    started: Date? = longAgo, readySince: Date = longAgo, deleting: Bool = false) -> PodSample {
        PodSample(name: name, phase: phase, deleting: deleting, readiness: .init(status: ready, lastTransition: readySince),
                  startTime: started, containers: [.init(name: "app", requests: ["cpu": cpu, "memory": 100_000])])
    }

    static func samples(_ values: [String: Int64], at time: Date = now.addingTimeInterval(-5), window: TimeInterval = 15) -> [String: PodMetric] {
        values.mapValues { PodMetric(value: $0, timestamp: time, window: window) }
    }

    struct UtilizationCase: CustomTestStringConvertible, Sendable {
        var label: String
        var current: Int32
        var target: Int32
        var pods: [PodSample]
        var usage: [String: Int64]
        var expected: Int32
        var testDescription: String { label }
    }

    static let utilizationCases: [UtilizationCase] = [
        .init(label: "2 pods at 200% of a 50% target go to 8", current: 2, target: 50,
              pods: [pod("a"), pod("b")], usage: ["a": 2000, "b": 2000], expected: 8),
        .init(label: "4 pods at 25% of a 50% target go to 2", current: 4, target: 50,
              pods: (1...4).map { pod("p\($0)") }, usage: ["p1": 250, "p2": 250, "p3": 250, "p4": 250], expected: 2),
        .init(label: "54% of a 50% target is within the 0.1 tolerance", current: 4, target: 50,
              pods: (1...4).map { pod("p\($0)") }, usage: ["p1": 540, "p2": 540, "p3": 540, "p4": 540], expected: 4),
        .init(label: "62% of a 50% target is outside the tolerance", current: 4, target: 50,
              pods: (1...4).map { pod("p\($0)") }, usage: ["p1": 620, "p2": 620, "p3": 620, "p4": 620], expected: 5),
        .init(label: "scale down with a missing pod: it counts as 100% of its request, which lands within tolerance", current: 4, target: 50,
              pods: (1...4).map { pod("p\($0)", cpu: 100) }, usage: ["p1": 40, "p2": 40, "p3": 40], expected: 4),
        .init(label: "the same three samples without the missing pod scale down", current: 4, target: 50,
              pods: (1...3).map { pod("p\($0)", cpu: 100) }, usage: ["p1": 40, "p2": 40, "p3": 40], expected: 3),
        .init(label: "scale up with a missing pod: it counts as 0%", current: 3, target: 50,
              pods: (1...3).map { pod("p\($0)", cpu: 100) }, usage: ["p1": 100, "p2": 100], expected: 4),
        .init(label: "scale up with pending pods: they count as 0%, which lands within tolerance", current: 4, target: 50,
              pods: [pod("a"), pod("b"), pod("c", phase: "Pending"), pod("d", phase: "Pending")],
              usage: ["a": 1000, "b": 1000], expected: 4),
        .init(label: "scale down ignores unready pods", current: 3, target: 50,
              pods: [pod("a"), pod("b"), pod("c", phase: "Pending")], usage: ["a": 100, "b": 100], expected: 1),
        .init(label: "terminating and failed pods are left out", current: 4, target: 50,
              pods: [pod("a"), pod("b"), pod("c", deleting: true), pod("d", phase: "Failed")],
              usage: ["a": 1000, "b": 1000, "c": 0, "d": 0], expected: 4),
        .init(label: "a CPU sample taken less than a window after the pod became ready does not count", current: 2, target: 50,
              pods: [pod("a"), pod("b", started: now.addingTimeInterval(-60), readySince: now.addingTimeInterval(-10))],
              usage: ["a": 2000, "b": 2000], expected: 4),
        .init(label: "an unready pod past initialization that was ready before counts", current: 2, target: 50,
              pods: [pod("a"), pod("b", ready: "False", readySince: now.addingTimeInterval(-60))],
              usage: ["a": 2000, "b": 2000], expected: 8),
        .init(label: "an unready pod past initialization that never became ready does not count", current: 2, target: 50,
              pods: [pod("a"), pod("b", ready: "False", readySince: longAgo.addingTimeInterval(10))],
              usage: ["a": 2000, "b": 2000], expected: 4),
    ]

    @Test(arguments: utilizationCases) func utilization(_ c: UtilizationCase) throws {
        let p = try calc.utilizationReplicas(current: c.current, targetUtilization: c.target, resource: "cpu",
                                             pods: c.pods, metrics: Self.samples(c.usage), now: Self.now)
        #expect(p.replicas == c.expected)
    }

    @Test func utilizationReportsPercentAndAverage() throws {
        let p = try calc.utilizationReplicas(current: 2, targetUtilization: 50, resource: "cpu", pods: [Self.pod("a"), Self.pod("b")],
                                             metrics: Self.samples(["a": 300, "b": 500]), now: Self.now)
        #expect(p == .init(replicas: 2, utilization: 40, rawAverage: 400))
    }

    @Test func toleranceIsConfigurable() throws {
        var loose = calc
        loose.tolerance = 0.5
        let pods = [Self.pod("a"), Self.pod("b")]
        let p = try loose.utilizationReplicas(current: 2, targetUtilization: 50, resource: "cpu", pods: pods,
                                              metrics: Self.samples(["a": 700, "b": 700]), now: Self.now)
        #expect(p.replicas == 2)
        let strict = try calc.utilizationReplicas(current: 2, targetUtilization: 50, resource: "cpu", pods: pods,
                                                  metrics: Self.samples(["a": 700, "b": 700]), now: Self.now)
        #expect(strict.replicas == 3)
    }

    @Test func containerResourceUsesThatContainersRequest() throws {
        let pod = PodSample(name: "a", phase: "Running", readiness: .init(status: "True", lastTransition: Self.longAgo),
                            startTime: Self.longAgo, containers: [.init(name: "app", requests: ["cpu": 200]), .init(name: "sidecar", requests: ["cpu": 800])])
        let p = try calc.utilizationReplicas(current: 1, targetUtilization: 50, resource: "cpu", container: "app", pods: [pod],
                                             metrics: Self.samples(["a": 300]), now: Self.now)
        #expect(p.replicas == 3 && p.utilization == 150)
    }

    @Test func errorsSayWhatIsMissing() {
        #expect(throws: ReplicaCalculationError("no pods returned by selector while calculating replica count")) {
            try calc.utilizationReplicas(current: 1, targetUtilization: 50, resource: "cpu", pods: [], metrics: [:], now: Self.now)
        }
        let noRequest = PodSample(name: "a", containers: [.init(name: "app", requests: [:])])
        #expect(throws: ReplicaCalculationError("missing request for cpu in container app of Pod a")) {
            try calc.utilizationReplicas(current: 1, targetUtilization: 50, resource: "cpu", pods: [noRequest],
                                         metrics: Self.samples(["a": 1]), now: Self.now)
        }
        #expect(throws: ReplicaCalculationError("did not receive metrics for targeted pods (pods might be unready)")) {
            try calc.utilizationReplicas(current: 1, targetUtilization: 50, resource: "cpu", pods: [Self.pod("a", phase: "Pending")],
                                         metrics: Self.samples(["a": 1]), now: Self.now)
        }
    }

    @Test func podsMetricAverageValue() throws {
        let pods = [Self.pod("a"), Self.pod("b")]
        // 200 and 200 requests/s against 100 per pod: 4 replicas.
        #expect(try calc.averageValueReplicas(current: 2, targetAverage: 100_000, pods: pods,
                                              metrics: Self.samples(["a": 200_000, "b": 200_000]), now: Self.now)
                == .init(replicas: 4, usage: 200_000))
        // A missing pod on the way down counts as the target: 50, 50, (100) averages 66.
        let three = pods + [Self.pod("c")]
        #expect(try calc.averageValueReplicas(current: 3, targetAverage: 100_000, pods: three,
                                              metrics: Self.samples(["a": 50_000, "b": 50_000]), now: Self.now).replicas == 2)
        // Unready (pending) pods count as 0 on the way up; a non-CPU metric ignores readiness otherwise.
        let pending = pods + [Self.pod("c", phase: "Pending")]
        #expect(try calc.averageValueReplicas(current: 3, targetAverage: 100_000, pods: pending,
                                              metrics: Self.samples(["a": 300_000, "b": 300_000]), now: Self.now).replicas == 6)
    }

    @Test func objectAndExternalValue() throws {
        let pods = [Self.pod("a"), Self.pod("b"), Self.pod("c", ready: "False")]
        // Usage 3× the target, applied to the 2 ready pods.
        #expect(try calc.valueReplicas(current: 3, usage: 300, target: 100, pods: pods) == .init(replicas: 6, usage: 300))
        #expect(try calc.valueReplicas(current: 3, usage: 105, target: 100, pods: pods).replicas == 3)
        // From zero replicas: the ratio alone.
        #expect(try calc.valueReplicas(current: 0, usage: 250, target: 100, pods: []).replicas == 3)
        #expect(try calc.valueReplicas(current: 0, usage: 0, target: 100, pods: []).replicas == 0)
    }

    @Test func objectAndExternalAverageValue() {
        #expect(calc.perPodValueReplicas(statusReplicas: 2, usage: 900, targetAverage: 100) == .init(replicas: 9, usage: 450))
        #expect(calc.perPodValueReplicas(statusReplicas: 4, usage: 410, targetAverage: 100) == .init(replicas: 4, usage: 103))
        #expect(calc.perPodValueReplicas(statusReplicas: 4, usage: 100, targetAverage: 100) == .init(replicas: 1, usage: 25))
    }

    @Test func podSampleFromObject() {
        let pod: JSONValue = [
            "metadata": ["name": "web-1", "deletionTimestamp": "2026-01-01T00:00:00Z"],
            "spec": ["containers": [["name": "app", "resources": ["requests": ["cpu": "250m", "memory": "64Mi"]]]],
                     "initContainers": [["name": "proxy", "restartPolicy": "Always", "resources": ["requests": ["cpu": "50m"]]],
                                        ["name": "setup", "resources": ["requests": ["cpu": "1"]]]]],
            "status": ["phase": "Running", "startTime": "2026-01-01T00:00:00Z",
                       "conditions": [["type": "Ready", "status": "True", "lastTransitionTime": "2026-01-01T00:00:10Z"]]],
        ]
        let s = PodSample(pod: pod)
        #expect(s.name == "web-1" && s.deleting && s.phase == "Running" && s.readiness?.status == "True")
        #expect((try? s.request(of: "cpu", container: nil)) == 300)
        #expect((try? s.request(of: "cpu", container: "app")) == 250)
    }
}
