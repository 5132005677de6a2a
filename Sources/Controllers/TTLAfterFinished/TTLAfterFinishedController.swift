import Foundation
import KubeClient
import KubeModel

/// Deletes finished Jobs `ttlSecondsAfterFinished` after they finished (Kubernetes'
/// ttl-after-finished controller), in the foreground so that their pods go first.
public struct TTLAfterFinishedController: Reconciler {
    let client: any ResourceClient
    let jobs: ObjectCache
    let now: @Sendable () -> Date

    init(client: any ResourceClient, jobs: ObjectCache, now: @escaping @Sendable () -> Date = { Date() }) {
        self.client = client
        self.jobs = jobs
        self.now = now
    }

    static func descriptor(client: any ResourceClient) -> ControllerDescriptor {
        ControllerDescriptor(name: "ttl-after-finished", workers: 1) { wiring in
            wiring.watchOwn(JobController.resource)
            return TTLAfterFinishedController(client: client, jobs: wiring.cache(JobController.resource))
        }
    }

    public func reconcile(key: String) async throws -> ReconcileResult {
        guard let job = jobs.get(key), !ObjectRules.isTerminating(job),
              let ttl = job[path: ["spec", "ttlSecondsAfterFinished"]]?.intValue,
              let finished = JobConditions.finishTime(job) else { return .done }
        let expiry = finished.addingTimeInterval(TimeInterval(ttl))
        let remaining = expiry.timeIntervalSince(now())
        if remaining > 0 { return .requeue(after: .milliseconds(Int64(remaining * 1000) + 1)) }
        let path = JobController.resource.inNamespace(job.namespace).named(job.name ?? "").path
        // The uid precondition spares a new Job of the same name.
        let options: JSONValue = ["apiVersion": "v1", "kind": "DeleteOptions", "propagationPolicy": "Foreground",
                                  "preconditions": ["uid": .string(job.uid ?? "")]]
        do { _ = try await client.delete(path, options: options) } catch let e as KubeAPIError where e.isNotFound {}
        return .done
    }
}
