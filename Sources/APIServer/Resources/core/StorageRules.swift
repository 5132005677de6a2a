import Foundation
import KubeModel

/// Rules PersistentVolumes, PersistentVolumeClaims and StorageClasses share, as Kubernetes'
/// core validation has them.
enum StorageRules {
    typealias K = ResourceKit

    static let volumeModes = ["Block", "Filesystem"]

    /// The annotation marking the default StorageClass (`kubectl get sc` shows `(default)`).
    static let defaultClassAnnotation = "storageclass.kubernetes.io/is-default-class"

    /// Required, known modes, ReadWriteOncePod alone.
    static func validateAccessModes(_ modes: JSONValue?, _ path: String, requiredDetail: String) -> [FieldError] {
        let given = VolumeAccessModes.strings(modes)
        if given.isEmpty { return [.required(path, requiredDetail)] }
        var errs: [FieldError] = []
        for mode in given where !VolumeAccessModes.all.contains(mode) {
            errs.append(.notSupported(path, FieldError.show(.string(mode)), VolumeAccessModes.all))
        }
        if given.contains("ReadWriteOncePod") && given.count > 1 {
            errs.append(.forbidden(path, "may not use ReadWriteOncePod with other access modes"))
        }
        return errs
    }

    static func validateClassName(_ name: JSONValue?, _ path: String) -> [FieldError] {
        guard let s = name?.stringValue, !s.isEmpty else { return [] }
        return NameValidation.isDNS1123Subdomain(s).map { .invalid(path, FieldError.show(.string(s)), $0) }
    }

    static func validateVolumeMode(_ mode: JSONValue?, _ path: String) -> [FieldError] {
        K.enumValue(mode, path, volumeModes, required: false)
    }

    /// A quantity that parses and is not negative; nil when it does not parse.
    static func quantity(_ v: JSONValue?, _ path: String, _ errs: inout [FieldError]) -> Quantity? {
        guard let q = ResourceQuotaUsage.quantity(v) else {
            errs.append(.invalid(path, FieldError.show(v), Quantity.syntaxError))
            return nil
        }
        if q.mantissa < 0 { errs.append(.invalid(path, FieldError.show(.string(q.canonical)), "must be greater than or equal to 0")) }
        return q
    }

    /// `spec.nodeAffinity` of a volume: a required node selector with at least one term.
    static func validateVolumeNodeAffinity(_ affinity: JSONValue?, _ path: String) -> [FieldError] {
        guard let affinity, !affinity.isNull else { return [] }
        guard let required = affinity["required"], !required.isNull else {
            return [.required(K.child(path, "required"), "must specify required node constraints")]
        }
        let termsPath = K.child(K.child(path, "required"), "nodeSelectorTerms")
        let terms = K.array(required["nodeSelectorTerms"])
        if terms.isEmpty { return [.required(termsPath, "must have at least one node selector term")] }
        var errs: [FieldError] = []
        let operators = ["DoesNotExist", "Exists", "Gt", "In", "Lt", "NotIn"]
        for (i, term) in terms.enumerated() {
            for (j, req) in K.array(term["matchExpressions"]).enumerated() {
                let p = K.idx(K.child(K.idx(termsPath, i), "matchExpressions"), j)
                if K.string(req["key"]).isEmpty { errs.append(.required(K.child(p, "key"), "")) }
                errs += K.enumValue(req["operator"], K.child(p, "operator"), operators)
                let values = K.array(req["values"])
                switch K.string(req["operator"]) {
                case "In", "NotIn":
                    if values.isEmpty { errs.append(.required(K.child(p, "values"), "must be specified when `operator` is 'In' or 'NotIn'")) }
                case "Exists", "DoesNotExist":
                    if !values.isEmpty { errs.append(.forbidden(K.child(p, "values"), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'")) }
                default: break
                }
            }
        }
        return errs
    }

    /// `<unset>` for the columns of an optional class name.
    static func unsetOr(_ v: JSONValue?) -> String {
        guard let s = v?.stringValue else { return "<unset>" }
        return s
    }

    /// The storage quantity of a resource list as `kubectl get` prints it (canonical).
    static func storage(_ list: JSONValue?) -> String {
        ResourceQuotaUsage.quantity(list?["storage"])?.canonical ?? ""
    }
}
