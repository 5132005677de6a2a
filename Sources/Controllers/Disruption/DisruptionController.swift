import Foundation
import KubeClient
import KubeModel

/// Keeps each PodDisruptionBudget's status current (Kubernetes' disruption controller):
/// expected, desired and currently healthy pods, the disruptions allowed, and the
/// `disruptedPods` the eviction subresource recorded, which are dropped once their pods
/// terminate or after two minutes. Evictions read `disruptionsAllowed`; nothing else
/// enforces a budget.
public struct DisruptionController: Reconciler {
    static let resource = ResourcePath(group: "policy", version: "v1", plural: "poddisruptionbudgets")
    static let component = "controllermanager"

    let client: any ResourceClient
    let budgets: ObjectCache
    let pods: ObjectCache
    let replicaSets: ObjectCache
    let deployments: ObjectCache
    var now: @Sendable () -> Date = { Date() }

    /// Folds this controller's repeated events into counts, for the controller's lifetime.
    let correlator = EventCorrelator()
    var recorder: EventRecorder { EventRecorder(client: client, component: Self.component, correlator: correlator) }

    public func reconcile(key: String) async throws -> ReconcileResult {
        guard let budget = budgets.get(key), let ns = budget.namespace, let name = budget.name,
              !ObjectRules.isTerminating(budget) else { return .done }
        let at = now()
        let generation = budget[path: ["metadata", "generation"]]?.intValue ?? 0
        let previous = budget["status"]
        let selected = DisruptionBudgetStatus.selectedPods(budget, pods: pods.list(namespace: ns))
        var status: JSONValue
        var recheck: Date?
        do {
            let computed = try DisruptionBudgetStatus.compute(budget: budget, pods: selected, now: at) { ref in
                Self.replicas(of: ref, namespace: ns, replicaSets: replicaSets, deployments: deployments)
            }
            status = computed.json(generation: generation, previous: previous, now: at)
            recheck = computed.recheckAt
            if selected.isEmpty, previous?["observedGeneration"]?.intValue != generation {
                await recorder.record(budget, apiVersion: "policy/v1", kind: "PodDisruptionBudget", reason: "NoPods",
                                      message: "No matching pods found")
            }
        } catch {
            let message: String
            switch error {
            case .noController(let pod): message = "found no controller ref for pod \"\(pod)\""
            case .unknownController(let kind, let name): message = "found no controllers for pod's controller \(kind) \"\(name)\""
            }
            status = DisruptionBudgetStatus.failSafe(generation: generation, previous: previous, message: message, now: at)
            if Self.differs(previous, status) {
                await recorder.record(budget, apiVersion: "policy/v1", kind: "PodDisruptionBudget", type: "Warning",
                                      reason: "CalculateExpectedPodCountFailed", message: "Failed to calculate the number of expected pods: \(message)")
            }
        }
        if Self.differs(previous, status) {
            var body = budget
            body["status"] = status
            var path = Self.resource.inNamespace(ns).named(name)
            path.subresource = "status"
            do {
                _ = try await client.update(path.path, body)
            } catch let e as KubeAPIError where e.isNotFound {
                return .done
            }
        }
        guard let recheck else { return .done }
        return .requeue(after: .milliseconds(max(0, Int64(recheck.timeIntervalSince(at) * 1000)) + 100))
    }

    /// Whether the status changed in anything but the condition's transition time.
    static func differs(_ old: JSONValue?, _ new: JSONValue) -> Bool {
        func normalized(_ s: JSONValue?) -> JSONValue? {
            guard var s else { return nil }
            if let conditions = s["conditions"]?.arrayValue {
                s["conditions"] = .array(conditions.map { var c = $0; c["lastTransitionTime"] = nil; return c })
            }
            if s["disruptedPods"]?.objectValue?.isEmpty == true { s["disruptedPods"] = nil }
            return s
        }
        return normalized(old) != normalized(new)
    }

    /// `spec.replicas` of the controller an ownerReference names: a Deployment's for its
    /// ReplicaSets, the ReplicaSet's own otherwise.
    static func replicas(of ref: JSONValue, namespace: String, replicaSets: ObjectCache, deployments: ObjectCache) -> Int? {
        let name = ref["name"]?.stringValue ?? ""
        switch ref["kind"]?.stringValue {
        case "ReplicaSet":
            guard let rs = replicaSets.get(namespace: namespace, name: name) else { return nil }
            if let owner = ObjectRules.controllerRef(of: rs), owner["kind"]?.stringValue == "Deployment",
               let deployment = deployments.get(namespace: namespace, name: owner["name"]?.stringValue ?? "") {
                return ObjectRules.int(deployment[path: ["spec", "replicas"]], default: 1)
            }
            return ObjectRules.int(rs[path: ["spec", "replicas"]], default: 1)
        case "Deployment":
            return deployments.get(namespace: namespace, name: name).map { ObjectRules.int($0[path: ["spec", "replicas"]], default: 1) }
        default:
            return nil
        }
    }

    /// Budget changes, and changes of pods in a budget's namespace, enqueue the budget.
    static func descriptor(client: any ResourceClient, workers: Int) -> ControllerDescriptor {
        ControllerDescriptor(name: "disruption", workers: workers) { wiring in
            let budgets = wiring.cache(resource)
            wiring.watchOwn(resource)
            wiring.watchPodsOfNamespace(enqueueing: budgets)
            return DisruptionController(client: client, budgets: budgets, pods: wiring.cache(.core("pods")),
                                        replicaSets: wiring.cache(ReplicaSetController.resource),
                                        deployments: wiring.cache(DeploymentController.resource))
        }
    }
}
