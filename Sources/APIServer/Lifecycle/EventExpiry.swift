import Foundation
import KubeModel
import Logging
import ServiceLifecycle

/// Deletes Events last written more than `ttl` ago (`--event-ttl`, 1h by default). Kubernetes
/// stores each Event with an etcd lease of that length, renewed on every write; here a sweep
/// over the stored Events does the same, so a busy cluster's events do not grow without end.
struct EventExpiry: Service {
    let registry: Registry
    let ttl: Duration
    let logger: Logger

    /// A sweep every tenth of the TTL, at most a minute apart.
    var interval: Duration { min(ttl / 10, .seconds(60)) }

    func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let removed = await sweep(now: registry.clock())
            if removed > 0 { logger.debug("expired events", metadata: ["count": .stringConvertible(removed)]) }
            _ = try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }

    /// Deletes every expired Event; answers how many went.
    func sweep(now: Date) async -> Int {
        guard let events = registry.catalog.strategy(group: "", plural: "events") else { return 0 }
        let cutoff = now.addingTimeInterval(-Double(ttl.components.seconds))
        var removed = 0
        // A page that cannot be read ends the sweep; the next one starts over.
        try? await registry.forEachStoredPage(events) { page in
            for item in page {
                guard let event = try? JSONParser.parse(item.bytes), let written = Self.lastWritten(event), written < cutoff,
                      let name = event.name else { continue }
                var delete = DeleteOptions()
                // A repeat recorded since the list renews the event: it stays.
                delete.preconditionResourceVersion = event.resourceVersion
                if (try? await registry.delete(events, version: "v1", namespace: event.namespace, name: name, options: delete)) != nil {
                    removed += 1
                }
            }
        }
        return removed
    }

    /// The latest of the times an Event carries: its series' last observation, `lastTimestamp`,
    /// `eventTime`, and its creation.
    static func lastWritten(_ event: JSONValue) -> Date? {
        let candidates = [event[path: ["series", "lastObservedTime"]], event["lastTimestamp"], event["eventTime"],
                          event[path: ["metadata", "creationTimestamp"]]]
        return candidates.compactMap { $0?.stringValue.flatMap(Timestamp.parse) }.max()
    }
}
