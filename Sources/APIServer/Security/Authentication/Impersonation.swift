import Foundation
import HTTPTypes
import Hummingbird
import KubeModel
import NIOCore

/// `Impersonate-User` / `Impersonate-Group`, as kube-apiserver's impersonation filter: the
/// caller must be allowed to `impersonate` each user and group; the request then runs as them.
enum Impersonation {
    static let userHeader = HTTPField.Name("Impersonate-User")
    static let groupHeader = HTTPField.Name("Impersonate-Group")

    /// The user the request runs as: `caller`, or whom it impersonates.
    static func resolve(_ request: Request, caller: UserInfo, authorizer: any Authorizer) async throws -> UserInfo {
        let name = userHeader.flatMap { request.headers[$0] }
        let groups = groupHeader.map { request.headers[values: $0] } ?? []
        guard let name, !name.isEmpty else {
            if !groups.isEmpty { throw APIError.badRequest("requested impersonation of groups \(groups) without impersonating a user") }
            return caller
        }
        var checks = [RequestAttributes(user: caller, verb: "impersonate", apiGroup: "", resource: "users", name: name)]
        checks += groups.map { RequestAttributes(user: caller, verb: "impersonate", apiGroup: "", resource: "groups", name: $0) }
        for attributes in checks {
            let decision = await authorizer.authorize(attributes)
            if !decision.allowed { throw APIError.forbidden(attributes, reason: decision.reason) }
        }
        // As Kubernetes: an impersonated user is authenticated, and a ServiceAccount is in its groups.
        var all = groups
        let sa = name.split(separator: ":", omittingEmptySubsequences: false)
        if sa.count == 4, sa[0] == "system", sa[1] == "serviceaccount" {
            all += ["system:serviceaccounts", "system:serviceaccounts:\(sa[2])"]
        }
        if name != "system:anonymous" && !all.contains("system:authenticated") { all.append("system:authenticated") }
        return UserInfo(name: name, groups: all)
    }
}
