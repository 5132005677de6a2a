import Foundation
import KubeModel
import Logging
import ServiceLifecycle

/// Empties namespaces marked for deletion, then removes them: the `kubernetes` finalizer's
/// job. The controller manager's NamespaceController does this normally; this in-server copy
/// runs only when the server runs without controllers (`--disable-controllers`,
/// `APIServerConfiguration.runsNamespaceCleaner`), so that namespaces still go away there.
struct NamespaceCleaner: Service {
    let registry: Registry
    let logger: Logger
    let retryInterval: Duration = .seconds(2)

    func run() async throws {
        let namespaces = registry.namespaces
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            // Level-triggered: every pass looks at all terminating namespaces.
            if let list = try? await registry.list(namespaces, version: "v1", namespace: nil, options: ListOptions()) {
                for ns in list.items where ns[path: ["metadata", "deletionTimestamp"]] != nil {
                    guard let name = ns.name else { continue }
                    await clean(name)
                }
            }
            await waitForChange(of: namespaces)
        }
    }

    /// Returns on a namespace being marked for deletion, after the retry interval, or at shutdown.
    private func waitForChange(of namespaces: any ResourceStrategy) async {
        guard let (events, cancel) = try? await registry.watch(namespaces, version: "v1", namespace: nil, options: watchOptions()) else {
            _ = try? await cancelWhenGracefulShutdown { try await Task.sleep(for: retryInterval) }
            return
        }
        _ = await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { for await e in events where e.object[path: ["metadata", "deletionTimestamp"]] != nil { break } }
                group.addTask { try? await Task.sleep(for: retryInterval) }
                await group.next()
                group.cancelAll()
                cancel()
            }
        }
        cancel()
    }

    private func watchOptions() -> ListOptions {
        var o = ListOptions()
        o.sendInitialEvents = false
        o.resourceVersionMatch = "NotOlderThan"
        return o
    }

    /// Deletes what the namespace holds; when nothing is left, drops the finalizer and the namespace.
    func clean(_ namespace: String) async {
        var remaining = 0
        for strategy in registry.catalog.strategies where strategy.definition.namespaced {
            let version = strategy.definition.storageVersion
            guard let r = try? await registry.deleteCollection(strategy, version: version, namespace: namespace,
                                                             listOptions: ListOptions(), deleteOptions: DeleteOptions()) else { remaining += 1; continue }
            if !r.items.isEmpty, let left = try? await registry.list(strategy, version: version, namespace: namespace, options: ListOptions()) {
                remaining += left.items.count
            }
        }
        guard remaining == 0 else { return }
        // Through `finalize`, as the NamespaceController does: the registry deletes the
        // namespace once its last finalizer is gone.
        do {
            var options = WriteOptions()
            options.fieldManager = "namespace-cleaner"
            _ = try await registry.guaranteedUpdate(registry.namespaces, version: "v1", namespace: nil, name: namespace, target: .finalize,
                                                    options: options) { current in
                var o = current
                let fins = (o[path: ["spec", "finalizers"]]?.arrayValue ?? []).filter { $0.stringValue != "kubernetes" }
                o[path: ["spec", "finalizers"]] = .array(fins)
                return o
            }
            if try await registry.find(registry.namespaces, namespace: nil, name: namespace) == nil {
                logger.info("namespace deleted", metadata: ["namespace": .string(namespace)])
            }
        } catch {
            logger.debug("namespace cleanup will retry", metadata: ["namespace": .string(namespace), "error": .string("\(error)")])
        }
    }
}
