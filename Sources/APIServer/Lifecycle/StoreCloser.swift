import ServiceLifecycle

/// Closes a store with connections of its own (etcd) when the server shuts down, after the
/// services that use it.
struct StoreCloser: Service {
    let close: @Sendable () -> Void

    func run() async throws {
        try? await gracefulShutdown()
        close()
    }
}
