import Foundation
import Hummingbird

/// The endpoints. Every handler answers text/plain so that curl output reads well.
func buildRouter(state: AppState) -> Router<BasicRequestContext> {
    let router = Router()
    router.middlewares.add(RequestLogMiddleware(state: state))
    let config = state.config

    router.get("/") { _, _ in
        text(.ok, "\(config.greeting) from \(config.instanceName)\n")
    }
    router.get("/healthz") { _, _ in
        state.live ? text(.ok, "ok\n") : text(.internalServerError, "liveness failing\n")
    }
    router.get("/readyz") { _, _ in
        if let reason = state.notReadyReason { return text(.serviceUnavailable, "not ready: \(reason)\n") }
        return text(.ok, "ready\n")
    }
    router.get("/startupz") { _, _ in
        state.startupComplete ? text(.ok, "started\n") : text(.serviceUnavailable, "starting\n")
    }
    router.post("/fail") { _, _ in
        state.failLiveness()
        return text(.ok, "liveness will fail from now on\n")
    }
    router.post("/ready") { request, _ in
        guard let raw = request.uri.queryParameters["value"], let value = parseBool(String(raw)) else {
            return text(.badRequest, "want ?value=true or ?value=false\n")
        }
        state.setReady(value)
        return text(.ok, "ready=\(value)\n")
    }
    router.get("/burn") { request, _ in
        let requested = request.uri.queryParameters["ms"].map { Int(String($0)) } ?? 100
        guard let ms = requested, ms >= 0 else {
            return text(.badRequest, "want ?ms=N (0...\(Burn.maxMilliseconds))\n")
        }
        let result = await Burn.run(milliseconds: ms)
        state.addBurn(seconds: result.cpuSeconds)
        return text(.ok, "\(result.wallMilliseconds)\n")
    }
    router.get("/metrics") { _, _ in
        text(.ok, MetricsText.render(state), contentType: MetricsText.contentType)
    }
    router.get("/config") { _, _ in
        text(.ok, ConfigDump.render(configDir: config.configDir, secretDir: config.secretDir))
    }
    router.get("/env") { request, _ in
        guard let name = request.uri.queryParameters["name"], !name.isEmpty else {
            return text(.badRequest, "want ?name=VARIABLE\n")
        }
        guard let value = ProcessInfo.processInfo.environment[String(name)] else {
            return text(.notFound, "\(name) is not set\n")
        }
        return text(.ok, value + "\n")
    }
    return router
}

private func text(_ status: HTTPResponse.Status, _ body: String,
                  contentType: String = "text/plain; charset=utf-8") -> Response {
    Response(status: status, headers: [.contentType: contentType], body: .init(byteBuffer: ByteBuffer(string: body)))
}

private func parseBool(_ s: String) -> Bool? {
    switch s.lowercased() {
    case "true", "1", "yes", "on": return true
    case "false", "0", "no", "off": return false
    default: return nil
    }
}
