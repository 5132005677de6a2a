import Foundation
import KubeModel

/// batch/v1 Job: pods run to completion. Defaults as Kubernetes' (parallelism and completions
/// 1, backoffLimit 6, NonIndexed), a selector generated from the Job's uid unless
/// `manualSelector`, the template's restart policy Never or OnFailure; the job controller
/// writes `status`.
public struct JobStrategy: ResourceStrategy {
    public var tracksGeneration: Bool { true }
    typealias K = ResourceKit

    /// Labels the server puts on the template and the selector (and their legacy names).
    public static let controllerUIDLabel = "batch.kubernetes.io/controller-uid"
    public static let jobNameLabel = "batch.kubernetes.io/job-name"
    public static let legacyControllerUIDLabel = "controller-uid"
    public static let legacyJobNameLabel = "job-name"

    public init() {}

    public let definition = ResourceDefinition(
        group: "batch", versions: ["v1"], kind: "Job", plural: "jobs", shortNames: [],
        namespaced: true, categories: ["all"], subresources: [.status],
        schemaNames: ["v1": "io.k8s.api.batch.v1.Job"])

    public var subresourceHandlers: [SubresourceHandler] { [.status] }

    public func applyDefaults(to object: inout JSONValue) {
        guard var spec = object["spec"], spec.objectValue != nil else { return }
        Self.defaultSpec(&spec)
        object["spec"] = spec
    }

    /// `SetDefaults_Job` on a JobSpec (the CronJob's template gets only the pod defaults).
    static func defaultSpec(_ spec: inout JSONValue) {
        let completionsUnset = spec["completions"] == nil || spec["completions"]?.isNull == true
        let parallelismUnset = spec["parallelism"] == nil || spec["parallelism"]?.isNull == true
        if completionsUnset && parallelismUnset { spec["completions"] = 1 }
        K.fill(&spec, "parallelism", 1)
        let perIndex = spec["backoffLimitPerIndex"].map { !$0.isNull } ?? false
        K.fill(&spec, "backoffLimit", perIndex ? .int(Int64(Int32.max)) : 6)
        K.fill(&spec, "completionMode", "NonIndexed")
        K.fill(&spec, "suspend", false)
        K.fill(&spec, "manualSelector", false)
        let hasFailurePolicy = spec["podFailurePolicy"].map { !$0.isNull } ?? false
        K.fill(&spec, "podReplacementPolicy", hasFailurePolicy ? "Failed" : "TerminatingOrFailed")
        K.withChild(&spec, "podFailurePolicy") { policy in
            K.eachElement(&policy, "rules") { rule in
                guard var patterns = rule["onPodConditions"]?.arrayValue else { return }
                for i in patterns.indices where patterns[i].objectValue != nil { K.fill(&patterns[i], "status", "True") }
                rule["onPodConditions"] = .array(patterns)
            }
        }
        AppsRules.defaultTemplate(&spec)
    }

    /// Generates the selector and the template's labels from the uid (`generateSelector`),
    /// unless the client asked to choose them.
    public func prepareForCreate(_ object: inout JSONValue) {
        guard object[path: ["spec", "manualSelector"]]?.boolValue != true,
              object["spec"]?.objectValue != nil, let uid = object.uid else { return }
        let name = object.name ?? ""
        var labels = object[path: ["spec", "template", "metadata", "labels"]]?.objectValue ?? [:]
        for (key, value) in [(Self.controllerUIDLabel, uid), (Self.jobNameLabel, name),
                             (Self.legacyControllerUIDLabel, uid), (Self.legacyJobNameLabel, name)] where labels[key] == nil {
            labels[key] = .string(value)
        }
        if object[path: ["spec", "template"]]?.objectValue == nil { object[path: ["spec", "template"]] = .object([:]) }
        if object[path: ["spec", "template", "metadata"]]?.objectValue == nil { object[path: ["spec", "template", "metadata"]] = .object([:]) }
        object[path: ["spec", "template", "metadata", "labels"]] = .object(labels)
        var selector = object[path: ["spec", "selector"]]?.objectValue ?? [:]
        var matchLabels = selector["matchLabels"]?.objectValue ?? [:]
        if matchLabels[Self.controllerUIDLabel] == nil { matchLabels[Self.controllerUIDLabel] = .string(uid) }
        selector["matchLabels"] = .object(matchLabels)
        object[path: ["spec", "selector"]] = .object(selector)
    }

    public func validate(_ object: JSONValue) -> [FieldError] {
        JobValidation.validateJob(object)
    }

    public func validateUpdate(_ object: JSONValue, old: JSONValue) -> [FieldError] {
        JobValidation.validateJob(object) + JobValidation.validateSpecUpdate(object, old: old)
    }

    public func validateStatusUpdate(_ object: JSONValue, old: JSONValue) -> [FieldError] {
        JobValidation.validateStatus(object["status"])
    }

    public func selectableField(_ field: String, of object: JSONValue) -> String?? {
        // kube-apiserver's Job field set: status.successful besides the metadata fields.
        field == "status.successful" ? .some(String(K.int(object[path: ["status", "succeeded"]]))) : nil
    }
}
