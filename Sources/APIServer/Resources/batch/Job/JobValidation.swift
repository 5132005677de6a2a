import Foundation
import KubeModel

/// `ValidateJob`, `ValidateJobSpec` and `ValidateJobSpecUpdate` as kube-apiserver applies
/// them; the CronJob's template goes through `validateSpec` too.
enum JobValidation {
    typealias K = ResourceKit

    /// Indexed Jobs: at most this many completions and this much parallelism.
    static let maxIndexed: Int64 = 100_000

    static func validateJob(_ job: JSONValue) -> [FieldError] {
        let spec = job["spec"] ?? .object([:])
        var errs = validateSpec(spec, path: "spec", requireSelector: true)
        if spec["manualSelector"]?.boolValue != true, let uid = job.uid {
            // A generated selector must be the one the server generated.
            let matchLabels = K.stringMap(spec[path: ["selector", "matchLabels"]])
            let labels = K.stringMap(spec[path: ["template", "metadata", "labels"]])
            if matchLabels[JobStrategy.controllerUIDLabel] != uid || labels[JobStrategy.controllerUIDLabel] != uid {
                errs.append(.invalid("spec.selector", FieldError.show(spec["selector"]), "`selector` not auto-generated"))
            }
        }
        return errs
    }

    static func validateSpec(_ spec: JSONValue, path p: String, requireSelector: Bool) -> [FieldError] {
        func at(_ field: String) -> String { K.child(p, field) }
        var errs: [FieldError] = []
        for field in ["parallelism", "completions", "activeDeadlineSeconds", "backoffLimit", "ttlSecondsAfterFinished",
                      "backoffLimitPerIndex", "maxFailedIndexes"] {
            errs += K.nonnegative(spec[field], at(field))
        }
        let selector = spec["selector"].flatMap { $0.isNull ? nil : $0 }
        if let selector {
            errs += K.validateLabelSelector(selector, at("selector"))
        } else if requireSelector {
            errs.append(.required(at("selector"), ""))
        }
        errs += validateTemplate(spec, selector: selector, path: p)
        let mode = K.string(spec["completionMode"])
        let indexed = mode == "Indexed"
        errs += K.enumValue(spec["completionMode"], at("completionMode"), ["NonIndexed", "Indexed"], required: false)
        if indexed {
            if let c = spec["completions"]?.intValue {
                if c > maxIndexed { errs.append(.invalid(at("completions"), String(c), "must be less than or equal to 100000 when completion mode is Indexed")) }
            } else {
                errs.append(.required(at("completions"), "when completion mode is Indexed"))
            }
            if let par = spec["parallelism"]?.intValue, par > maxIndexed {
                errs.append(.invalid(at("parallelism"), String(par), "must be less than or equal to 100000 when completion mode is Indexed"))
            }
        }
        let perIndex = spec["backoffLimitPerIndex"].map { !$0.isNull } ?? false
        if perIndex && !indexed {
            errs.append(.invalid(at("backoffLimitPerIndex"), FieldError.show(spec["backoffLimitPerIndex"]), "requires indexed completion mode"))
        }
        if let mfi = spec["maxFailedIndexes"], !mfi.isNull {
            if !perIndex { errs.append(.required(at("backoffLimitPerIndex"), "when maxFailedIndexes is specified")) }
            if let n = mfi.intValue, let c = spec["completions"]?.intValue, n > c {
                errs.append(.invalid(at("maxFailedIndexes"), String(n), "must be less than or equal to completions"))
            }
        }
        errs += K.enumValue(spec["podReplacementPolicy"], at("podReplacementPolicy"), ["TerminatingOrFailed", "Failed"], required: false)
        if let policy = spec["podFailurePolicy"], !policy.isNull {
            errs += JobFailurePolicyValidation.validate(policy, path: at("podFailurePolicy"), perIndex: perIndex)
            if K.string(spec[path: ["template", "spec", "restartPolicy"]]) != "Never" {
                errs.append(.invalid(K.child(at("template"), "spec.restartPolicy"), FieldError.show(spec[path: ["template", "spec", "restartPolicy"]]),
                                     "only \"Never\" is supported when podFailurePolicy is specified"))
            }
            if let rp = spec["podReplacementPolicy"]?.stringValue, rp != "Failed" {
                errs.append(.notSupported(at("podReplacementPolicy"), FieldError.show(.string(rp)), ["Failed"]))
            }
        }
        if let policy = spec["successPolicy"], !policy.isNull {
            if !indexed {
                errs.append(.invalid(at("successPolicy"), FieldError.show(policy), "requires indexed completion mode"))
            } else {
                errs += JobFailurePolicyValidation.validateSuccessPolicy(policy, path: at("successPolicy"), completions: spec["completions"]?.intValue ?? 0)
            }
        }
        return errs
    }

    /// The pod template: valid, matching the selector, restartPolicy Never or OnFailure.
    private static func validateTemplate(_ spec: JSONValue, selector: JSONValue?, path: String) -> [FieldError] {
        let tp = K.child(path, "template")
        guard let template = spec["template"], template.objectValue != nil else { return [.required(tp, "")] }
        var errs: [FieldError] = []
        if let selector, !K.selectorIsEmpty(selector), let parsed = try? LabelSelector.fromJSON(selector),
           !parsed.matches(K.stringMap(template[path: ["metadata", "labels"]])) {
            errs.append(.invalid(K.child(tp, "metadata.labels"), K.showStringMap(template[path: ["metadata", "labels"]]),
                                 "`selector` does not match template `labels`"))
        }
        errs += PodSpecValidation.validateTemplate(template, path: tp)
        let rp = K.string(template[path: ["spec", "restartPolicy"]])
        if rp != "OnFailure" && rp != "Never" {
            errs.append(.required(K.child(tp, "spec.restartPolicy"), "valid values: \"OnFailure\", \"Never\""))
        }
        return errs
    }

    /// Fields that cannot change once the Job exists. The template may change only in its
    /// scheduling directives while the Job is suspended and has never started.
    static func validateSpecUpdate(_ job: JSONValue, old: JSONValue) -> [FieldError] {
        let spec = job["spec"] ?? .object([:])
        let was = old["spec"] ?? .object([:])
        var errs = K.immutable(spec["selector"], was["selector"], "spec.selector")
        for field in ["completionMode", "podFailurePolicy", "backoffLimitPerIndex", "successPolicy", "manualSelector"] {
            errs += K.immutable(spec[field], was[field], "spec.\(field)")
        }
        // Elastic Indexed Jobs: completions may follow parallelism.
        let elastic = K.string(spec["completionMode"]) == "Indexed" && spec["completions"] == spec["parallelism"]
            && was["completions"] == was["parallelism"]
        if !elastic { errs += K.immutable(spec["completions"], was["completions"], "spec.completions") }
        let schedulingMutable = was["suspend"]?.boolValue == true && (old[path: ["status", "startTime"]]?.isNull ?? true)
        func comparable(_ template: JSONValue?) -> JSONValue? {
            guard var t = template, schedulingMutable else { return template }
            t[path: ["metadata", "labels"]] = nil
            t[path: ["metadata", "annotations"]] = nil
            for field in ["nodeSelector", "tolerations", "schedulingGates", "affinity"] { t[path: ["spec", field]] = nil }
            return t
        }
        if comparable(spec["template"]) != comparable(was["template"]) {
            errs.append(.invalid("spec.template", "", "field is immutable"))
        }
        return errs
    }

    static func validateStatus(_ status: JSONValue?) -> [FieldError] {
        var errs: [FieldError] = []
        for field in ["active", "succeeded", "failed", "ready", "terminating"] {
            errs += K.nonnegative(status?[field], "status.\(field)")
        }
        return errs
    }
}
