import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import KubeModel
import Logging
import NIOCore
import NIOSSL
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
        let keys = try EncryptionKeys.loadOrCreate(path: config.encryptionKeysPath, rotate: config.rotateEncryptionKey)
        let storeMetrics = StoreMetrics()
        let backend = try await openStore(config, metrics: storeMetrics, logger: logger)
        // Secrets are sealed the same way whichever store holds them.
        let store = EncryptingStore(wrapping: backend.store, keys: keys)
        let pki = config.tls ? try PKI.ensure(directory: config.pkiDirectory, serverNames: serverNames(config)) : nil
        // ServiceAccount tokens: signed with a key of the data dir, so they outlive restarts.
        let serviceAccountKey = try ServiceAccountSigningKey.loadOrCreate(directory: config.pkiDirectory)
        // pods/log and pods/exec reach kubelets with the API server's kubelet client certificate.
        let kubelets = try KubeletClientConfig(clientCertificate: pki?.kubeletClient)
        let environment = ServerEnvironment(serviceAccountTokens: ServiceAccountTokenIssuer(key: serviceAccountKey), kubelets: kubelets)
        let webhooks = WebhookConfigurations()
        let registry = Registry(store: store, catalog: ResourceCatalog(strategies), admission: DefaultAdmission.chain(config, webhooks: webhooks),
                                environment: environment)
        if config.rotateEncryptionKey {
            // Before serving, so nothing is left under the old key once the server is ready.
            let n = try await store.reencryptAll()
            logger.notice("rotated the encryption key", metadata: ["key": .string(keys.primary.id), "reencrypted": .stringConvertible(n)])
        }
        try await bootstrap(registry)
        try await DefaultRoles.ensure(registry)
        try await bootstrapServices(registry, config)
        let endpointReconciler = APIServerEndpointReconciler(
            store: store, identity: APIServerIdentity(hostname: ProcessInfo.processInfo.hostName,
                                                      address: APIServerIdentity.advertiseAddress(configured: config.advertiseAddress,
                                                                                                  bindAddress: config.bindAddress),
                                                      port: config.port),
            leaseDuration: config.endpointLeaseDuration, clock: { Date() }, logger: logger)
        try await endpointReconciler.reconcile()
        try await bootstrapClusterDNSService(registry, config)
        try await bootstrapStorageClasses(registry)
        try await bootstrapPriorityClasses(registry)
        try writeKubeconfigs(config, pki: pki)
        if let pki { try await ClusterInfo.prepareJoin(registry, config: config, server: ClusterInfo.serverURL(config), pki: pki, logger: logger) }
        if let pki { try await ExtensionAPIServerAuthentication.publish(registry, caPEM: pki.ca.certificatePEM) }
        let tokens = try TokenFile.loadOrCreate(path: config.tokenFilePath)
        let health = HealthState()
        let audit = config.auditLevel == .none ? nil
            : AuditLog(path: config.auditLogPath, level: config.auditLevel, maxBytes: config.auditLogMaxSizeMiB << 20,
                       maxBackups: config.auditLogMaxBackups)
        let limiter = InflightLimiter(maxReadOnly: config.maxRequestsInflight, maxMutating: config.maxMutatingRequestsInflight,
                                      maxWatchesPerUser: config.maxWatchesPerUser)
        let authenticator = Authenticator(tokens: tokens, allowAnonymousAsAdmin: !config.tls, tokenAuthenticators: [
            TokenAuthenticationCache([
                ServiceAccountTokenAuthenticator(store: store, keys: [serviceAccountKey.publicKey]),
                BootstrapTokenAuthenticator(store: store),
            ], ttl: config.tokenCacheTTL),
        ])
        let nodeGraph = NodeAuthorizationGraph(store: store, logger: logger)
        let authorizer = NodeAuthorizer(store: store, graph: nodeGraph, next: RBACAuthorizer(store: store))
        let metricsAPIs = MetricsAPIs(registry: registry)
        // Aggregated API servers see the front-proxy client certificate and the X-Remote-* headers.
        let aggregated = AggregatedAPIs(clientIdentity: try pki.map {
            try FrontProxyIdentity(certificatePEM: $0.frontProxyClient.certificatePEM, keyPEM: $0.frontProxyClient.keyPEM)
        })
        let responder = APIResponder(registry: registry, metrics: RequestMetrics(store: storeMetrics), health: health,
                                     authenticator: authenticator, authorizer: authorizer, audit: audit, limiter: limiter,
                                     metricsAPIs: metricsAPIs, aggregated: aggregated)
        if !config.tls {
            logger.warning("TLS is off (--tls=false): plain HTTP and no authentication, for debugging only")
        }
        // exec's WebSocket upgrade is taken before the responder, every other request is as before.
        let exec = PodExecProxy(registry: registry, authenticator: authenticator, authorizer: authorizer, kubelets: kubelets, logger: logger)
        let portForward = PodPortForwardProxy(registry: registry, authenticator: authenticator, authorizer: authorizer, kubelets: kubelets, logger: logger)
        // Built by hand (not `.http1WebSocketUpgrade` and `.tls`) to put the connection timeouts
        // between TLS and HTTP decoding; Hummingbird's idle timeout covers keep-alive idling.
        let timeouts = config.connectionTimeouts
        let tls = try pki.map { try ServerTLS.configuration($0) }
        let wsConfiguration = HTTP1WebSocketUpgradeChannel.Configuration(
            http1: .init(idleTimeout: TimeAmount(timeouts.idle)), ws: .init(maxFrameSize: PodExecProxy.maxFrameSize))
        let server = HTTPServerBuilder { responder in
            let http = TimeoutChildChannel(base: HTTP1WebSocketUpgradeChannel(responder: responder, configuration: wsConfiguration) {
                let forwarded = await portForward.shouldUpgrade($0, channel: $1, logger: $2)
                if case .dontUpgrade = forwarded { return await exec.shouldUpgrade($0, channel: $1, logger: $2) }
                return forwarded
            }, timeouts: timeouts)
            return try tls.map { try ServerTLSChannel(http, tlsConfiguration: $0) } ?? http
        }
        // The store's closer first: services stop in reverse order, so it stops last.
        var services: [any Service] = backend.close.map { [StoreCloser(close: $0)] } ?? []
        services += [ProgressTicker(store: store, interval: config.bookmarkInterval), nodeGraph] as [any Service]
        if let audit { services.append(audit) }
        services.append(MetricsScraper(registry: registry, metrics: metricsAPIs, kubelets: kubelets, resolution: config.metricsResolution,
                                       logger: logger))
        if config.runsNamespaceCleaner { services.append(NamespaceCleaner(registry: registry, logger: logger)) }
        services.append(EventExpiry(registry: registry, ttl: config.eventTTL, logger: logger))
        services.append(endpointReconciler)
        services.append(CustomResourceServing(registry: registry, logger: logger))
        services.append(LocalAPIServices(registry: registry, extraGroups: MetricsAPIs.groups, logger: logger))
        services.append(APIServiceAvailability(registry: registry, apis: aggregated, interval: config.apiServiceCheckInterval, logger: logger))
        services.append(WebhookConfigurationWatcher(store: store, configurations: webhooks))
        return Application(
            responder: responder,
            server: server,
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

    /// The serving certificate's SANs: the defaults, the `kubernetes` Service's address in the
    /// configured range (what in-cluster clients dial), and a specific bind address.
    static func serverNames(_ config: APIServerConfiguration) -> [String] {
        var names = PKI.serverNames()
        if let range = ServiceIPRange(cidr: config.serviceClusterIPRange), !names.contains(range.firstAddress) {
            names.append(range.firstAddress)
        }
        if !["0.0.0.0", "::", ""].contains(config.bindAddress) && !names.contains(config.bindAddress) {
            names.append(config.bindAddress)
        }
        return names
    }

    /// Writes the admin kubeconfig (the real kubectl reads it as it is) and the controller
    /// manager's, each with its own client certificate when TLS is on.
    static func writeKubeconfigs(_ config: APIServerConfiguration, pki: PKI?) throws {
        var host = ["0.0.0.0", "::", ""].contains(config.bindAddress) ? "127.0.0.1" : config.bindAddress
        if host.contains(":") { host = "[\(host)]" }
        let server = "\(pki == nil ? "http" : "https")://\(host):\(config.port)"
        try KubeconfigWriter.write(KubeconfigWriter.text(server: server, user: "caravel-admin", ca: pki?.ca.certificatePEM,
                                                         client: pki?.admin), to: config.kubeconfigPath)
        try KubeconfigWriter.write(KubeconfigWriter.text(server: server, user: "system:kube-controller-manager",
                                                         ca: pki?.ca.certificatePEM, client: pki?.controllerManager),
                                   to: config.controllerManagerKubeconfigPath)
        if let node = config.nodeName {
            try KubeconfigWriter.write(KubeconfigWriter.text(server: server, user: "system:node:" + node,
                                                             ca: pki?.ca.certificatePEM, client: try pki?.nodeClient(node)),
                                       to: config.kubeletKubeconfigPath)
        }
    }
}
