import Foundation
import KubeClient
import KubeModel

extension HorizontalPodAutoscalerController {
    /// What the metrics propose: the largest replica count over the metrics that could be
    /// computed, the metric that proposed it, and a status per metric; `replicas` is nil when
    /// none could be used (or some failed and the rest would scale down), with the error.
    struct MetricsProposal {
        var replicas: Int32?
        var metricName = ""
        var statuses: [JSONValue] = []
        var error: String?
    }

    /// One metric's proposal, or its failure (event reason and message).
    struct MetricOutcome {
        var replicas: Int32
        var name: String
        var status: JSONValue
    }

    struct MetricFailure: Error {
        /// Event reason and condition reason, e.g. FailedGetResourceMetric.
        var reason: String
        /// What the event and condition say.
        var message: String
        /// The error as the summary of all metrics reports it.
        var summary: String
    }

    /// Kubernetes' computeReplicasForMetrics: sets ScalingActive.
    func computeReplicas(_ hpa: JSONValue, scale: JSONValue, sync: inout SyncState) async -> MetricsProposal {
        let now = sync.now
        let namespace = hpa.namespace ?? "default"
        let selectorText = scale[path: ["status", "selector"]]?.stringValue ?? ""
        guard !selectorText.isEmpty else {
            await warn(hpa, "SelectorRequired", "selector is required")
            sync.conditions.set(AutoscalerConditions.scalingActive, false, reason: "InvalidSelector",
                                message: "the HPA target's scale is missing a selector", now: now)
            return MetricsProposal(error: "selector is required")
        }
        let selector: LabelSelector
        do {
            selector = try LabelSelector.parse(selectorText)
        } catch {
            let message = "couldn't convert selector into a corresponding internal selector object: \(error.message)"
            await warn(hpa, "InvalidSelector", message)
            sync.conditions.set(AutoscalerConditions.scalingActive, false, reason: "InvalidSelector", message: message, now: now)
            return MetricsProposal(error: message)
        }
        let podSamples = pods.list(namespace: namespace).filter { selector.matches($0.labels) }.map(PodSample.init(pod:))
        let specReplicas = Int32(clamping: scale[path: ["spec", "replicas"]]?.intValue ?? 0)
        let statusReplicas = Int32(clamping: scale[path: ["status", "replicas"]]?.intValue ?? 0)
        let specs = hpa[path: ["spec", "metrics"]]?.arrayValue ?? []

        var proposal = MetricsProposal()
        var best: Int32 = 0
        var failures: [MetricFailure] = []
        for spec in specs {
            do {
                let outcome = try await compute(spec, namespace: namespace, selector: selectorText, pods: podSamples,
                                                specReplicas: specReplicas, statusReplicas: statusReplicas, now: now)
                proposal.statuses.append(outcome.status)
                if best == 0 || outcome.replicas > best {
                    best = outcome.replicas
                    proposal.metricName = outcome.name
                }
            } catch let failure as MetricFailure {
                await warn(hpa, failure.reason, failure.message)
                proposal.statuses.append(["type": ""])
                failures.append(failure)
            } catch {
                let f = MetricFailure(reason: "FailedGetMetric", message: "\(error)", summary: "\(error)")
                proposal.statuses.append(["type": ""])
                failures.append(f)
            }
        }
        if let first = failures.first {
            proposal.error = "invalid metrics (\(failures.count) invalid out of \(specs.count)), first error is: \(first.summary)"
        }
        if failures.count >= specs.count || (!failures.isEmpty && best < specReplicas) {
            if let first = failures.first {
                sync.conditions.set(AutoscalerConditions.scalingActive, false, reason: first.reason,
                                    message: "the HPA was unable to compute the replica count: \(first.message)", now: now)
            }
            return proposal
        }
        sync.conditions.set(AutoscalerConditions.scalingActive, true, reason: "ValidMetricFound",
                            message: "the HPA was able to successfully calculate a replica count from \(proposal.metricName)", now: now)
        proposal.replicas = best
        return proposal
    }

    /// One metric, by source type, as Kubernetes' computeReplicasForMetric.
    func compute(_ spec: JSONValue, namespace: String, selector: String, pods: [PodSample], specReplicas: Int32,
                 statusReplicas: Int32, now: Date) async throws -> MetricOutcome {
        let calc = options.calculator
        let type = spec["type"]?.stringValue ?? ""
        switch type {
        case "Resource", "ContainerResource":
            let key = type == "Resource" ? "resource" : "containerResource"
            let source = spec[key] ?? .null
            let name = source["name"]?.stringValue ?? ""
            let container = type == "Resource" ? nil : source["container"]?.stringValue
            let reason = type == "Resource" ? "FailedGetResourceMetric" : "FailedGetContainerResourceMetric"
            let wrap = type == "Resource" ? "failed to get \(name) resource metric value" : "failed to get \(container ?? "") container metric value"
            let target = source["target"] ?? .null
            let kindText = type == "Resource" ? "resource" : "container resource"
            func fail(_ message: String) -> MetricFailure { MetricFailure(reason: reason, message: message, summary: "\(wrap): \(message)") }
            if let average = Self.milli(target["averageValue"]) {
                do {
                    let samples = try await fetch("unable to get metrics for resource \(name)") {
                        try await metrics.resourceMetrics(name, container: container, namespace: namespace, selector: selector)
                    }
                    let p = try calc.averageValueReplicas(current: specReplicas, targetAverage: average, resource: name, pods: pods,
                                                          metrics: samples, now: now)
                    return MetricOutcome(replicas: p.replicas, name: "\(name) \(kindText)",
                                         status: Self.metricStatus(type, key, Self.resourceStatus(source, current: ["averageValue": Self.quantity(p.usage)])))
                } catch let e as ReplicaCalculationError {
                    throw fail("failed to get \(name) usage: \(e.message)")
                }
            }
            guard let utilization = target["averageUtilization"]?.intValue else {
                throw fail("invalid resource metric source: neither an average utilization target nor an average value (usage) target was set")
            }
            do {
                let samples = try await fetch("unable to get metrics for resource \(name)") {
                    try await metrics.resourceMetrics(name, container: container, namespace: namespace, selector: selector)
                }
                let p = try calc.utilizationReplicas(current: specReplicas, targetUtilization: Int32(clamping: utilization), resource: name,
                                                     container: container, pods: pods, metrics: samples, now: now)
                let current: JSONValue = ["averageUtilization": .int(Int64(p.utilization)), "averageValue": Self.quantity(p.rawAverage)]
                return MetricOutcome(replicas: p.replicas, name: "\(name) \(kindText) utilization (percentage of request)",
                                     status: Self.metricStatus(type, key, Self.resourceStatus(source, current: current)))
            } catch let e as ReplicaCalculationError {
                throw fail("failed to get \(name) utilization: \(e.message)")
            }
        case "Pods":
            let source = spec["pods"] ?? .null
            let name = source[path: ["metric", "name"]]?.stringValue ?? ""
            func fail(_ message: String) -> MetricFailure {
                MetricFailure(reason: "FailedGetPodsMetric", message: message, summary: "failed to get pods metric value: \(message)")
            }
            guard let average = Self.milli(source[path: ["target", "averageValue"]]) else {
                throw fail("invalid pods metric source: no average value target was set")
            }
            do {
                let samples = try await fetch("unable to get metric \(name)") {
                    try await metrics.podsMetric(name, namespace: namespace, selector: selector,
                                                 metricSelector: Self.selectorString(source[path: ["metric", "selector"]]))
                }
                let p = try calc.averageValueReplicas(current: specReplicas, targetAverage: average, pods: pods, metrics: samples, now: now)
                return MetricOutcome(replicas: p.replicas, name: "pods metric \(name)",
                                     status: ["type": "Pods", "pods": ["metric": source["metric"] ?? .null, "current": ["averageValue": Self.quantity(p.usage)]]])
            } catch let e as ReplicaCalculationError {
                throw fail(e.message)
            }
        case "Object", "External":
            return try await computeObjectOrExternal(spec, type: type, namespace: namespace, pods: pods, specReplicas: specReplicas,
                                                     statusReplicas: statusReplicas)
        default:
            let message = "unknown metric source type \"\(type)\""
            throw MetricFailure(reason: "InvalidMetricSourceType", message: message, summary: message)
        }
    }

    func computeObjectOrExternal(_ spec: JSONValue, type: String, namespace: String, pods: [PodSample], specReplicas: Int32,
                                 statusReplicas: Int32) async throws -> MetricOutcome {
        let calc = options.calculator
        let isObject = type == "Object"
        let key = isObject ? "object" : "external"
        let source = spec[key] ?? .null
        let metric = source["metric"] ?? .null
        let name = metric["name"]?.stringValue ?? ""
        let metricSelector = Self.selectorString(metric["selector"])
        let described = MetricObjectReference(source["describedObject"])
        let reason = isObject ? "FailedGetObjectMetric" : "FailedGetExternalMetric"
        let proposalName = isObject ? "\(described.kind) metric \(name)" : "external metric \(name)(\(Self.goSelector(metric["selector"])))"
        func fail(_ message: String) -> MetricFailure {
            MetricFailure(reason: reason, message: message,
                          summary: isObject ? "failed to get object metric value: \(message)" : "failed to get \(name) external metric value: \(message)")
        }
        let fetchError = isObject ? "unable to get metric \(name): \(described.kind) on \(namespace) \(described.name)"
            : "unable to get external metric \(namespace)/\(name)/\(Self.goSelector(metric["selector"]))"
        func read() async throws -> Int64 {
            try await fetch(fetchError) {
                if isObject {
                    return try await metrics.objectMetric(name, namespace: namespace, object: described, metricSelector: metricSelector)
                }
                return try await metrics.externalMetric(name, namespace: namespace, metricSelector: metricSelector).reduce(0) { $0 &+ $1 }
            }
        }
        var status: JSONValue = ["metric": metric]
        if isObject { status["describedObject"] = source["describedObject"] }
        let target = source["target"] ?? .null
        do {
            if target["type"]?.stringValue == "Value", let value = Self.milli(target["value"]) {
                let usage = try await read()
                let p = try calc.valueReplicas(current: specReplicas, usage: usage, target: value, pods: pods)
                status["current"] = ["value": Self.quantity(p.usage)]
                return MetricOutcome(replicas: p.replicas, name: proposalName, status: Self.metricStatus(type, key, status))
            }
            if target["type"]?.stringValue == "AverageValue", let average = Self.milli(target["averageValue"]) {
                let usage = try await read()
                let p = calc.perPodValueReplicas(statusReplicas: statusReplicas, usage: usage, targetAverage: average)
                status["current"] = ["averageValue": Self.quantity(p.usage)]
                return MetricOutcome(replicas: p.replicas, name: proposalName, status: Self.metricStatus(type, key, status))
            }
        } catch let e as ReplicaCalculationError {
            throw fail(e.message)
        }
        throw fail("invalid \(key) metric source: neither a value target nor an average value target was set")
    }

    /// Runs a metrics read, turning its failure into a calculation error prefixed with `context`.
    func fetch<T>(_ context: String, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw ReplicaCalculationError("\(context): \(Self.describe(error))")
        }
    }

    /// `{"type": type, key: body}`, one entry of status.currentMetrics.
    static func metricStatus(_ type: String, _ key: String, _ body: JSONValue) -> JSONValue {
        var s: JSONValue = ["type": .string(type)]
        s[key] = body
        return s
    }

    static func resourceStatus(_ source: JSONValue, current: JSONValue) -> JSONValue {
        var s: JSONValue = ["name": source["name"] ?? "", "current": current]
        if let c = source["container"] { s["container"] = c }
        return s
    }

    static func milli(_ v: JSONValue?) -> Int64? {
        guard let v, !v.isNull else { return nil }
        return RESTMetricsSource.milli(v)
    }

    /// A milli-value as Kubernetes prints it (`250m`, `2`).
    static func quantity(_ milli: Int64) -> JSONValue {
        .string(Quantity(mantissa: milli, scale: -3).canonical)
    }

    static func selectorString(_ json: JSONValue?) -> String? {
        guard let json, !json.isNull, let s = try? LabelSelector.fromJSON(json) else { return nil }
        return s.description
    }

    /// A metric selector as Go's `%+v` prints it in Kubernetes' messages.
    static func goSelector(_ json: JSONValue?) -> String {
        guard let json, !json.isNull else { return "nil" }
        let labels = (json["matchLabels"]?.objectValue ?? [:]).sorted { $0.key < $1.key }
            .map { "\($0.key): \($0.value.stringValue ?? "")," }.joined()
        return "&LabelSelector{MatchLabels:map[string]string{\(labels)},MatchExpressions:[]LabelSelectorRequirement{},}"
    }
}
