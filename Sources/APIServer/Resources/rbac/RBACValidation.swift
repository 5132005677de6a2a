import Foundation
import KubeModel

/// Validation, defaulting and table cells shared by the four rbac.authorization.k8s.io/v1
/// kinds, as Kubernetes' `pkg/apis/rbac/validation`.
enum RBACValidation {
    typealias K = ResourceKit
    static let group = "rbac.authorization.k8s.io"

    /// `ValidatePolicyRule` for each of `rules`; namespaced roles may not name non-resource URLs.
    static func validateRules(_ rules: JSONValue?, namespaced: Bool) -> [FieldError] {
        var errs: [FieldError] = []
        for (i, rule) in K.array(rules).enumerated() {
            let p = K.idx("rules", i)
            if K.array(rule["verbs"]).isEmpty { errs.append(.required(K.child(p, "verbs"), "verbs must contain at least one value")) }
            let urls = K.array(rule["nonResourceURLs"])
            if !urls.isEmpty {
                let shown = FieldError.show(.array(urls))
                if namespaced {
                    errs.append(.invalid(K.child(p, "nonResourceURLs"), shown, "namespaced rules cannot apply to non-resource URLs"))
                }
                if !K.array(rule["apiGroups"]).isEmpty || !K.array(rule["resources"]).isEmpty || !K.array(rule["resourceNames"]).isEmpty {
                    errs.append(.invalid(K.child(p, "nonResourceURLs"), shown, "rules cannot apply to both regular resources and non-resource URLs"))
                }
                continue
            }
            if K.array(rule["apiGroups"]).isEmpty {
                errs.append(.required(K.child(p, "apiGroups"), "resource rules must supply at least one api group"))
            }
            if K.array(rule["resources"]).isEmpty {
                errs.append(.required(K.child(p, "resources"), "resource rules must supply at least one resource"))
            }
        }
        return errs
    }

    /// Subjects default their apiGroup by kind, as `SetDefaults_Subject`.
    static func defaultSubjects(_ object: inout JSONValue) {
        K.eachElement(&object, "subjects") { s in
            let kind = K.string(s["kind"])
            if kind == "User" || kind == "Group" { K.fill(&s, "apiGroup", .string(group)) }
            if kind == "ServiceAccount" { K.fill(&s, "apiGroup", "") }
        }
    }

    /// `roleRef` and `subjects` of a binding; `allowedRoleKinds` is [Role, ClusterRole] for a
    /// RoleBinding, [ClusterRole] for a ClusterRoleBinding.
    static func validateBinding(_ object: JSONValue, allowedRoleKinds: [String], namespaced: Bool) -> [FieldError] {
        var errs: [FieldError] = []
        let ref = object["roleRef"] ?? .object([:])
        let refGroup = K.string(ref["apiGroup"])
        if refGroup != group { errs.append(.notSupported("roleRef.apiGroup", FieldError.show(.string(refGroup)), [group])) }
        let refKind = K.string(ref["kind"])
        if !allowedRoleKinds.contains(refKind) {
            errs.append(.notSupported("roleRef.kind", FieldError.show(.string(refKind)), allowedRoleKinds))
        }
        let refName = K.string(ref["name"])
        if refName.isEmpty {
            errs.append(.required("roleRef.name", ""))
        } else {
            errs += NameValidation.validateObjectName(refName, path: "roleRef.name", rule: .pathSegment)
        }
        for (i, s) in K.array(object["subjects"]).enumerated() {
            errs += validateSubject(s, path: K.idx("subjects", i), namespaced: namespaced)
        }
        return errs
    }

    static func validateSubject(_ s: JSONValue, path p: String, namespaced: Bool) -> [FieldError] {
        var errs: [FieldError] = []
        let name = K.string(s["name"])
        if name.isEmpty { errs.append(.required(K.child(p, "name"), "")) }
        let apiGroup = K.string(s["apiGroup"])
        switch K.string(s["kind"]) {
        case "ServiceAccount":
            if !name.isEmpty { errs += NameValidation.validateObjectName(name, path: K.child(p, "name"), rule: .dns1123Subdomain) }
            if !apiGroup.isEmpty { errs.append(.notSupported(K.child(p, "apiGroup"), FieldError.show(.string(apiGroup)), [""])) }
            if !namespaced && K.string(s["namespace"]).isEmpty { errs.append(.required(K.child(p, "namespace"), "")) }
        case "User", "Group":
            if apiGroup != group { errs.append(.notSupported(K.child(p, "apiGroup"), FieldError.show(.string(apiGroup)), [group])) }
        case let kind:
            errs.append(.notSupported(K.child(p, "kind"), FieldError.show(.string(kind)), ["ServiceAccount", "User", "Group"]))
        }
        return errs
    }

    /// A binding's role reference cannot change: delete and recreate the binding instead.
    static func validateRoleRefUnchanged(_ object: JSONValue, old: JSONValue) -> [FieldError] {
        let new = object["roleRef"] ?? .null, before = old["roleRef"] ?? .null
        return new == before ? [] : [.invalid("roleRef", FieldError.show(new), "cannot change roleRef")]
    }

    // MARK: tables

    static let roleColumns = [
        TableColumn("Name", format: "name", description: "Name must be unique within a namespace."),
        TableColumn("Created At", type: "date", description: "CreationTimestamp is a timestamp representing the server time when this object was created."),
    ]

    static func roleCells(_ object: JSONValue) -> [JSONValue] {
        [.string(object.name ?? ""), object[path: ["metadata", "creationTimestamp"]] ?? .null]
    }

    static let bindingColumns = [
        TableColumn("Name", format: "name", description: "Name must be unique within a namespace."),
        TableColumn("Role", description: "RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace."),
        TableColumn("Age", description: "CreationTimestamp is a timestamp representing the server time when this object was created."),
        TableColumn("Users", description: "Users in the binding", priority: 1),
        TableColumn("Groups", description: "Groups in the binding", priority: 1),
        TableColumn("ServiceAccounts", description: "ServiceAccounts in the binding", priority: 1),
    ]

    static func bindingCells(_ object: JSONValue, now: Date) -> [JSONValue] {
        let subjects = K.array(object["subjects"])
        func names(_ kind: String) -> String {
            subjects.filter { K.string($0["kind"]) == kind }.map { s in
                kind == "ServiceAccount" ? "\(K.string(s["namespace"])):\(K.string(s["name"]))" : K.string(s["name"])
            }.joined(separator: ", ")
        }
        let role = "\(K.string(object[path: ["roleRef", "kind"]]))/\(K.string(object[path: ["roleRef", "name"]]))"
        return [.string(object.name ?? ""), .string(role), .string(TableFormat.age(of: object, now: now)),
                .string(names("User")), .string(names("Group")), .string(names("ServiceAccount"))]
    }
}
