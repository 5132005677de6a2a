import Foundation
import KubeModel

/// The pods a Job creates: its template, controlled by the Job, held by the tracking
/// finalizer until counted; in Indexed mode each carries its completion index (annotation,
/// label, `JOB_COMPLETION_INDEX` through the downward API, hostname `<job>-<index>`).
enum JobPodTemplate {
    static let trackingFinalizer = "batch.kubernetes.io/job-tracking"
    static let indexAnnotation = "batch.kubernetes.io/job-completion-index"
    static let indexEnv = "JOB_COMPLETION_INDEX"

    static func pod(for job: JSONValue, index: Int?) -> JSONValue {
        let template = job[path: ["spec", "template"]] ?? .object([:])
        let name = job.name ?? ""
        var meta: JSONValue = [
            "generateName": .string(index.map { "\(name)-\($0)-" } ?? "\(name)-"),
            "ownerReferences": [ObjectRules.ownerReference(to: job, apiVersion: "batch/v1", kind: "Job")],
        ]
        if let ns = job.namespace { meta["namespace"] = .string(ns) }
        var labels = template[path: ["metadata", "labels"]]?.objectValue ?? [:]
        var annotations = template[path: ["metadata", "annotations"]]?.objectValue ?? [:]
        var finalizers = template[path: ["metadata", "finalizers"]]?.arrayValue ?? []
        finalizers.append(.string(trackingFinalizer))
        var spec = template["spec"] ?? .object([:])
        if let index {
            annotations[indexAnnotation] = .string(String(index))
            labels[indexAnnotation] = .string(String(index))
            if (spec["hostname"]?.stringValue ?? "").isEmpty { spec["hostname"] = .string("\(name)-\(index)") }
            for key in ["initContainers", "containers"] {
                guard var containers = spec[key]?.arrayValue else { continue }
                for i in containers.indices { addIndexEnv(&containers[i]) }
                spec[key] = .array(containers)
            }
        }
        if !labels.isEmpty { meta["labels"] = .object(labels) }
        if !annotations.isEmpty { meta["annotations"] = .object(annotations) }
        meta["finalizers"] = .array(finalizers)
        return ["apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec]
    }

    /// `JOB_COMPLETION_INDEX` from the index annotation, unless the container sets it.
    private static func addIndexEnv(_ container: inout JSONValue) {
        var env = container["env"]?.arrayValue ?? []
        guard !env.contains(where: { $0["name"]?.stringValue == indexEnv }) else { return }
        env.append(["name": .string(indexEnv),
                    "valueFrom": ["fieldRef": ["apiVersion": "v1", "fieldPath": .string("metadata.annotations['\(indexAnnotation)']")]]])
        container["env"] = .array(env)
    }

    /// The completion index of a pod of an Indexed Job, if valid for `completions`.
    static func index(of pod: JSONValue, completions: Int) -> Int? {
        guard let text = pod.annotations[indexAnnotation] ?? pod.labels[indexAnnotation], let i = Int(text),
              i >= 0, i < completions else { return nil }
        return i
    }

    static func hasTrackingFinalizer(_ pod: JSONValue) -> Bool {
        (pod[path: ["metadata", "finalizers"]]?.arrayValue ?? []).contains(.string(trackingFinalizer))
    }
}
