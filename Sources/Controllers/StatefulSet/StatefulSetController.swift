import Foundation
import KubeClient
import KubeModel

/// Runs each StatefulSet's pods with stable identities (Kubernetes' statefulset controller):
/// snapshots the template as a ControllerRevision (the update revision; the current one stays
/// until a rollout completes), takes the step `StatefulSetPlan` decides, creates each pod's
/// claims from `volumeClaimTemplates` before the pod, hands claims of removed ordinals to
/// their pod when `whenScaled: Delete`, prunes history and reports `/status`.
public struct StatefulSetController: Reconciler {
    static let resource = ResourcePath(group: "apps", version: "v1", plural: "statefulsets")
    static let podResource = ResourcePath.core("pods")
    static let claimResource = ResourcePath.core("persistentvolumeclaims")

    let client: any ResourceClient
    let statefulSets: ObjectCache
    let pods: ObjectCache
    let revisions: ObjectCache
    let claims: ObjectCache
    let expectations: Expectations
    let now: @Sendable () -> Date
    /// Folds this controller's repeated events into counts, for the controller's lifetime.
    let correlator = EventCorrelator()
    var recorder: EventRecorder { EventRecorder(client: client, component: "statefulset-controller", correlator: correlator) }

    init(client: any ResourceClient, statefulSets: ObjectCache, pods: ObjectCache, revisions: ObjectCache,
         claims: ObjectCache = ObjectCache(), expectations: Expectations = Expectations(),
         now: @escaping @Sendable () -> Date = { Date() }) {
        self.client = client
        self.statefulSets = statefulSets
        self.pods = pods
        self.revisions = revisions
        self.claims = claims
        self.expectations = expectations
        self.now = now
    }

    /// Watches StatefulSets, their pods and their revisions.
    static func descriptor(client: any ResourceClient, workers: Int) -> ControllerDescriptor {
        ControllerDescriptor(name: "statefulset", workers: workers) { wiring in
            let expectations = Expectations()
            let sets = wiring.cache(resource)
            wiring.watchOwn(resource)
            wiring.watch(podResource, ControllerEvents.dependentHandler(ownerKind: "StatefulSet", owners: sets,
                                                                        expectations: expectations, enqueue: wiring.enqueue))
            wiring.watch(ControllerHistory.resource, ControllerEvents.dependentHandler(ownerKind: "StatefulSet", owners: sets,
                                                                                      expectations: nil, enqueue: wiring.enqueue))
            return StatefulSetController(client: client, statefulSets: sets, pods: wiring.cache(podResource),
                                         revisions: wiring.cache(ControllerHistory.resource), claims: wiring.cache(claimResource),
                                         expectations: expectations)
        }
    }

    public func reconcile(key: String) async throws -> ReconcileResult {
        guard let set = statefulSets.get(key) else {
            await expectations.remove(key)
            return .done
        }
        guard !ObjectRules.isTerminating(set), let selector = ObjectRules.selector(of: set), let uid = set.uid else { return .done }

        let history = ControllerHistory(client: client, owner: set, ownerKind: "StatefulSet", hashLabel: ControllerHistory.revisionHashLabel)
        let existing = ControllerHistory.revisions(of: set, in: revisions)
        let collisions = ObjectRules.int(set[path: ["status", "collisionCount"]])
        let (update, collisionCount) = try await history.snapshot(existing: existing, collisionCount: collisions)
        let updateRevision = update.name ?? ""
        let recorded = set[path: ["status", "currentRevision"]]?.stringValue ?? ""
        let current = existing.first { $0.name == recorded && !recorded.isEmpty } ?? update
        let currentRevision = current.name ?? updateRevision

        let owned = try await ownedPods(set, uid: uid, selector: selector)
        let plan = StatefulSetPlan(set: set, pods: owned, currentRevision: currentRevision, updateRevision: updateRevision, now: now())
        if await expectations.satisfied(key) {
            for step in plan.steps() {
                switch step {
                case .create(let ordinal, let fromUpdate):
                    let template = Self.template(of: fromUpdate ? update : current) ?? set[path: ["spec", "template"]] ?? .object([:])
                    try await createPod(set, ordinal: ordinal, template: template,
                                        revision: fromUpdate ? updateRevision : currentRevision, key: key)
                case .delete(let pod):
                    try await deletePod(pod, set: set, condemned: !plan.range.contains(StatefulPodIdentity.ordinal(of: pod, set: set.name ?? "") ?? -1),
                                        key: key)
                }
            }
        }

        try await syncClaimOwners(set, plan: plan)
        let live = Set(owned.map(StatefulSetPlan.revision) + [currentRevision, updateRevision])
        try await history.truncate(ControllerHistory.revisions(of: set, in: revisions), live: live,
                                   limit: ObjectRules.int(set[path: ["spec", "revisionHistoryLimit"]], default: 10))
        return try await updateStatus(set, plan: plan, owned: owned, collisionCount: collisionCount)
    }

    /// The pod template a revision snapshotted.
    static func template(of revision: JSONValue) -> JSONValue? {
        guard var template = revision[path: ["data", "spec", "template"]], template.objectValue != nil else { return nil }
        template["$patch"] = nil
        return template
    }

    /// Pods controlled by the set; orphans with the set's labels and an ordinal name are adopted.
    private func ownedPods(_ set: JSONValue, uid: String, selector: LabelSelector) async throws -> [JSONValue] {
        var owned: [JSONValue] = []
        for pod in pods.list(namespace: set.namespace ?? "") {
            if let ref = ObjectRules.controllerRef(of: pod) {
                if ref["uid"]?.stringValue == uid { owned.append(pod) }
            } else if selector.matches(pod.labels), StatefulPodIdentity.ordinal(of: pod, set: set.name ?? "") != nil,
                      !ObjectRules.isTerminating(pod) {
                owned.append(try await ControlledPods.adopt(pod, by: set, apiVersion: "apps/v1", kind: "StatefulSet", client: client))
            }
        }
        return owned
    }

    private func createPod(_ set: JSONValue, ordinal: Int, template: JSONValue, revision: String, key: String) async throws {
        let setName = set.name ?? ""
        let podName = StatefulPodIdentity.podName(set: setName, ordinal: ordinal)
        for claimTemplate in StatefulPodIdentity.claimTemplates(set) {
            try await ensureClaim(set, template: claimTemplate, ordinal: ordinal, podName: podName)
        }
        await expectations.expect(key, adds: 1)
        let pod = StatefulPodIdentity.newPod(set: set, template: template, ordinal: ordinal, revision: revision)
        do {
            _ = try await client.create(Self.podResource.inNamespace(set.namespace).path, pod)
            await recorder.record(set, apiVersion: "apps/v1", kind: "StatefulSet", reason: "SuccessfulCreate",
                                  message: "create Pod \(podName) in StatefulSet \(setName) successful")
        } catch {
            await expectations.creationObserved(key)
            await recorder.record(set, apiVersion: "apps/v1", kind: "StatefulSet", type: "Warning", reason: "FailedCreate",
                                  message: "create Pod \(podName) in StatefulSet \(setName) failed error: \(error)")
            throw error
        }
    }

    /// Deletes a pod; a condemned one first takes its claims over from the set when the set
    /// deletes claims on scale-down, so the garbage collector removes them with it.
    private func deletePod(_ pod: JSONValue, set: JSONValue, condemned: Bool, key: String) async throws {
        let setName = set.name ?? ""
        if condemned, StatefulPodIdentity.retention(set, "whenScaled") == "Delete" {
            try await handClaims(of: pod, from: set)
        }
        await expectations.expect(key, deletes: 1)
        do {
            try await ControlledPods.delete(pod, client: client)
            await recorder.record(set, apiVersion: "apps/v1", kind: "StatefulSet", reason: "SuccessfulDelete",
                                  message: "delete Pod \(pod.name ?? "") in StatefulSet \(setName) successful")
        } catch {
            await expectations.deletionObserved(key)
            if (error as? KubeAPIError)?.isNotFound != true { throw error }
        }
    }
}
