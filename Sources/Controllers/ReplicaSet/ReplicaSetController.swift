import Foundation
import KubeClient
import KubeModel

/// Keeps `spec.replicas` active pods matching each ReplicaSet's selector (Kubernetes'
/// replicaset controller): adopts matching orphans, releases owned pods that stopped matching,
/// creates pods from the template or deletes the least useful surplus, and reports counts
/// through `/status`. One step per reconcile, read from the informer caches. The same logic
/// runs ReplicationControllers (`kind`).
public struct ReplicaSetController: Reconciler {
    static let resource = ResourcePath(group: "apps", version: "v1", plural: "replicasets")
    static let podResource = ResourcePath.core("pods")
    /// Pods created or deleted by one reconcile at most (Kubernetes' `burstReplicas`).
    static let burst = 500

    let kind: ReplicaOwnerKind
    let client: any ResourceClient
    let replicaSets: ObjectCache
    let pods: ObjectCache
    let expectations: Expectations
    let now: @Sendable () -> Date
    /// Folds this controller's repeated events into counts, for the controller's lifetime.
    let correlator = EventCorrelator()
    var recorder: EventRecorder { EventRecorder(client: client, component: "\(kind.controllerName)-controller", correlator: correlator) }

    init(kind: ReplicaOwnerKind = .replicaSet, client: any ResourceClient, replicaSets: ObjectCache, pods: ObjectCache,
         expectations: Expectations = Expectations(), now: @escaping @Sendable () -> Date = { Date() }) {
        self.kind = kind
        self.client = client
        self.replicaSets = replicaSets
        self.pods = pods
        self.expectations = expectations
        self.now = now
    }

    /// Watches ReplicaSets and pods: a pod wakes its controlling ReplicaSet (an orphan, every
    /// ReplicaSet selecting it); pod creations and deletions seen settle the expectations.
    static func descriptor(_ kind: ReplicaOwnerKind = .replicaSet, client: any ResourceClient, workers: Int) -> ControllerDescriptor {
        ControllerDescriptor(name: kind.controllerName, workers: workers) { wiring in
            let expectations = Expectations()
            let replicaSets = wiring.cache(kind.resource)
            wiring.watchOwn(kind.resource)
            wiring.watch(podResource, ControllerEvents.dependentHandler(ownerKind: kind.kind, owners: replicaSets,
                                                                        expectations: expectations, enqueue: wiring.enqueue))
            return ReplicaSetController(kind: kind, client: client, replicaSets: replicaSets, pods: wiring.cache(podResource),
                                        expectations: expectations)
        }
    }

    public func reconcile(key: String) async throws -> ReconcileResult {
        guard let rs = replicaSets.get(key) else {
            await expectations.remove(key)
            return .done
        }
        let namespace = ObjectCache.split(key).namespace ?? ""
        // An invalid selector will not fix itself by retrying; the API server refuses them anyway.
        guard let selector = ObjectRules.selector(of: rs), let uid = rs.uid else { return .done }
        let rsDeleting = ObjectRules.isTerminating(rs)

        var owned: [JSONValue] = []
        var firstError: (any Error)?
        for pod in pods.list(namespace: namespace) where ObjectRules.isActive(pod) {
            let matches = selector.matches(pod.labels)
            if let ref = ObjectRules.controllerRef(of: pod) {
                guard ref["uid"]?.stringValue == uid else { continue }
                if matches { owned.append(pod); continue }
                if !rsDeleting { do { try await release(pod, uid: uid) } catch { firstError = firstError ?? error } }
            } else if matches && !rsDeleting {
                do { owned.append(try await adopt(pod, rs: rs)) } catch { firstError = firstError ?? error }
            }
        }

        // nil: no attempt this round, so any ReplicaFailure condition stays as it is.
        var outcome: ReplicaOutcome?
        if !rsDeleting, await expectations.satisfied(key) {
            do {
                try await manageReplicas(owned, rs: rs, key: key)
                outcome = .succeeded
            } catch {
                firstError = firstError ?? error
                let desired = ObjectRules.int(rs[path: ["spec", "replicas"]], default: 1)
                outcome = .failed(reason: owned.count < desired ? "FailedCreate" : "FailedDelete", message: "\(error)")
            }
        }
        let requeue = try await updateStatus(rs, owned: owned, outcome: outcome)
        if let firstError { throw firstError }
        return requeue
    }

    // MARK: - ownership

    private func adopt(_ pod: JSONValue, rs: JSONValue) async throws -> JSONValue {
        try await ControlledPods.adopt(pod, by: rs, apiVersion: kind.apiVersion, kind: kind.kind, client: client)
    }

    private func release(_ pod: JSONValue, uid: String) async throws {
        let refs = (pod[path: ["metadata", "ownerReferences"]]?.arrayValue ?? []).filter { $0["uid"]?.stringValue != uid }
        do { _ = try await ControlledPods.setOwners(pod, refs, client: client) } catch let e as KubeAPIError where e.isNotFound {}
    }

    // MARK: - replicas

    private func manageReplicas(_ owned: [JSONValue], rs: JSONValue, key: String) async throws {
        let desired = ObjectRules.int(rs[path: ["spec", "replicas"]], default: 1)
        let diff = owned.count - desired
        if diff < 0 {
            try await createPods(min(-diff, Self.burst), rs: rs, key: key)
        } else if diff > 0 {
            let victims = Array(PodDeletionOrder.sorted(owned).prefix(min(diff, Self.burst)))
            try await deletePods(victims, rs: rs, key: key)
        }
    }

    /// Creates in doubling batches (1, 2, 4, …) and stops at the first failing batch, so a
    /// quota or admission error costs one request instead of hundreds. A batch's events are
    /// written while the next batch is created: the next batch waits for the creates only,
    /// as Kubernetes' recorder never holds up the controller that records.
    private func createPods(_ count: Int, rs: JSONValue, key: String) async throws {
        await expectations.expect(key, adds: count)
        let pod = Self.pod(for: rs, kind: kind)
        let path = Self.podResource.inNamespace(rs.namespace).path
        let failure: (any Error)? = await withTaskGroup(of: Void.self) { events in
            var remaining = count
            var batch = 1
            while remaining > 0 {
                let size = min(batch, remaining)
                remaining -= size
                let outcomes = await withTaskGroup(of: Result<JSONValue, any Error>.self) { group in
                    for _ in 0..<size {
                        group.addTask {
                            do { return .success(try await client.create(path, pod)) } catch { return .failure(error) }
                        }
                    }
                    var outcomes: [Result<JSONValue, any Error>] = []
                    for await outcome in group { outcomes.append(outcome) }
                    return outcomes
                }
                for outcome in outcomes {
                    events.addTask { await self.recordCreate(outcome, rs: rs) }
                }
                var errors: [any Error] = []
                for case .failure(let error) in outcomes { errors.append(error) }
                // Failed creations will never show up in the cache.
                for _ in errors { await expectations.creationObserved(key) }
                if let first = errors.first {
                    for _ in 0..<remaining { await expectations.creationObserved(key) }
                    return first
                }
                batch *= 2
            }
            return nil
        }
        if let failure { throw failure }
    }

    private func recordCreate(_ outcome: Result<JSONValue, any Error>, rs: JSONValue) async {
        switch outcome {
        case .success(let created):
            await recorder.record(rs, apiVersion: kind.apiVersion, kind: kind.kind, reason: "SuccessfulCreate",
                                  message: "Created pod: \(created.name ?? "")")
        case .failure(let error):
            await recorder.record(rs, apiVersion: kind.apiVersion, kind: kind.kind, type: "Warning", reason: "FailedCreate",
                                  message: "Error creating: \(error)")
        }
    }

    private func deletePods(_ victims: [JSONValue], rs: JSONValue, key: String) async throws {
        await expectations.expect(key, deletes: victims.count)
        let errors = await withTaskGroup(of: (any Error)?.self) { group in
            for pod in victims {
                group.addTask {
                    do {
                        try await ControlledPods.delete(pod, client: client)
                        await recorder.record(rs, apiVersion: kind.apiVersion, kind: kind.kind, reason: "SuccessfulDelete",
                                              message: "Deleted pod: \(pod.name ?? "")")
                        return nil
                    } catch { return error }
                }
            }
            var errors: [any Error] = []
            for await e in group { if let e { errors.append(e) } }
            return errors
        }
        var firstError: (any Error)?
        for error in errors {
            await expectations.deletionObserved(key)
            if (error as? KubeAPIError)?.isNotFound != true { firstError = firstError ?? error }
        }
        if let firstError { throw firstError }
    }

    /// A new pod from the ReplicaSet's (or ReplicationController's) template, controlled by it.
    static func pod(for rs: JSONValue, kind: ReplicaOwnerKind = .replicaSet) -> JSONValue {
        let template = rs[path: ["spec", "template"]] ?? .object([:])
        var meta: JSONValue = [
            "generateName": .string((rs.name ?? "") + "-"),
            "ownerReferences": [ObjectRules.ownerReference(to: rs, apiVersion: kind.apiVersion, kind: kind.kind)],
        ]
        if let ns = rs.namespace { meta["namespace"] = .string(ns) }
        if let labels = template[path: ["metadata", "labels"]] { meta["labels"] = labels }
        if let annotations = template[path: ["metadata", "annotations"]] { meta["annotations"] = annotations }
        if let finalizers = template[path: ["metadata", "finalizers"]] { meta["finalizers"] = finalizers }
        return ["apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": template["spec"] ?? .object([:])]
    }

    // MARK: - status

    /// Writes the counts seen this round when they changed; asks to be called again when a
    /// ready pod will become available (minReadySeconds).
    private func updateStatus(_ rs: JSONValue, owned: [JSONValue], outcome: ReplicaOutcome?) async throws -> ReconcileResult {
        let minReady = ObjectRules.int(rs[path: ["spec", "minReadySeconds"]])
        let t = now()
        let templateLabels = rs.stringMap(at: ["spec", "template", "metadata", "labels"])
        let fullyLabeled = owned.filter { LabelSelector.setMatches(templateLabels, $0.labels) }.count
        let ready = owned.filter(ObjectRules.isReady)
        let available = ready.filter { ObjectRules.isAvailable($0, minReadySeconds: minReady, now: t) }

        var status = rs["status"] ?? .object([:])
        let before = status
        status["replicas"] = .int(Int64(owned.count))
        status["fullyLabeledReplicas"] = .int(Int64(fullyLabeled))
        status["readyReplicas"] = .int(Int64(ready.count))
        status["availableReplicas"] = .int(Int64(available.count))
        status["observedGeneration"] = rs[path: ["metadata", "generation"]] ?? .int(1)
        if let outcome {
            let had = status["conditions"]?.arrayValue ?? []
            let conditions = Self.replicaFailure(had, outcome: outcome, now: t)
            // A merge patch removes a field only when it is sent as null.
            if conditions != had { status["conditions"] = conditions.isEmpty ? .null : .array(conditions) }
        }
        if status != before {
            let path = kind.resource.inNamespace(rs.namespace).named(rs.name ?? "")
            var sub = path
            sub.subresource = "status"
            do { _ = try await client.patch(sub.path, ["status": status], type: .merge) } catch let e as KubeAPIError where e.isNotFound {}
        }

        guard minReady > 0, available.count < ready.count else { return .done }
        let waits = ready.compactMap { ObjectRules.readySince($0) }
            .map { $0.addingTimeInterval(TimeInterval(minReady)).timeIntervalSince(t) }
            .filter { $0 > 0 }
        let wait = max(1, waits.min() ?? Double(minReady))
        return .requeue(after: .milliseconds(Int64(wait * 1000)))
    }
}

/// What managing replicas did in one reconcile, for the ReplicaFailure condition.
enum ReplicaOutcome: Sendable, Equatable {
    case succeeded
    case failed(reason: String, message: String)
}

extension ReplicaSetController {
    /// Kubernetes' ReplicaFailure condition: set (True, with the error) when creating or
    /// deleting pods failed, removed once managing replicas succeeds again. The transition time
    /// is kept while the condition stays, so an unchanged failure costs no status write.
    static func replicaFailure(_ conditions: [JSONValue], outcome: ReplicaOutcome, now: Date) -> [JSONValue] {
        let others = conditions.filter { $0["type"]?.stringValue != "ReplicaFailure" }
        guard case .failed(let reason, let message) = outcome else { return others }
        let old = conditions.first { $0["type"]?.stringValue == "ReplicaFailure" }
        if let old, old["status"]?.stringValue == "True", old["reason"]?.stringValue == reason,
           old["message"]?.stringValue == message { return conditions }
        let stamp = old?["status"]?.stringValue == "True" ? old?["lastTransitionTime"] : nil
        let condition: JSONValue = ["type": "ReplicaFailure", "status": "True", "reason": .string(reason),
                                    "message": .string(message),
                                    "lastTransitionTime": stamp ?? .string(Timestamp.format(now))]
        return others + [condition]
    }
}
