import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

/// The kubelet's HTTPS server (port 10250 in Kubernetes), reached by the API server for
/// `kubectl logs` and `kubectl exec`:
///
///     GET /healthz
///     GET /containerLogs/{ns}/{pod}/{container}?follow&previous&tailLines&sinceSeconds&sinceTime&timestamps&limitBytes
///     GET /exec/{ns}/{pod}/{container}?command=…&stdin&stdout&stderr&tty   (WebSocket, v5/v4.channel.k8s.io)
///     GET /attach/{ns}/{pod}/{container}?stdin&stdout&stderr&tty   (WebSocket, as exec)
///     GET /portForward/{ns}/{pod}[?ports=…]   (WebSocket, SPDY/3.1+portforward.k8s.io or v4.channel.k8s.io)
///     GET /metrics/resource   (Prometheus text: node, pod and container CPU and memory)
///
/// Every route but `/healthz` needs the API server's client certificate (see `KubeletAuthMiddleware`).
public final class KubeletServer: Service, Sendable {
    let port: Int
    let bindAddress: String
    let clientCA: String
    let lookup: any PodLookup
    let runtime: any ContainerRuntime
    let logger: Logger
    let serving: (certificatePEM: String, keyPEM: String)?
    let serverNames: [String]
    let metrics: ResourceMetricsCollector?
    private let bound = BoundPort()

    /// - Parameters:
    ///   - port: 0 picks a free port; `boundPort()` tells which.
    ///   - clientCA: PEM of the cluster CA (from the kubelet's kubeconfig) that signs the API server's client certificate.
    ///   - servingCertificate: PEM certificate and key to serve; nil generates a self-signed one for
    ///     `serverNames` plus loopback, the host name and a specific `bindAddress`.
    public init(port: Int, bindAddress: String, clientCA: String, lookup: any PodLookup, runtime: any ContainerRuntime,
                logger: Logger, servingCertificate: (certificatePEM: String, keyPEM: String)? = nil, serverNames: [String] = [],
                metrics: ResourceMetricsCollector? = nil) {
        self.metrics = metrics
        self.port = port
        self.bindAddress = bindAddress
        self.clientCA = clientCA
        self.lookup = lookup
        self.runtime = runtime
        self.logger = logger
        self.serving = servingCertificate
        self.serverNames = serverNames
    }

    /// The port the server listens on, once it does.
    public func boundPort() async -> Int? { await bound.value }

    public func run() async throws {
        let cert = try serving ?? KubeletTLS.selfSigned(names: KubeletTLS.defaultNames(bindAddress: bindAddress, extra: serverNames))
        let tls = try KubeletTLS.configuration(servingCertificatePEM: cert.certificatePEM, servingKeyPEM: cert.keyPEM, clientCA: clientCA)

        let logs = ContainerLogsRoute(lookup: lookup, runtime: runtime)
        let router = Router(context: KubeletRequestContext.self)
        router.add(middleware: KubeletAuthMiddleware())
        router.get("/healthz") { _, _ in "ok" }
        router.get("/containerLogs/:ns/:pod/:container") { request, context in
            try await logs.respond(request, namespace: context.parameters.get("ns") ?? "", pod: context.parameters.get("pod") ?? "",
                                   container: context.parameters.get("container") ?? "")
        }
        if let metrics {
            let route = ResourceMetricsRoute(collector: metrics)
            router.get("/metrics/resource") { _, _ in await route.respond() }
        }
        // Exec over plain HTTP (SPDY, or no upgrade header) is not served: say so.
        router.on("/exec/:ns/:pod/:container", method: .post) { _, _ in
            KubeletStatus.response(code: 400, message: "exec needs a WebSocket upgrade (v5.channel.k8s.io or v4.channel.k8s.io); SPDY is not supported")
        }

        let exec = ExecWebSocket(lookup: lookup, runtime: runtime)
        let wsRouter = Router(context: KubeletRequestContext.self)
        wsRouter.add(middleware: KubeletAuthMiddleware())
        wsRouter.ws("/exec/:ns/:pod/:container", shouldUpgrade: { request, _ in exec.shouldUpgrade(request) }) { inbound, outbound, context in
            await exec.handle(inbound, outbound, context)
        }
        let attach = ExecWebSocket(lookup: lookup, runtime: runtime, attach: true)
        wsRouter.ws("/attach/:ns/:pod/:container", shouldUpgrade: { request, _ in attach.shouldUpgrade(request) }) { inbound, outbound, context in
            await attach.handle(inbound, outbound, context)
        }
        let portForward = PortForwardWebSocket(lookup: lookup, runtime: runtime, logger: logger)
        wsRouter.ws("/portForward/:ns/:pod", shouldUpgrade: { request, _ in portForward.shouldUpgrade(request) }) { inbound, outbound, context in
            await portForward.handle(inbound, outbound, context)
        }
        let ws = HTTP1WebSocketUpgradeChannel.Configuration(ws: .init(maxFrameSize: 1 << 20))
        let bound = self.bound
        let logger = self.logger
        let responder = router.buildResponder()
        // Hummingbird's `Application` would add a ServiceGroup with its own signal handlers
        // and a one-second date timer to each server; a fleet runs thousands of these servers
        // under the kubelet's own lifecycle, so the server is built bare and its `Date`
        // header comes from one process-wide cache.
        let server = try HTTPServerBuilder.tls(.http1WebSocketUpgrade(webSocketRouter: wsRouter, configuration: ws), tlsConfiguration: tls)
            .buildServer(configuration: .init(address: .hostname(bindAddress, port: port), serverName: "caravel-kubelet"),
                         eventLoopGroup: MultiThreadedEventLoopGroup.singleton, logger: logger,
                         responder: { request, writer, channel in
                             let context = KubeletRequestContext(source: .init(channel: channel, logger: logger))
                             var response: Response
                             do {
                                 response = try await responder.respond(to: request, context: context)
                             } catch let error as HTTPParserError {
                                 throw error  // the connection is unusable: no response to write
                             } catch {
                                 response = Response(status: .internalServerError)
                             }
                             response.headers[.date] = HTTPDateHeader.current
                             response.headers[.server] = "caravel-kubelet"
                             try await writer.write(response: response.head, body: response.body)
                         },
                         onServerRunning: { channel in
                             let port = channel.localAddress?.port
                             await bound.set(port)
                             logger.info("kubelet server listening", metadata: ["port": .stringConvertible(port ?? 0)])
                         })
        try await server.run()
    }
}

private actor BoundPort {
    var value: Int?
    func set(_ port: Int?) { value = port }
}
