import Foundation

/// Kubernetes' replica calculation for a HorizontalPodAutoscaler, without I/O: given the
/// samples of one metric and the targeted pods, the replica count that brings the metric to
/// its target (`ceil(current * usage / target)`), honouring the tolerance, treating pods with
/// missing metrics and not-yet-ready pods as Kubernetes does, so that neither pulls the
/// proposal in the direction it is heading. Values are milli-units, as the metrics APIs give them.
struct ReplicaCalculator: Sendable {
    /// A change smaller than this fraction of the target is no change.
    var tolerance: Double = 0.1
    /// A pod younger than this counts for CPU only once ready and sampled after becoming ready.
    var cpuInitializationPeriod: TimeInterval = 300
    /// Within this much of its start, an unready pod is taken to be still starting.
    var initialReadinessDelay: TimeInterval = 30

    /// The targeted pods sorted as Kubernetes sorts them before computing.
    struct PodGroups: Equatable {
        var readyCount = 0
        /// Pending, or (for CPU) unready or sampled too soon after becoming ready.
        var unready: Set<String> = []
        /// Without a sample.
        var missing: Set<String> = []
        /// Terminating or failed: left out altogether.
        var ignored: Set<String> = []
    }

    /// A proposal from a utilization target.
    struct UtilizationProposal: Equatable {
        var replicas: Int32
        /// Percent of requests, as reported in status.
        var utilization: Int32
        /// The average raw usage per pod (milli-units).
        var rawAverage: Int64
    }

    /// A proposal from a value target.
    struct ValueProposal: Equatable {
        var replicas: Int32
        /// What status reports as current: an average per pod, or the value itself.
        var usage: Int64
    }

    func withinTolerance(_ ratio: Double) -> Bool { abs(1.0 - ratio) <= tolerance }

    func group(_ pods: [PodSample], metrics: [String: PodMetric], resource: String?, now: Date) -> PodGroups {
        var g = PodGroups()
        for pod in pods {
            if pod.deleting || pod.phase == "Failed" { g.ignored.insert(pod.name); continue }
            if pod.phase == "Pending" { g.unready.insert(pod.name); continue }
            guard let metric = metrics[pod.name] else { g.missing.insert(pod.name); continue }
            if resource == "cpu" {
                let unready: Bool
                if let ready = pod.readiness, let start = pod.startTime {
                    if start.addingTimeInterval(cpuInitializationPeriod) > now {
                        // Still initializing: only a sample over a full window since becoming ready counts.
                        unready = ready.status == "False" || metric.timestamp < ready.lastTransition.addingTimeInterval(metric.window)
                    } else {
                        // Past initialization: ignore only a pod that has never been ready.
                        unready = ready.status == "False" && start.addingTimeInterval(initialReadinessDelay) > ready.lastTransition
                    }
                } else {
                    unready = true
                }
                if unready { g.unready.insert(pod.name); continue }
            }
            g.readyCount += 1
        }
        return g
    }

    /// Replicas for a `Utilization` target (percent of requests) of `resource`, summed over
    /// the pod's containers or read from one `container`.
    func utilizationReplicas(current: Int32, targetUtilization: Int32, resource: String, container: String? = nil,
                             pods: [PodSample], metrics given: [String: PodMetric], now: Date)
        throws(ReplicaCalculationError) -> UtilizationProposal
    {
        guard !pods.isEmpty else { throw ReplicaCalculationError("no pods returned by selector while calculating replica count") }
        let groups = group(pods, metrics: given, resource: resource, now: now)
        var metrics = given.mapValues(\.value)
        for name in groups.ignored.union(groups.unready) { metrics[name] = nil }
        var requests: [String: Int64] = [:]
        for pod in pods { requests[pod.name] = try pod.request(of: resource, container: container) }
        guard !metrics.isEmpty else {
            throw ReplicaCalculationError("did not receive metrics for targeted pods (pods might be unready)")
        }
        let first = try Self.utilizationRatio(metrics, requests: requests, target: targetUtilization)
        let proposal = { (replicas: Int32) in UtilizationProposal(replicas: replicas, utilization: first.utilization, rawAverage: first.rawAverage) }
        let scaleUpWithUnready = !groups.unready.isEmpty && first.ratio > 1
        if !scaleUpWithUnready && groups.missing.isEmpty {
            if withinTolerance(first.ratio) { return proposal(current) }
            return proposal(Self.ceil(first.ratio * Double(groups.readyCount)))
        }
        if first.ratio < 1 {
            // Scaling down: a pod without a sample counts as using all it requests (or the target, above 100%).
            let fallback = Int64(max(100, targetUtilization))
            for name in groups.missing { metrics[name] = (requests[name] ?? 0) * fallback / 100 }
        } else if first.ratio > 1 {
            for name in groups.missing { metrics[name] = 0 }
        }
        if scaleUpWithUnready { for name in groups.unready { metrics[name] = 0 } }
        let second = try Self.utilizationRatio(metrics, requests: requests, target: targetUtilization)
        return proposal(reconsidered(current: current, first: first.ratio, second: second.ratio, counted: metrics.count))
    }

    /// Replicas for an `AverageValue` target per pod: Pods metrics, and Resource metrics given as
    /// an absolute average (`resource` names it so CPU readiness rules apply).
    func averageValueReplicas(current: Int32, targetAverage: Int64, resource: String? = nil, pods: [PodSample],
                              metrics given: [String: PodMetric], now: Date) throws(ReplicaCalculationError) -> ValueProposal {
        guard !pods.isEmpty else { throw ReplicaCalculationError("no pods returned by selector while calculating replica count") }
        let groups = group(pods, metrics: given, resource: resource, now: now)
        var metrics = given.mapValues(\.value)
        for name in groups.ignored.union(groups.unready) { metrics[name] = nil }
        guard !metrics.isEmpty else {
            throw ReplicaCalculationError("did not receive metrics for targeted pods (pods might be unready)")
        }
        let first = Self.averageRatio(metrics, target: targetAverage)
        let scaleUpWithUnready = !groups.unready.isEmpty && first.ratio > 1
        if !scaleUpWithUnready && groups.missing.isEmpty {
            if withinTolerance(first.ratio) { return ValueProposal(replicas: current, usage: first.average) }
            return ValueProposal(replicas: Self.ceil(first.ratio * Double(groups.readyCount)), usage: first.average)
        }
        for name in groups.missing { metrics[name] = first.ratio < 1 ? targetAverage : 0 }
        if scaleUpWithUnready { for name in groups.unready { metrics[name] = 0 } }
        let second = Self.averageRatio(metrics, target: targetAverage)
        return ValueProposal(replicas: reconsidered(current: current, first: first.ratio, second: second.ratio, counted: metrics.count),
                             usage: first.average)
    }

    /// Replicas for a `Value` target of one object's or an external metric's total: the ratio
    /// applied to the ready pods; from zero replicas, the ratio alone (scale from/to zero).
    func valueReplicas(current: Int32, usage: Int64, target: Int64, pods: [PodSample]) throws(ReplicaCalculationError) -> ValueProposal {
        let ratio = Double(usage) / Double(target)
        guard current != 0 else { return ValueProposal(replicas: Self.ceil(ratio), usage: usage) }
        if withinTolerance(ratio) { return ValueProposal(replicas: current, usage: usage) }
        guard !pods.isEmpty else { throw ReplicaCalculationError("no pods returned by selector while calculating replica count") }
        let ready = pods.filter(\.isRunningAndReady).count
        return ValueProposal(replicas: Self.ceil(ratio * Double(ready)), usage: usage)
    }

    /// Replicas for an `AverageValue` target of an object's or external metric's total: the
    /// total divided by the per-pod target, unless within tolerance of the current replicas.
    func perPodValueReplicas(statusReplicas: Int32, usage: Int64, targetAverage: Int64) -> ValueProposal {
        var replicas = statusReplicas
        let ratio = Double(usage) / (Double(targetAverage) * Double(statusReplicas))
        if !withinTolerance(ratio) { replicas = Self.ceil(Double(usage) / Double(targetAverage)) }
        let average = statusReplicas > 0 ? Int64((Double(usage) / Double(statusReplicas)).rounded(.up)) : usage
        return ValueProposal(replicas: replicas, usage: average)
    }

    /// After filling in missing and unready pods: keep the current count when the change is
    /// within tolerance or the filled-in numbers reverse the direction.
    private func reconsidered(current: Int32, first: Double, second: Double, counted: Int) -> Int32 {
        if withinTolerance(second) || (first < 1 && second > 1) || (first > 1 && second < 1) { return current }
        let replicas = Self.ceil(second * Double(counted))
        if (second < 1 && replicas > current) || (second > 1 && replicas < current) { return current }
        return replicas
    }

    /// Usage over requests of the pods that have both, as Kubernetes computes it (integer percent).
    static func utilizationRatio(_ metrics: [String: Int64], requests: [String: Int64], target: Int32)
        throws(ReplicaCalculationError) -> (ratio: Double, utilization: Int32, rawAverage: Int64)
    {
        var usage: Int64 = 0, requested: Int64 = 0, entries: Int64 = 0
        for (name, value) in metrics {
            guard let r = requests[name] else { continue }
            usage += value
            requested += r
            entries += 1
        }
        guard requested > 0 else { throw ReplicaCalculationError("no metrics returned matched known pods") }
        let utilization = Int32(clamping: usage * 100 / requested)
        return (Double(utilization) / Double(target), utilization, usage / entries)
    }

    static func averageRatio(_ metrics: [String: Int64], target: Int64) -> (ratio: Double, average: Int64) {
        let average = metrics.values.reduce(0, +) / Int64(max(1, metrics.count))
        return (Double(average) / Double(target), average)
    }

    static func ceil(_ x: Double) -> Int32 {
        let c = x.rounded(.up)
        if !(c < Double(Int32.max)) { return Int32.max }
        return c < 0 ? 0 : Int32(c)
    }
}
