import Foundation
import KubeClient
import KubeModel
import Logging

/// Kubernetes' horizontal pod autoscaler controller: every sync period, each
/// HorizontalPodAutoscaler (autoscaling/v2) reads its target's `/scale`, computes a replica
/// count from each metric (the largest wins), normalizes it (stabilization, behavior
/// policies, min/max), writes the new count through `/scale`, and reports status, the
/// conditions AbleToScale, ScalingActive and ScalingLimited, and events as Kubernetes does.
public struct HorizontalPodAutoscalerController: Reconciler {
    static let resource = ResourcePath(group: "autoscaling", version: "v2", plural: "horizontalpodautoscalers")
    static let component = "horizontal-pod-autoscaler"
    static let apiVersion = "autoscaling/v2"
    static let kind = "HorizontalPodAutoscaler"

    let client: any ResourceClient
    let autoscalers: ObjectCache
    let pods: ObjectCache
    let metrics: any MetricsSource
    let resolver: ResourceKindResolver
    let options: AutoscalerOptions
    let histories: ScalingHistories
    /// Repeated events (a metric failing every sync) bump one event's count, as in Kubernetes.
    let correlator = EventCorrelator()
    let now: @Sendable () -> Date
    let logger: Logger

    init(client: any ResourceClient, autoscalers: ObjectCache, pods: ObjectCache, metrics: (any MetricsSource)? = nil,
         options: AutoscalerOptions = AutoscalerOptions(), histories: ScalingHistories = ScalingHistories(),
         now: @escaping @Sendable () -> Date = { Date() }, logger: Logger = Logger(label: "caravel.hpa")) {
        self.client = client
        self.autoscalers = autoscalers
        self.pods = pods
        let resolver = ResourceKindResolver(client: client)
        self.resolver = resolver
        self.metrics = metrics ?? RESTMetricsSource(client: client, resolver: resolver)
        self.options = options
        self.histories = histories
        self.now = now
        self.logger = logger
    }

    var recorder: EventRecorder { EventRecorder(client: client, component: Self.component, correlator: correlator) }

    public func reconcile(key: String) async throws -> ReconcileResult {
        guard let hpa = autoscalers.get(key), !ObjectRules.isTerminating(hpa) else {
            histories.remove(key)
            return .done
        }
        do {
            try await reconcile(hpa, key: key)
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            // The next sync tries again; backing off faster would only repeat the events.
            logger.debug("autoscaler sync failed", metadata: ["key": .string(key), "error": .string("\(error)")])
        }
        return .requeue(after: options.syncPeriod)
    }

    /// One sync of one autoscaler, as Kubernetes' reconcileAutoscaler.
    func reconcile(_ hpa: JSONValue, key: String) async throws {
        let spec = hpa["spec"] ?? .null
        let namespace = hpa.namespace ?? "default"
        let now = self.now()
        var sync = SyncState(hpa: hpa, now: now)

        let ref = spec["scaleTargetRef"] ?? .null
        let targetName = ref["name"]?.stringValue ?? ""
        let scalePath: String
        let scale: JSONValue
        do {
            let target = try await resolver.resolve(apiVersion: ref["apiVersion"]?.stringValue ?? "", kind: ref["kind"]?.stringValue ?? "")
            var path = target.resource.inNamespace(namespace).named(targetName)
            path.subresource = "scale"
            scalePath = path.path
            scale = try await client.get(scalePath)
        } catch {
            let message = Self.describe(error)
            await warn(hpa, "FailedGetScale", message)
            sync.conditions.set(AutoscalerConditions.ableToScale, false, reason: "FailedGetScale",
                                message: "the HPA controller was unable to get the target's current scale: \(message)", now: now)
            try await writeStatus(hpa, sync.status)
            return
        }
        sync.conditions.set(AutoscalerConditions.ableToScale, true, reason: "SucceededGetScale",
                            message: "the HPA controller was able to get the target's current scale", now: now)

        let current = Int32(clamping: scale[path: ["spec", "replicas"]]?.intValue ?? 0)
        let minReplicas = Int32(clamping: spec["minReplicas"]?.intValue ?? 1)
        let maxReplicas = Int32(clamping: spec["maxReplicas"]?.intValue ?? 0)
        histories.update(key) { h in
            if h.recommendations.isEmpty { h.recommendations = [.init(replicas: current, timestamp: now)] }
        }

        var desired: Int32 = 0
        var reason = ""
        var rescale = true
        var metricStatuses: [JSONValue] = []
        if current == 0 && minReplicas != 0 {
            rescale = false
            sync.conditions.set(AutoscalerConditions.scalingActive, false, reason: "ScalingDisabled",
                                message: "scaling is disabled since the replica count of the target is zero", now: now)
        } else if current > maxReplicas {
            (desired, reason) = (maxReplicas, "Current number of replicas above Spec.MaxReplicas")
        } else if current < minReplicas {
            (desired, reason) = (minReplicas, "Current number of replicas below Spec.MinReplicas")
        } else {
            let computed = await computeReplicas(hpa, scale: scale, sync: &sync)
            metricStatuses = computed.statuses
            guard let proposal = computed.replicas else {
                sync.setCurrent(replicas: current, metrics: metricStatuses)
                try await writeStatus(hpa, sync.status)
                if let e = computed.error { await warn(hpa, "FailedComputeMetricsReplicas", e) }
                return
            }
            desired = proposal
            reason = desired < current ? "All metrics below target" : "\(computed.metricName) above target"
            desired = normalize(hpa, key: key, current: current, desired: desired, minReplicas: minReplicas,
                                maxReplicas: maxReplicas, sync: &sync)
            rescale = desired != current
        }

        if rescale {
            var body = scale
            body[path: ["spec", "replicas"]] = .int(Int64(desired))
            do {
                _ = try await client.update(scalePath, body)
            } catch {
                let message = Self.describe(error)
                await warn(hpa, "FailedRescale", "New size: \(desired); reason: \(reason); error: \(message)")
                sync.conditions.set(AutoscalerConditions.ableToScale, false, reason: "FailedUpdateScale",
                                    message: "the HPA controller was unable to update the target scale: \(message)", now: now)
                sync.setCurrent(replicas: current, metrics: metricStatuses)
                try await writeStatus(hpa, sync.status)
                return
            }
            sync.conditions.set(AutoscalerConditions.ableToScale, true, reason: "SucceededRescale",
                                message: "the HPA controller was able to update the target scale to \(desired)", now: now)
            await recorder.record(hpa, apiVersion: Self.apiVersion, kind: Self.kind, reason: "SuccessfulRescale",
                                  message: "New size: \(desired); reason: \(reason)")
            if let behavior = behavior(of: hpa) {
                histories.update(key) { $0.recordScale(from: current, to: desired, behavior: behavior, at: now) }
            }
            logger.info("rescaled", metadata: ["hpa": .string(key), "from": .stringConvertible(current),
                                                "to": .stringConvertible(desired), "reason": .string(reason)])
        } else {
            desired = current
        }
        sync.setCurrent(replicas: current, metrics: metricStatuses)
        sync.status["desiredReplicas"] = .int(Int64(desired))
        if rescale { sync.status["lastScaleTime"] = .string(Timestamp.format(now)) }
        try await writeStatus(hpa, sync.status)
    }

    /// `spec.behavior`, with defaults filled in; nil when the autoscaler has none.
    func behavior(of hpa: JSONValue) -> ScalingBehavior? {
        ScalingBehavior(hpa[path: ["spec", "behavior"]],
                        downscaleStabilizationSeconds: Int32(AutoscalerOptions.seconds(options.downscaleStabilization)))
    }

    /// Stabilization and rate limits; sets AbleToScale and ScalingLimited.
    func normalize(_ hpa: JSONValue, key: String, current: Int32, desired: Int32, minReplicas: Int32, maxReplicas: Int32,
                   sync: inout SyncState) -> Int32 {
        let now = sync.now
        let behavior = behavior(of: hpa)
        let result = histories.update(key) { h in
            if let behavior {
                return ReplicaNormalizer.normalize(current: current, desired: desired, minReplicas: minReplicas, maxReplicas: maxReplicas,
                                                   behavior: behavior, history: &h, now: now)
            }
            return ReplicaNormalizer.normalizeWithoutBehavior(
                current: current, desired: desired, minReplicas: minReplicas, maxReplicas: maxReplicas,
                downscaleStabilization: AutoscalerOptions.seconds(options.downscaleStabilization), history: &h, now: now)
        }
        sync.conditions.set(AutoscalerConditions.ableToScale, true, result.ableToScale, now: now)
        sync.conditions.set(AutoscalerConditions.scalingLimited, result.limited, result.limit, now: now)
        return result.replicas
    }

    /// Writes `status` through `/status` when it differs from what the object has.
    func writeStatus(_ hpa: JSONValue, _ status: JSONValue) async throws {
        guard hpa["status"] != status, let name = hpa.name else { return }
        var body = hpa
        body["status"] = status
        var path = Self.resource.inNamespace(hpa.namespace).named(name)
        path.subresource = "status"
        do {
            _ = try await client.update(path.path, body)
        } catch let e as KubeAPIError where e.isNotFound {
            return
        }
    }

    func warn(_ hpa: JSONValue, _ reason: String, _ message: String) async {
        await recorder.record(hpa, apiVersion: Self.apiVersion, kind: Self.kind, type: "Warning", reason: reason, message: message)
    }

    static func describe(_ error: any Error) -> String {
        (error as? KubeAPIError)?.message ?? "\(error)"
    }
}

/// The status an autoscaler sync builds up.
struct SyncState {
    var status: JSONValue
    var conditions: AutoscalerConditions {
        didSet { status["conditions"] = conditions.json }
    }
    let now: Date

    init(hpa: JSONValue, now: Date) {
        var status = hpa["status"] ?? [:]
        if status.objectValue == nil { status = [:] }
        if let generation = hpa[path: ["metadata", "generation"]] { status["observedGeneration"] = generation }
        // Always present in Kubernetes (not omitempty): clients' models require it.
        if status["desiredReplicas"] == nil { status["desiredReplicas"] = 0 }
        self.status = status
        self.conditions = AutoscalerConditions(status["conditions"])
        self.now = now
    }

    mutating func setCurrent(replicas: Int32, metrics: [JSONValue]) {
        status["currentReplicas"] = .int(Int64(replicas))
        status["currentMetrics"] = metrics.isEmpty ? nil : .array(metrics)
        if status["desiredReplicas"] == nil { status["desiredReplicas"] = 0 }
    }
}

extension HorizontalPodAutoscalerController {
    /// Watches autoscalers (spec changes only: status writes and resyncs would only shorten
    /// the sync period); each reconcile requeues itself for the next sync.
    static func descriptor(client: any ResourceClient, options: AutoscalerOptions, workers: Int, logger: Logger) -> ControllerDescriptor {
        ControllerDescriptor(name: "horizontalpodautoscaler", workers: workers) { wiring in
            let queue = wiring.enqueue
            let enqueue: @Sendable (JSONValue) -> Void = { object in if let key = ObjectCache.key(of: object) { queue(key) } }
            wiring.watch(resource, InformerHandler(
                onAdd: { enqueue($0) },
                onUpdate: { old, new in
                    if old[path: ["metadata", "generation"]] != new[path: ["metadata", "generation"]] { enqueue(new) }
                },
                onDelete: { enqueue($0) }))
            return HorizontalPodAutoscalerController(client: client, autoscalers: wiring.cache(resource),
                                                     pods: wiring.cache(.core("pods")), options: options, logger: logger)
        }
    }
}
