import Foundation
import KubeModel
import Logging
import ServiceLifecycle

/// Keeps the `kubernetes` Service's endpoints equal to the live API servers, as
/// kube-apiserver's lease endpoint reconciler: every server renews its identity Lease a few
/// times per lease duration, deletes the Leases that expired (a server killed without
/// leaving), and writes the endpoints of the live ones. On a graceful stop a server deletes
/// its Lease and takes itself out at once.
struct APIServerEndpointReconciler: Service {
    let store: any Store
    let identity: APIServerIdentity
    let leaseDuration: Duration
    let clock: @Sendable () -> Date
    let logger: Logger

    /// A third of the lease: two renewals may fail before the others drop this server.
    var interval: Duration { leaseDuration / 3 }

    func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await reconcile()
            } catch is CancellationError {
                break  // stopping: nothing went wrong
            } catch {
                logger.warning("could not update the kubernetes Service's endpoints", metadata: ["error": "\(error)"])
            }
            _ = try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
        await leave()
    }

    /// Renews this server's Lease, drops expired ones, writes the live servers' endpoints.
    func reconcile() async throws {
        let now = clock()
        try await renew(now: now)
        try await KubernetesEndpoints.write(try await liveEndpoints(now: now), store: store, now: now)
    }

    /// Deletes this server's Lease and writes the endpoints without it.
    func leave() async {
        let key = APIServerIdentity.key(identity.leaseName)
        _ = try? await store.delete(key: key) { [identity] cur in
            guard cur.object[path: ["spec", "holderIdentity"]]?.stringValue == identity.holder else {
                throw StoreError.conflict(key: key, message: "held by another process")
            }
        }
        let now = clock()
        // A replacement already serving on the same address keeps its endpoint: its Lease is live.
        if let live = try? await liveEndpoints(now: now) { try? await KubernetesEndpoints.write(live, store: store, now: now) }
    }

    private func renew(now: Date) async throws {
        let key = APIServerIdentity.key(identity.leaseName)
        let lease = identity.lease(now: now, duration: leaseDuration)
        try await KubernetesEndpoints.writeOwn(store, key, lease, fields: ["spec"], metadataFields: ["labels", "annotations"], now: now)
    }

    /// The endpoints of every live identity Lease; expired ones are deleted on the way.
    func liveEndpoints(now: Date) async throws -> [APIServerEndpoint] {
        var live: Set<APIServerEndpoint> = []
        var after: String?
        repeat {
            let page = try await store.list(prefix: APIServerIdentity.prefix, startAfter: after, limit: 500, atRevision: nil)
            for item in page.items where item.object[path: ["metadata", "labels", APIServerIdentity.identityLabel]]?.stringValue
                == APIServerIdentity.identityValue {
                if let endpoint = APIServerIdentity.endpoint(of: item.object, now: now) {
                    live.insert(endpoint)
                } else if APIServerIdentity.isExpired(item.object, now: now) {
                    _ = try? await store.delete(key: item.key) { cur in
                        guard cur.revision == item.revision else { throw StoreError.conflict(key: item.key, message: "renewed since read") }
                    }
                }
            }
            after = page.hasMore ? page.items.last?.key : nil
        } while after != nil
        return live.sorted()
    }
}
