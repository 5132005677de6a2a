import Foundation
import Hummingbird
import KubeModel
import Logging
import ServiceLifecycle

/// Builds the API server application exactly as `caravel server` runs it, so tests can
/// start the same thing in-process.
public enum APIServerBuilder {
    /// Namespaces that exist from the first start.
    static let systemNamespaces = ["default", "kube-system", "kube-public", "kube-node-lease"]

    public static func build(_ config: APIServerConfiguration, strategies: [any ResourceStrategy], logger: Logger)
        async throws -> some ApplicationProtocol
    {
        try FileManager.default.createDirectory(atPath: config.dataDirectory, withIntermediateDirectories: true)
        let store = try SQLiteStore(path: config.databasePath, historySize: config.watchCacheSize)
        let registry = Registry(store: store, catalog: ResourceCatalog(strategies))
        try await bootstrap(registry)
        try writeKubeconfig(config)
        let health = HealthState()
        let responder = APIResponder(registry: registry, openAPI: OpenAPIDocuments(definitions: strategies.map(\.definition)),
                                     metrics: RequestMetrics(), health: health)
        let services: [any Service] = [
            ProgressTicker(store: store, interval: config.bookmarkInterval),
            NamespaceCleaner(registry: registry, logger: logger),
        ]
        return Application(
            responder: responder,
            configuration: .init(address: .hostname(config.bindAddress, port: config.port), serverName: "caravel"),
            services: services,
            onServerRunning: { _ in
                health.markReady()
                logger.info("caravel API server ready", metadata: ["port": .stringConvertible(config.port), "kubeconfig": .string(config.kubeconfigPath)])
            },
            logger: logger
        )
    }

    /// Creates the system namespaces that do not exist yet.
    static func bootstrap(_ registry: Registry) async throws {
        let ns = registry.namespaces
        for name in systemNamespaces {
            let body: JSONValue = ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(name)]]
            do {
                _ = try await registry.create(ns, version: "v1", namespace: nil, body: body, options: WriteOptions())
            } catch {
                if error.code != 409 { throw error }
            }
        }
    }

    /// Writes the admin kubeconfig the real kubectl reads as it is.
    static func writeKubeconfig(_ config: APIServerConfiguration) throws {
        let host = config.bindAddress == "0.0.0.0" ? "127.0.0.1" : config.bindAddress
        let text = """
            apiVersion: v1
            kind: Config
            clusters:
            - name: caravel
              cluster:
                server: http://\(host):\(config.port)
            users:
            - name: caravel-admin
              user: {}
            contexts:
            - name: caravel
              context:
                cluster: caravel
                user: caravel-admin
                namespace: default
            current-context: caravel
            preferences: {}

            """
        let tmp = config.kubeconfigPath + ".tmp"
        try text.write(toFile: tmp, atomically: false, encoding: .utf8)
        _ = rename(tmp, config.kubeconfigPath)
    }
}
