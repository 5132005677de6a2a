import Foundation
import KubeModel

/// Rules the apps/v1 workload kinds share.
enum AppsRules {
    typealias K = ResourceKit

    static func defaultTemplate(_ spec: inout JSONValue) {
        guard var template = spec["template"], template.objectValue != nil else { return }
        var podSpec = template["spec"] ?? .object([:])
        PodSpecDefaults.apply(to: &podSpec)
        template["spec"] = podSpec
        spec["template"] = template
    }

    /// replicas, minReadySeconds, selector (required, non-empty, valid) and the template.
    static func validateControllerSpec(_ spec: JSONValue, kind: String = "ReplicaSet") -> [FieldError] {
        var errs = K.nonnegative(spec["replicas"], "spec.replicas")
        errs += K.nonnegative(spec["minReadySeconds"], "spec.minReadySeconds")
        let selector = spec["selector"].flatMap { $0.isNull ? nil : $0 }
        if let selector {
            errs += K.validateLabelSelector(selector, "spec.selector")
            if K.selectorIsEmpty(selector) {
                errs.append(.invalid("spec.selector", FieldError.show(selector), "empty selector is invalid for \(kind == "ReplicaSet" ? "deployment" : kind.lowercased())"))
            }
        } else {
            errs.append(.required("spec.selector", ""))
        }
        errs += PodSpecValidation.validateTemplateForController(spec["template"], selector: selector, path: "spec.template", kind: kind)
        return errs
    }

    /// Status counters must be non-negative.
    static func validateReplicaStatus(_ status: JSONValue?, extra: [String]) -> [FieldError] {
        var errs: [FieldError] = []
        for f in ["replicas", "readyReplicas", "availableReplicas", "observedGeneration"] + extra {
            errs += K.nonnegative(status?[f], "status.\(f)")
        }
        return errs
    }

    /// kubectl's CONTAINERS and IMAGES cells: comma-joined from the template.
    static func containerCells(_ spec: JSONValue) -> (String, String) {
        let containers = K.array(spec[path: ["template", "spec", "containers"]])
        return (containers.map { K.string($0["name"]) }.joined(separator: ","), containers.map { K.string($0["image"]) }.joined(separator: ","))
    }
}
