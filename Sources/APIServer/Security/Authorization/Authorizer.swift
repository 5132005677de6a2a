import Foundation
import KubeModel

/// What a request asks to do, as Kubernetes' `authorizer.Attributes`: a verb on a resource
/// (optionally a subresource, a namespace and a name), or a verb on a non-resource path.
public struct RequestAttributes: Sendable, Equatable {
    /// Who asks.
    public var user: UserInfo
    /// `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`, `deletecollection`,
    /// `impersonate`, ...; for non-resource requests the lowercased HTTP method.
    public var verb: String
    /// Whether this is a resource request; otherwise `path` is what is asked for.
    public var isResourceRequest: Bool
    /// API group; "" for the core group.
    public var apiGroup: String
    /// Resource plural, e.g. `pods`.
    public var resource: String
    /// Subresource, e.g. `status`; "" for none.
    public var subresource: String
    /// Namespace; "" for cluster-scoped requests and requests across all namespaces.
    public var namespace: String
    /// Object name; "" for collections.
    public var name: String
    /// The URL path of a non-resource request.
    public var path: String
    /// The request's `fieldSelector` ("" when it has none); nil when the server did not pass
    /// it on, which the node authorizer takes as "unknown" for pod lists.
    public var fieldSelector: String? = nil

    /// A resource request.
    public init(user: UserInfo, verb: String, apiGroup: String, resource: String, subresource: String = "",
                namespace: String = "", name: String = "") {
        self.user = user
        self.verb = verb
        self.isResourceRequest = true
        self.apiGroup = apiGroup
        self.resource = resource
        self.subresource = subresource
        self.namespace = namespace
        self.name = name
        self.path = ""
    }

    /// A non-resource request (`/api`, `/healthz`, `/openapi/v3`, ...).
    public init(user: UserInfo, verb: String, path: String) {
        self.init(user: user, verb: verb, apiGroup: "", resource: "")
        self.isResourceRequest = false
        self.path = path
    }

    /// The attributes of a resource request, with the verb named as kube-apiserver's
    /// RequestInfoFactory names it from the method, the path and `?watch`.
    static func resource(user: UserInfo, method: String, info: RequestInfo, watch: Bool) -> RequestAttributes {
        let verb: String
        switch method {
        case "GET", "HEAD": verb = watch || info.legacyWatch ? "watch" : info.name == nil ? "list" : "get"
        case "POST": verb = "create"
        case "PUT": verb = "update"
        case "PATCH": verb = "patch"
        case "DELETE": verb = info.name == nil ? "deletecollection" : "delete"
        default: verb = method.lowercased()
        }
        return RequestAttributes(user: user, verb: verb, apiGroup: info.group, resource: info.resource,
                                 subresource: info.subresource ?? "", namespace: info.namespace ?? "", name: info.name ?? "")
    }

    /// `pods/status`, or `pods` without a subresource: the form rules name.
    public var resourceWithSubresource: String { subresource.isEmpty ? resource : "\(resource)/\(subresource)" }
}

/// An authorizer's answer; `reason` says which binding allowed it, or why not.
public struct AuthorizationDecision: Sendable, Equatable {
    /// Whether the request may proceed.
    public var allowed: Bool
    /// Human-readable explanation (may be empty).
    public var reason: String

    /// A decision.
    public init(allowed: Bool, reason: String = "") {
        self.allowed = allowed
        self.reason = reason
    }
}

/// The authorization seam between authentication and the registry (RBAC now; a node
/// authorizer can be chained in later).
public protocol Authorizer: Sendable {
    /// Whether `attributes.user` may do what `attributes` describe.
    func authorize(_ attributes: RequestAttributes) async -> AuthorizationDecision
}

/// Allows everything: for in-process tests that exercise the API without RBAC.
public struct AlwaysAllowAuthorizer: Authorizer {
    /// An authorizer that allows every request.
    public init() {}
    public func authorize(_ attributes: RequestAttributes) async -> AuthorizationDecision {
        AuthorizationDecision(allowed: true)
    }
}

extension APIError {
    /// kube-apiserver's 403 wording (`responsewriters.Forbidden`), e.g. `configmaps is forbidden:
    /// User "bob" cannot list resource "configmaps" in API group "" in the namespace "other"`.
    static func forbidden(_ a: RequestAttributes, reason: String) -> APIError {
        var message: String
        let user = "User \"\(a.user.name)\""
        guard a.isResourceRequest else {
            message = "forbidden: \(user) cannot \(a.verb) path \"\(a.path)\""
            if !reason.isEmpty { message += ": \(reason)" }
            return APIError(code: 403, reason: "Forbidden", message: message, details: .object([:]))
        }
        let scope = a.namespace.isEmpty ? "at the cluster scope" : "in the namespace \"\(a.namespace)\""
        message = "\(user) cannot \(a.verb) resource \"\(a.resourceWithSubresource)\" in API group \"\(a.apiGroup)\" \(scope)"
        if !reason.isEmpty { message += ": \(reason)" }
        let groupResource = a.apiGroup.isEmpty ? a.resource : "\(a.resource).\(a.apiGroup)"
        let subject = a.name.isEmpty ? groupResource : "\(groupResource) \"\(a.name)\""
        var details: JSONValue = ["kind": .string(a.resource)]
        if !a.apiGroup.isEmpty { details["group"] = .string(a.apiGroup) }
        if !a.name.isEmpty { details["name"] = .string(a.name) }
        return APIError(code: 403, reason: "Forbidden", message: "\(subject) is forbidden: \(message)", details: details)
    }
}
