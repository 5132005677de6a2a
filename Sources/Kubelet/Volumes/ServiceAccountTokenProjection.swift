import Foundation
import KubeClient
import KubeModel
import Synchronization

/// Where the kubelet gets ServiceAccount tokens: the TokenRequest API. An `ObjectSource`
/// that also conforms lets projected `serviceAccountToken` sources be filled; one that does
/// not (test doubles) leaves them skipped as before.
public protocol ServiceAccountTokenSource: Sendable {
    /// A token for `serviceAccount` bound to the pod; `audience` nil means the API server's.
    func requestToken(namespace: String, serviceAccount: String, podName: String, podUID: String,
                      audience: String?, expirationSeconds: Int64) async throws -> IssuedToken
}

/// A token and its lifetime as the server granted it (the server may shorten a request).
public struct IssuedToken: Sendable, Equatable {
    public var token: String
    public var issued: Date
    public var expires: Date

    public init(token: String, issued: Date, expires: Date) {
        self.token = token
        self.issued = issued
        self.expires = expires
    }

    /// Kubernetes' kubelet renews once 80% of the lifetime has passed (or after 24h).
    func needsRefresh(now: Date) -> Bool {
        let lifetime = expires.timeIntervalSince(issued)
        return now >= issued.addingTimeInterval(min(lifetime * 0.8, 24 * 3600))
    }
}

extension RESTObjectSource: ServiceAccountTokenSource {
    public func requestToken(namespace: String, serviceAccount: String, podName: String, podUID: String,
                             audience: String?, expirationSeconds: Int64) async throws -> IssuedToken {
        var spec: JSONValue = ["expirationSeconds": .int(expirationSeconds),
                               "boundObjectRef": ["kind": "Pod", "apiVersion": "v1", "name": .string(podName), "uid": .string(podUID)]]
        if let audience { spec["audiences"] = [.string(audience)] }
        let body: JSONValue = ["apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": spec]
        let issued = Date()
        let answer = try await client.create("/api/v1/namespaces/\(namespace)/serviceaccounts/\(serviceAccount)/token", body)
        guard let token = answer[path: ["status", "token"]]?.stringValue, !token.isEmpty else {
            throw DownwardValues.configError("the TokenRequest for \(namespace)/\(serviceAccount) returned no token")
        }
        let expires = answer[path: ["status", "expirationTimestamp"]]?.stringValue.flatMap(Timestamp.parse)
            ?? issued.addingTimeInterval(TimeInterval(expirationSeconds))
        return IssuedToken(token: token, issued: issued, expires: expires)
    }
}

/// The tokens of the pods on this node, kept between volume refreshes so a token is asked for
/// again only when due, not at every sync.
public final class ServiceAccountTokenCache: Sendable {
    struct Key: Hashable, Sendable {
        var podUID: String
        var serviceAccount: String
        var audience: String
        var expirationSeconds: Int64
    }

    private let tokens = Mutex<[Key: IssuedToken]>([:])
    let clock: @Sendable () -> Date

    public init(clock: @escaping @Sendable () -> Date = { Date() }) { self.clock = clock }

    /// The `serviceAccountToken` source's file content: a cached token while fresh, else a new one.
    func token(for spec: JSONValue, context: PodContext, source: any ServiceAccountTokenSource) async throws -> [UInt8] {
        let pod = context.pod
        let given = pod[path: ["spec", "serviceAccountName"]]?.stringValue ?? ""
        let sa = given.isEmpty ? "default" : given
        let audience = spec["audience"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
        let seconds = spec["expirationSeconds"]?.intValue ?? 3600
        guard let uid = pod.uid, let name = pod.name else { throw DownwardValues.configError("pod has no name or uid") }
        let key = Key(podUID: uid, serviceAccount: sa, audience: audience ?? "", expirationSeconds: seconds)
        let now = clock()
        if let cached = tokens.withLock({ $0[key] }), !cached.needsRefresh(now: now) { return Array(cached.token.utf8) }
        let fresh = try await source.requestToken(namespace: context.namespace, serviceAccount: sa, podName: name,
                                                  podUID: uid, audience: audience, expirationSeconds: seconds)
        tokens.withLock { $0[key] = fresh }
        return Array(fresh.token.utf8)
    }

    /// Forgets a gone pod's tokens.
    func forget(podUID: String) {
        tokens.withLock { $0 = $0.filter { $0.key.podUID != podUID } }
    }
}
