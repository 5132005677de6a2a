import Foundation
import KubeModel

/// The generic ObjectMeta rules every resource shares, as kube-apiserver's generic registry
/// applies them: system fields on create, carried over on update, and their validation.
enum ObjectMetaRules {
    /// Letters Kubernetes uses for generated name suffixes (no vowels, no confusable digits).
    private static let suffixAlphabet = Array("bcdfghjklmnpqrstvwxz2456789")

    static func generatedName(_ base: String) -> String {
        let trimmed = base.count > 58 ? String(base.prefix(58)) : base
        return trimmed + String((0..<5).map { _ in suffixAlphabet.randomElement() ?? "x" })
    }

    /// Sets uid, creationTimestamp and generation, and drops what a client may not set.
    static func prepareForCreate(_ object: inout JSONValue, now: Date, tracksGeneration: Bool) {
        var meta = object.metadata
        meta["uid"] = .string(RandomUUID.string())
        meta["creationTimestamp"] = .string(Timestamp.format(now))
        meta["generation"] = tracksGeneration ? .int(1) : nil
        meta["resourceVersion"] = nil
        meta["selfLink"] = nil
        meta["deletionTimestamp"] = nil
        meta["deletionGracePeriodSeconds"] = nil
        object["metadata"] = meta
    }

    /// Keeps the fields of `old` that only the server changes.
    static func prepareForUpdate(_ object: inout JSONValue, old: JSONValue) {
        var meta = object.metadata
        for k in ["uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation", "selfLink"] {
            meta[k] = old.metadata[k]
        }
        object["metadata"] = meta
    }

    /// Bumps generation when anything outside metadata and status changed.
    static func updateGeneration(_ object: inout JSONValue, old: JSONValue) {
        guard old.metadata["generation"] != nil else { return }
        var a = object, b = old
        a["metadata"] = nil; a["status"] = nil; a["apiVersion"] = nil; a["kind"] = nil
        b["metadata"] = nil; b["status"] = nil; b["apiVersion"] = nil; b["kind"] = nil
        let gen = old.metadata["generation"]?.intValue ?? 1
        object[path: ["metadata", "generation"]] = .int(a == b ? gen : gen + 1)
    }

    /// Equal apart from resourceVersion: an update that changes nothing is not written.
    static func sameContent(_ a: JSONValue, _ b: JSONValue) -> Bool {
        var x = a, y = b
        x[path: ["metadata", "resourceVersion"]] = nil
        y[path: ["metadata", "resourceVersion"]] = nil
        return x == y
    }

    static func validate(_ object: JSONValue, rule: NameRule, namespaced: Bool) -> [FieldError] {
        var errs: [FieldError] = []
        let meta = object.metadata
        if meta.objectValue == nil { return [.required("metadata")] }
        if let name = meta["name"]?.stringValue, !name.isEmpty {
            errs += NameValidation.validateObjectName(name, path: "metadata.name", rule: rule)
        } else if meta["generateName"]?.stringValue?.isEmpty ?? true {
            errs.append(.required("metadata.name", "name or generateName is required"))
        }
        if namespaced {
            if (meta["namespace"]?.stringValue ?? "").isEmpty { errs.append(.required("metadata.namespace")) }
        } else if let ns = meta["namespace"]?.stringValue, !ns.isEmpty {
            errs.append(.forbidden("metadata.namespace", "not allowed on this type"))
        }
        errs += NameValidation.validateLabels(meta["labels"], path: "metadata.labels")
        errs += NameValidation.validateAnnotations(meta["annotations"], path: "metadata.annotations")
        if let fins = meta["finalizers"] {
            guard let list = fins.arrayValue else { return errs + [.invalid("metadata.finalizers", "", "must be a list of strings")] }
            for (i, f) in list.enumerated() {
                guard let s = f.stringValue else { errs.append(.invalid("metadata.finalizers[\(i)]", FieldError.show(f), "must be a string")); continue }
                for m in NameValidation.isQualifiedName(s) { errs.append(.invalid("metadata.finalizers[\(i)]", "\"\(s)\"", m)) }
            }
        }
        if let refs = meta["ownerReferences"]?.arrayValue {
            for (i, r) in refs.enumerated() {
                for k in ["apiVersion", "kind", "name", "uid"] where (r[k]?.stringValue ?? "").isEmpty {
                    errs.append(.required("metadata.ownerReferences[\(i)].\(k)"))
                }
            }
            let controllers = refs.filter { $0["controller"]?.boolValue == true }
            if controllers.count > 1 {
                errs.append(.invalid("metadata.ownerReferences", "", "Only one reference can have Controller set to true"))
            }
        }
        return errs
    }

    /// Fields that may never change after create.
    static func validateUpdate(_ object: JSONValue, old: JSONValue) -> [FieldError] {
        var errs: [FieldError] = []
        if object.name != old.name { errs.append(.invalid("metadata.name", FieldError.show(object.metadata["name"]), "field is immutable")) }
        if object.namespace != old.namespace {
            errs.append(.invalid("metadata.namespace", FieldError.show(object.metadata["namespace"]), "field is immutable"))
        }
        if old[path: ["metadata", "deletionTimestamp"]] != nil {
            let before = Set(old.finalizers)
            if object.finalizers.contains(where: { !before.contains($0) }) {
                errs.append(.forbidden("metadata.finalizers", "no new finalizers can be added if the object is being deleted, found new finalizers \(object.finalizers.filter { !before.contains($0) })"))
            }
        }
        return errs
    }
}
