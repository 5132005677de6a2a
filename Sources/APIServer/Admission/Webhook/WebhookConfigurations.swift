import Foundation
import KubeModel
import Logging
import ServiceLifecycle

/// The webhooks of every stored Validating- and MutatingWebhookConfiguration, and the compiled
/// ValidatingAdmissionPolicies with their bindings (the same group, so one watch), read again from
/// the store after a change: `WebhookConfigurationWatcher` marks them stale on every event
/// under the group's prefix, and an admission finding them stale re-reads them first. Without a
/// watch (a registry built by hand, or a watch cut off) every admission re-reads them.
public final class WebhookConfigurations: Sendable {
    struct Snapshot: Sendable {
        /// Configurations sorted by name, webhooks in their listed order, as Kubernetes calls them.
        var validating: [Webhook] = []
        var mutating: [Webhook] = []
        /// Policies by name; bindings sorted by name, the order kube-apiserver applies them in.
        var policies: [String: ValidatingPolicy] = [:]
        var bindings: [ValidatingPolicyBinding] = []
    }

    private struct State: Sendable {
        var snapshot: Snapshot?
        /// Bumped on every change; a snapshot read at an older generation is not kept.
        var generation: UInt64 = 0
        var snapshotGeneration: UInt64 = 0
        var watched = false
    }

    static let prefix = "/registry/admissionregistration.k8s.io/"
    private let state = Locked(State())

    public init() {}

    func invalidate() { state.withLock { $0.generation &+= 1 } }

    func setWatched(_ watched: Bool) {
        state.withLock {
            $0.watched = watched
            $0.generation &+= 1
        }
    }

    /// The current webhooks; re-read when a change was seen since the last read.
    func current(store: any Store) async throws(APIError) -> Snapshot {
        let (cached, generation) = state.withLock { s -> (Snapshot?, UInt64) in
            (s.watched && s.snapshotGeneration == s.generation ? s.snapshot : nil, s.generation)
        }
        if let cached { return cached }
        let snapshot = try await Self.read(store)
        state.withLock { s in
            if s.generation == generation {
                s.snapshot = snapshot
                s.snapshotGeneration = generation
            }
        }
        return snapshot
    }

    static func read(_ store: any Store) async throws(APIError) -> Snapshot {
        var snapshot = Snapshot()
        for (plural, mutating) in [("validatingwebhookconfigurations", false), ("mutatingwebhookconfigurations", true)] {
            let items = try await list(store, plural)
            let hooks = items.flatMap { config in
                (config["webhooks"]?.arrayValue ?? []).compactMap { Webhook($0, configuration: config.name ?? "") }
            }
            if mutating { snapshot.mutating = hooks } else { snapshot.validating = hooks }
        }
        for policy in try await list(store, "validatingadmissionpolicies").compactMap(ValidatingPolicy.init) {
            snapshot.policies[policy.name] = policy
        }
        snapshot.bindings = try await list(store, "validatingadmissionpolicybindings").compactMap(ValidatingPolicyBinding.init)
        return snapshot
    }

    /// Every stored object of one resource of the group, sorted by name.
    private static func list(_ store: any Store, _ plural: String) async throws(APIError) -> [JSONValue] {
        var items: [JSONValue] = []
        var after: String?
        do {
            repeat {
                let page = try await store.list(prefix: prefix + plural + "/", startAfter: after, limit: 500, atRevision: nil)
                items += page.items.map(\.object)
                after = page.hasMore ? page.items.last?.key : nil
            } while after != nil
        } catch {
            throw APIError.internalError("reading \(plural): \(error)")
        }
        return items.sorted { ($0.name ?? "") < ($1.name ?? "") }
    }
}

/// Follows the store's watch of the admissionregistration group and marks the webhooks stale
/// on every change, so a configuration takes effect on the next request after its write.
struct WebhookConfigurationWatcher: Service {
    let store: any Store
    let configurations: WebhookConfigurations

    func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let (subscription, _) = store.watchFromNow(prefix: WebhookConfigurations.prefix)
            configurations.setWatched(true)
            await withGracefulShutdownHandler {
                for await item in subscription.items {
                    guard case .event = item else { continue }
                    configurations.invalidate()
                }
            } onGracefulShutdown: {
                subscription.cancel()
            }
            subscription.cancel()
            // Cut off: every admission reads the store until the watch is back.
            configurations.setWatched(false)
            _ = try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .milliseconds(200)) }
        }
    }
}
