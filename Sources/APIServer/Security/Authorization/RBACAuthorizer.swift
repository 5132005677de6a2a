import Foundation
import KubeModel

/// Kubernetes' RBAC authorizer over the store. The four RBAC kinds are read into an
/// `RBACPolicy` snapshot that is rebuilt on the next request after any of them changes: a
/// watch on the RBAC key prefix bumps a generation, and a snapshot of an older generation is
/// stale. No per-request store read, and no reload on writes to other kinds.
public final class RBACAuthorizer: Authorizer {
    let store: any Store
    private struct State: Sendable {
        var generation: Int64 = 0
        var snapshot: (generation: Int64, policy: RBACPolicy)?
        var watching = false
    }
    private let state = Locked(State())
    static let prefix = "/registry/rbac.authorization.k8s.io/"

    /// An authorizer reading RBAC objects from `store`.
    public init(store: any Store) {
        self.store = store
    }

    public func authorize(_ attributes: RequestAttributes) async -> AuthorizationDecision {
        // The admin group needs no lookup, and stays in even when the store cannot be read.
        if attributes.user.groups.contains("system:masters") {
            return AuthorizationDecision(allowed: true, reason: "member of group \"system:masters\"")
        }
        do {
            return try await policy().authorize(attributes)
        } catch {
            return AuthorizationDecision(allowed: false, reason: "RBAC: cannot read roles: \(error)")
        }
    }

    /// The current snapshot, reloaded when a watch event invalidated it.
    func policy() async throws -> RBACPolicy {
        startWatchIfNeeded()
        let (generation, cached) = state.withLock { s in (s.generation, s.snapshot) }
        if let cached, cached.generation == generation { return cached.policy }
        let policy = try await load()
        // Keep it only if nothing changed while loading; otherwise the next request reloads.
        state.withLock { s in
            if s.generation == generation { s.snapshot = (generation, policy) }
        }
        return policy
    }

    func load() async throws -> RBACPolicy {
        func all(_ plural: String) async throws -> [JSONValue] {
            var items: [JSONValue] = []
            var after: String? = nil
            let prefix = Self.prefix + plural + "/"
            while true {
                let page = try await store.list(prefix: prefix, startAfter: after, limit: 1000, atRevision: nil)
                items += page.items.map(\.object)
                guard page.hasMore, let last = page.items.last else { break }
                after = last.key
            }
            return items
        }
        return RBACPolicy(roles: try await all("roles"), clusterRoles: try await all("clusterroles"),
                          roleBindings: try await all("rolebindings"), clusterRoleBindings: try await all("clusterrolebindings"))
    }

    /// Subscribes once; the watch is registered before the first load, so no change is missed.
    private func startWatchIfNeeded() {
        let start = state.withLock { s -> Bool in
            if s.watching { return false }
            s.watching = true
            return true
        }
        guard start else { return }
        let (subscription, _) = store.watchFromNow(prefix: Self.prefix)
        state.withLock { $0.generation += 1 }
        Task { [weak self] in
            for await item in subscription.items {
                guard let self else { break }
                if case .event = item { self.state.withLock { $0.generation += 1 } }
            }
            subscription.cancel()
            // A watcher that fell behind is cut off: forget the snapshot and watch again.
            self?.state.withLock { s in
                s.watching = false
                s.generation += 1
            }
        }
    }
}
