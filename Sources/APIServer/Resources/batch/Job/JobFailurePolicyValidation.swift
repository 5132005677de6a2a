import Foundation
import KubeModel

/// Validation of a Job's `podFailurePolicy` and `successPolicy`, as kube-apiserver's.
enum JobFailurePolicyValidation {
    typealias K = ResourceKit

    static let actions = ["Count", "FailIndex", "FailJob", "Ignore"]
    static let maxRules = 20

    static func validate(_ policy: JSONValue, path: String, perIndex: Bool) -> [FieldError] {
        let rules = K.array(policy["rules"])
        let rp = K.child(path, "rules")
        var errs: [FieldError] = []
        if rules.count > maxRules { errs.append(FieldError(.tooMany, rp, value: String(rules.count), "must have at most \(maxRules) items")) }
        for (i, rule) in rules.enumerated() {
            let p = K.idx(rp, i)
            errs += K.enumValue(rule["action"], K.child(p, "action"), actions)
            if K.string(rule["action"]) == "FailIndex" && !perIndex {
                errs.append(.invalid(K.child(p, "action"), "\"FailIndex\"", "requires the backoffLimitPerIndex to be set"))
            }
            let exitCodes = rule["onExitCodes"].flatMap { $0.isNull ? nil : $0 }
            let conditions = rule["onPodConditions"].flatMap { $0.isNull ? nil : $0 }
            switch (exitCodes, conditions) {
            case (nil, nil), (.some, .some):
                errs.append(.invalid(p, "", "specifying one of OnExitCodes and OnPodConditions is required"))
            case (let codes?, nil):
                errs += validateExitCodes(codes, K.child(p, "onExitCodes"))
            case (nil, let patterns?):
                for (j, pattern) in K.array(patterns).enumerated() {
                    let pp = K.idx(K.child(p, "onPodConditions"), j)
                    errs += K.enumValue(pattern["status"], K.child(pp, "status"), ["True", "False", "Unknown"])
                    if K.string(pattern["type"]).isEmpty { errs.append(.required(K.child(pp, "type"), "")) }
                }
            }
        }
        return errs
    }

    private static func validateExitCodes(_ req: JSONValue, _ p: String) -> [FieldError] {
        var errs = K.enumValue(req["operator"], K.child(p, "operator"), ["In", "NotIn"])
        let values = K.array(req["values"]).compactMap(\.intValue)
        let vp = K.child(p, "values")
        if values.isEmpty { errs.append(.required(vp, "at least one value is required")) }
        if values.count > 255 { errs.append(FieldError(.tooMany, vp, value: String(values.count), "must have at most 255 items")) }
        for (i, v) in values.enumerated() {
            if i > 0 && values[i - 1] == v { errs.append(.duplicate(K.idx(vp, i), String(v))) }
            if i > 0 && values[i - 1] > v { errs.append(.invalid(vp, "", "must be ordered")) }
            if v == 0 && K.string(req["operator"]) == "In" {
                errs.append(.invalid(K.idx(vp, i), "0", "must not be 0 for the In operator"))
            }
        }
        return errs
    }

    static func validateSuccessPolicy(_ policy: JSONValue, path: String, completions: Int64) -> [FieldError] {
        let rules = K.array(policy["rules"])
        let rp = K.child(path, "rules")
        var errs: [FieldError] = []
        if rules.isEmpty { errs.append(.required(rp, "at least one rules must be specified when the successPolicy is specified")) }
        if rules.count > maxRules { errs.append(FieldError(.tooMany, rp, value: String(rules.count), "must have at most \(maxRules) items")) }
        for (i, rule) in rules.enumerated() {
            let p = K.idx(rp, i)
            let indexes = rule["succeededIndexes"]?.stringValue
            let count = rule["succeededCount"]?.intValue
            if indexes == nil && count == nil {
                errs.append(.required(p, "at least one of succeededCount or succeededIndexes must be specified"))
            }
            if let indexes {
                guard let set = JobIndexes.parse(indexes, below: Int(completions)) else {
                    errs.append(.invalid(K.child(p, "succeededIndexes"), FieldError.show(.string(indexes)), "error parsing succeededIndexes"))
                    continue
                }
                if let count, count > Int64(set.count) {
                    errs.append(.invalid(K.child(p, "succeededCount"), String(count), "must be less than or equal to \(set.count) (the number of indexes in the specified succeededIndexes field)"))
                }
            }
            if let count {
                if count < 0 { errs.append(.invalid(K.child(p, "succeededCount"), String(count), "must be greater than or equal to 0")) }
                if count > completions {
                    errs.append(.invalid(K.child(p, "succeededCount"), String(count), "must be less than or equal to \(completions) (the number of specified completions)"))
                }
            }
        }
        return errs
    }
}
