import ServiceLifecycle

/// Sends a progress mark to every watcher at an interval; watchers that asked for bookmarks
/// turn it into a BOOKMARK, so clients can resume from a recent resourceVersion.
struct ProgressTicker: Service {
    let store: any Store
    let interval: Duration

    func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            // Shutdown must not wait out a whole interval.
            guard (try? await cancelWhenGracefulShutdown({ try await Task.sleep(for: interval) })) != nil else { return }
            store.broadcastProgress()
        }
    }
}
