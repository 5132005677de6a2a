import Foundation
import HTTPTypes
import Hummingbird
import KubeModel
import NIOCore

/// Serves SelfSubjectAccessReview and SubjectAccessReview: the request comes back with
/// `status.allowed` (and `reason`) filled, as kube-apiserver answers `kubectl auth can-i`.
enum AccessReview {
    /// Create-only and never stored: served in place of the registry.
    static func storage(_ review: AccessReviewStrategy) -> ResourceStorage {
        ResourceStorage(verbs: ["create"]) { endpoint, label in
            label.verb = "POST"
            return try await serve(endpoint, review: review, caller: endpoint.user ?? UserInfo(name: "system:anonymous"),
                                   authorizer: endpoint.authorizer)
        }
    }

    static func serve(_ endpoint: ResourceEndpoint, review: AccessReviewStrategy, caller: UserInfo,
                      authorizer: any Authorizer) async throws -> Response {
        let def = review.definition
        guard endpoint.request.method == .post, endpoint.info.name == nil, endpoint.info.subresource == nil else {
            throw APIError.methodNotSupported(def, endpoint.request.method.rawValue)
        }
        var object = try await endpoint.body()
        guard object.objectValue != nil else { throw APIError.badRequest("the request body must be a JSON or YAML object") }
        if let k = object["kind"], k.stringValue != def.kind {
            throw APIError.badRequest("the kind in the request body (\(FieldError.show(k))) does not match the expected kind \(def.kind)")
        }
        let spec = object["spec"] ?? .object([:])
        if review.review == .selfSubjectRulesReview {
            object["status"] = await rulesStatus(caller, namespace: spec["namespace"]?.stringValue ?? "", authorizer: authorizer)
            return reply(object, def: def, version: endpoint.info.version)
        }
        var errors: [FieldError] = []
        let user: UserInfo
        if review.isSelf {
            user = caller
        } else {
            let name = spec["user"]?.stringValue ?? ""
            let groups = (spec["groups"]?.arrayValue ?? []).compactMap(\.stringValue)
            if name.isEmpty && groups.isEmpty {
                errors.append(.invalid("spec.user", "\"\"", "at least one of user or group must be specified"))
            }
            user = UserInfo(name: name, uid: spec["uid"]?.stringValue ?? "", groups: groups)
        }
        let resource = spec["resourceAttributes"].flatMap { $0.isNull ? nil : $0 }
        let nonResource = spec["nonResourceAttributes"].flatMap { $0.isNull ? nil : $0 }
        if (resource == nil) == (nonResource == nil) {
            let shown = FieldError.show(resource ?? nonResource ?? .null)
            errors.append(.invalid("spec.resourceAttributes", shown, "exactly one of nonResourceAttributes or resourceAttributes must be specified"))
        }
        if !errors.isEmpty { throw APIError.invalid(def, "", errors) }
        let attributes: RequestAttributes
        if let r = resource {
            let s = { (k: String) in r[k]?.stringValue ?? "" }
            var a = RequestAttributes(user: user, verb: s("verb"), apiGroup: s("group"), resource: s("resource"),
                                      subresource: s("subresource"), namespace: s("namespace"), name: s("name"))
            // The node authorizer judges lists by their field selector; a review without one is
            // asked about an unnarrowed list.
            a.fieldSelector = r[path: ["fieldSelector", "rawSelector"]]?.stringValue ?? ""
            attributes = a
        } else {
            attributes = RequestAttributes(user: user, verb: nonResource?["verb"]?.stringValue ?? "",
                                           path: nonResource?["path"]?.stringValue ?? "")
        }
        let decision = await authorizer.authorize(attributes)
        var status: JSONValue = ["allowed": .bool(decision.allowed)]
        if !decision.reason.isEmpty { status["reason"] = .string(decision.reason) }
        object["status"] = status
        return reply(object, def: def, version: endpoint.info.version)
    }

    static func reply(_ object: JSONValue, def: ResourceDefinition, version: String) -> Response {
        var o = object
        o["apiVersion"] = .string(def.apiVersion(version))
        o["kind"] = .string(def.kind)
        if o["metadata"] == nil { o["metadata"] = ["creationTimestamp": .null] }
        return ResponseBuilder.json(o, code: 201)
    }

    /// What `kubectl auth can-i --list` shows: the caller's rules in a namespace.
    static func rulesStatus(_ user: UserInfo, namespace: String, authorizer: any Authorizer) async -> JSONValue {
        var rules: [PolicyRule]
        var incomplete = false
        if user.groups.contains("system:masters") {
            rules = [PolicyRule(verbs: ["*"], apiGroups: ["*"], resources: ["*"]), PolicyRule(verbs: ["*"], nonResourceURLs: ["*"])]
        } else if let rbac = authorizer.rbacAuthorizer, let policy = try? await rbac.policy() {
            rules = policy.rules(for: user, namespace: namespace)
        } else {
            rules = []
            incomplete = true
        }
        let resource = rules.filter { $0.nonResourceURLs.isEmpty }.map { r -> JSONValue in
            var j = r.json
            j["verbs"] = .array(r.verbs.map { .string($0) })
            return j
        }
        let nonResource = rules.filter { !$0.nonResourceURLs.isEmpty }.map { r -> JSONValue in
            ["verbs": .array(r.verbs.map { .string($0) }), "nonResourceURLs": .array(r.nonResourceURLs.map { .string($0) })]
        }
        return ["resourceRules": .array(resource), "nonResourceRules": .array(nonResource), "incomplete": .bool(incomplete)]
    }
}
