import Foundation
import KubeModel

/// POST `pods/{name}/eviction` (policy/v1 Eviction): a delete that respects the pod's
/// PodDisruptionBudget. Pods that cannot count against a budget (Pending, finished, already
/// terminating) are deleted at once; otherwise the one budget selecting the pod must allow a
/// disruption, which the eviction spends (`status.disruptionsAllowed` decremented, the pod
/// recorded in `status.disruptedPods`) before the delete, so concurrent evictions cannot
/// overspend it. A spent budget answers 429, which `kubectl drain` retries.
struct PodEviction {
    static let handler = SubresourceHandler(.eviction, methods: [.post: "POST"]) { endpoint, name in
        let eviction = PodEviction(registry: endpoint.registry, pods: endpoint.strategy, namespace: endpoint.info.namespace ?? "", name: name)
        return ResponseBuilder.json(try await eviction.evict(try await endpoint.body(), options: try endpoint.writeOptions()), code: 201)
    }

    let registry: Registry
    let pods: any ResourceStrategy
    let namespace: String
    let name: String

    /// How many pods may sit in `status.disruptedPods` before evictions stop until the
    /// disruption controller has caught up.
    static let maxDisruptedPods = 2000
    /// Attempts at the optimistic budget update when other evictions race for it.
    static let conflictRetries = 20

    func evict(_ body: JSONValue, options: WriteOptions) async throws(APIError) -> JSONValue {
        if let kind = body["kind"]?.stringValue, kind != "Eviction" {
            throw APIError.badRequest("the kind in the request body does not match the expected kind Eviction")
        }
        guard body.name == name else { throw APIError.badRequest("name in URL does not match name in Eviction object") }
        var delete = Self.deleteOptions(body["deleteOptions"])
        delete.dryRun = delete.dryRun || options.dryRun

        let pod = try await registry.get(pods, version: "v1", namespace: namespace, name: name)
        if Self.canIgnoreBudgets(pod) {
            if Self.enforcesResourceVersion(pod) && delete.preconditionResourceVersion == nil {
                // A Pending pod may become Ready (and count) between the read and the delete.
                delete.preconditionResourceVersion = pod.resourceVersion
            }
            _ = try await registry.delete(pods, version: "v1", namespace: namespace, name: name, options: delete)
            return Self.success
        }

        let budgets = try await matchingBudgets(pod)
        if budgets.count > 1 {
            throw APIError(code: 500, reason: "", message: "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.")
        }
        var pinned = false
        if let budget = budgets.first {
            if !Self.isReady(pod) && Self.unhealthyMayGo(budget) {
                // An unready pod does not count as healthy: no budget to spend, but the delete
                // must not race the pod becoming Ready.
                pinned = true
            } else {
                try await spend(budget, dryRun: delete.dryRun)
            }
        }
        if pinned && delete.preconditionResourceVersion == nil {
            delete.preconditionResourceVersion = pod.resourceVersion
            do {
                _ = try await registry.delete(pods, version: "v1", namespace: namespace, name: name, options: delete)
            } catch where error.code == 409 {
                throw Self.stillProcessing(budgets.first?.name ?? "")
            }
            return Self.success
        }
        _ = try await registry.delete(pods, version: "v1", namespace: namespace, name: name, options: delete)
        return Self.success
    }

    static let success: JSONValue = ["kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Success", "code": 201]

    /// Finished pods already disrupted; Pending ones were never available; terminating ones
    /// are going anyway.
    static func canIgnoreBudgets(_ pod: JSONValue) -> Bool {
        let phase = pod[path: ["status", "phase"]]?.stringValue
        return phase == "Succeeded" || phase == "Failed" || phase == "Pending" || pod[path: ["metadata", "deletionTimestamp"]] != nil
    }

    static func enforcesResourceVersion(_ pod: JSONValue) -> Bool {
        let phase = pod[path: ["status", "phase"]]?.stringValue
        return !(phase == "Succeeded" || phase == "Failed" || pod[path: ["metadata", "deletionTimestamp"]] != nil)
    }

    static func isReady(_ pod: JSONValue) -> Bool {
        (pod[path: ["status", "conditions"]]?.arrayValue ?? []).contains {
            $0["type"]?.stringValue == "Ready" && $0["status"]?.stringValue == "True"
        }
    }

    /// Whether an unready pod may go without spending the budget: always under `AlwaysAllow`,
    /// and under the default `IfHealthyBudget` while the budget's healthy pods suffice.
    static func unhealthyMayGo(_ budget: JSONValue) -> Bool {
        if budget[path: ["spec", "unhealthyPodEvictionPolicy"]]?.stringValue == "AlwaysAllow" { return true }
        let current = budget[path: ["status", "currentHealthy"]]?.intValue ?? 0
        let desired = budget[path: ["status", "desiredHealthy"]]?.intValue ?? 0
        return current >= desired && desired > 0
    }

    /// The budgets of the pod's namespace whose selector selects it. A null or empty selector
    /// selects nothing here, as in Kubernetes' eviction.
    private func matchingBudgets(_ pod: JSONValue) async throws(APIError) -> [JSONValue] {
        guard let strategy = registry.catalog.strategy(group: "policy", plural: "poddisruptionbudgets") else { return [] }
        let listed = try await registry.list(strategy, version: "v1", namespace: namespace, options: ListOptions())
        let labels = pod.labels
        return listed.items.filter { budget in
            guard let raw = budget[path: ["spec", "selector"]], !raw.isNull,
                  let selector = try? LabelSelector.fromJSON(raw), !selector.isEverything else { return false }
            return selector.matches(labels)
        }
    }

    /// Decrements the budget's allowed disruptions and records the pod as disrupted, retrying
    /// on conflicts with a fresh read; 429 when nothing is left to spend.
    private func spend(_ first: JSONValue, dryRun: Bool) async throws(APIError) {
        guard let strategy = registry.catalog.strategy(group: "policy", plural: "poddisruptionbudgets") else { return }
        var budget = first
        for attempt in 0..<Self.conflictRetries {
            if attempt > 0 {
                budget = try await registry.get(strategy, version: "v1", namespace: namespace, name: budget.name ?? "")
            }
            guard var status = budget["status"], status.objectValue != nil else {
                throw Self.stillProcessing(budget.name ?? "")
            }
            let name = budget.name ?? ""
            if (status["observedGeneration"]?.intValue ?? 0) < (budget[path: ["metadata", "generation"]]?.intValue ?? 0) {
                throw Self.stillProcessing(name)
            }
            let allowed = status["disruptionsAllowed"]?.intValue ?? 0
            let def = strategy.definition
            if allowed < 0 { throw APIError.forbidden(def, name, "pdb disruptions allowed is negative") }
            if (status["disruptedPods"]?.objectValue?.count ?? 0) > Self.maxDisruptedPods {
                throw APIError.forbidden(def, name, "DisruptedPods map too big - too many evictions not confirmed by PDB controller")
            }
            if allowed == 0 {
                let desired = status["desiredHealthy"]?.intValue ?? 0, current = status["currentHealthy"]?.intValue ?? 0
                throw Self.tooManyRequests("The disruption budget \(name) needs \(desired) healthy pods and has \(current) currently", retryAfter: 0)
            }
            status["disruptionsAllowed"] = .int(allowed - 1)
            if allowed - 1 == 0 { status["conditions"] = Self.insufficientPods(status["conditions"], at: registry.clock()) }
            if dryRun { return }
            var disrupted = status["disruptedPods"]?.objectValue ?? [:]
            disrupted[self.name] = .string(Timestamp.format(registry.clock()))
            status["disruptedPods"] = .object(disrupted)
            budget["status"] = status
            do {
                _ = try await registry.update(strategy, version: "v1", namespace: namespace, name: name, body: budget,
                                              target: .status, options: WriteOptions())
                return
            } catch where error.code == 409 {
                continue
            }
        }
        throw APIError.timeout("couldn't update PodDisruptionBudget \"\(first.name ?? "")\" due to conflicts")
    }

    /// The budget's DisruptionAllowed condition once its last allowed disruption is spent.
    static func insufficientPods(_ conditions: JSONValue?, at now: Date) -> JSONValue {
        var list = (conditions?.arrayValue ?? []).filter { $0["type"]?.stringValue != "DisruptionAllowed" }
        let previous = conditions?.arrayValue?.first { $0["type"]?.stringValue == "DisruptionAllowed" }
        var condition: JSONValue = ["type": "DisruptionAllowed", "status": "False", "reason": "InsufficientPods", "message": ""]
        let unchanged = previous?["status"]?.stringValue == "False"
        condition["lastTransitionTime"] = unchanged ? (previous?["lastTransitionTime"] ?? .string(Timestamp.format(now))) : .string(Timestamp.format(now))
        if let generation = previous?["observedGeneration"] { condition["observedGeneration"] = generation }
        list.append(condition)
        return .array(list)
    }

    static func stillProcessing(_ name: String) -> APIError {
        tooManyRequests("The disruption budget \(name) is still being processed by the server.", retryAfter: 10)
    }

    static func tooManyRequests(_ cause: String, retryAfter: Int) -> APIError {
        var details: JSONValue = ["causes": [["reason": "DisruptionBudget", "message": .string(cause)]]]
        if retryAfter > 0 { details["retryAfterSeconds"] = .int(Int64(retryAfter)) }
        var error = APIError(code: 429, reason: "TooManyRequests", message: "Cannot evict pod as it would violate the pod's disruption budget.",
                             details: details)
        if retryAfter > 0 { error.headers.append(("Retry-After", String(retryAfter))) }
        return error
    }

    /// The `deleteOptions` an Eviction carries.
    static func deleteOptions(_ body: JSONValue?) -> DeleteOptions {
        var o = DeleteOptions()
        guard let body, body.objectValue != nil else { return o }
        if let p = body["propagationPolicy"]?.stringValue { o.propagation = DeleteOptions.Propagation(rawValue: p) }
        if body["orphanDependents"]?.boolValue == true { o.propagation = .orphan }
        o.gracePeriodSeconds = body["gracePeriodSeconds"]?.intValue
        o.preconditionUID = body[path: ["preconditions", "uid"]]?.stringValue
        o.preconditionResourceVersion = body[path: ["preconditions", "resourceVersion"]]?.stringValue
        if let d = body["dryRun"]?.arrayValue, d.contains("All") { o.dryRun = true }
        return o
    }
}
